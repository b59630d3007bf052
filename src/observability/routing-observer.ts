/**
 * What the routing endpoint reports per answer: counts by partition and result, decision latency,
 * per-gateway offers, E_CORE_THRESHOLD for a slow decision, and a debug line only when debug is on.
 * Cells are resolved once per partition and gateway, so an answer costs a few increments.
 */
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import type { Answer, Redecide, Route, RouteQuery, RoutingObserver } from '../routing/decide/decision.js'
import { DECISION_BUCKETS, type Metrics } from './metrics.js'
import { observe, type CounterCell, type HistogramCell } from './tally.js'
import { ownTimeUs } from './thresholds.js'

/** The label of answers for partitions that do not exist: names from queries must not mint series. */
export const UNKNOWN_PARTITION = '(unknown)'
const RESULTS = ['routed', 'no_route', 'no_destination', 'no_capacity', 'not_ready', 'unknown_partition', 'bad_request'] as const
type Result = typeof RESULTS[number]
const NO_ROUTES: readonly Route[] = Object.freeze([])
/** Runs of a decision that looked slow: it is reported only when slow by itself every time (see ownTimeUs). */
const RETIMES = 3

interface GatewayCells { readonly offered: CounterCell, readonly first: CounterCell }
interface PartitionCells {
  readonly answers: Record<Result, CounterCell>
  readonly latency: HistogramCell
  readonly gateways: Map<string, GatewayCells>
}

export interface RoutingObserverOptions {
  readonly metrics: Pick<Metrics, 'answers' | 'decisionSeconds' | 'offered' | 'offeredFirst'>
  /** Whether a partition exists (loaded or loading): only those get their own series. */
  readonly known: (partition: string) => boolean
  /** E_CORE_THRESHOLD for a decision slower than this (µs); 0 off. */
  readonly thresholdUs: number
  readonly onSlow: (timeUs: number, extra: Record<string, unknown>) => void
}

type LevelAware = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }

/** `prime` makes a loaded partition's series exist at 0 before its first call, so rate() works from the start. */
export function createRoutingObserver (options: RoutingObserverOptions): RoutingObserver & { prime: (partition: string) => void } {
  const { metrics, known, thresholdUs, onSlow } = options
  const partitions = new Map<string, PartitionCells>()
  let redecide: Redecide | undefined

  const cellsOf = (name: string): PartitionCells => {
    let cells = partitions.get(name)
    if (cells === undefined) {
      const answers = {} as Record<Result, CounterCell>
      for (const result of RESULTS) answers[result] = metrics.answers.cell(name, result)
      cells = { answers, latency: metrics.decisionSeconds.cell(name), gateways: new Map() }
      partitions.set(name, cells)
    }
    return cells
  }
  const gatewayOf = (cells: PartitionCells, partition: string, gateway: string): GatewayCells => {
    let found = cells.gateways.get(gateway)
    if (found === undefined) {
      found = { offered: metrics.offered.cell(partition, gateway), first: metrics.offeredFirst.cell(partition, gateway) }
      cells.gateways.set(gateway, found)
    }
    return found
  }

  return {
    prime (partition: string): void { cellsOf(partition) },
    decideWith (decide: Redecide): void { redecide = decide },
    answered (asked: string, callId: string | undefined, answer: Answer, started: number, log: FastifyBaseLogger, query?: RouteQuery, at?: number): void {
      const elapsedMs = performance.now() - started
      const outcome: Result = answer.outcome
      let partition = asked
      let cells = partitions.get(partition)
      if (cells === undefined) {
        if (!known(partition)) partition = UNKNOWN_PARTITION
        cells = cellsOf(partition)
      }
      cells.answers[outcome].value++
      observe(cells.latency, DECISION_BUCKETS, elapsedMs / 1000)
      const routes = answer.outcome === 'routed' ? answer.routes : NO_ROUTES
      for (let i = 0; i < routes.length; i++) {
        const gateway = gatewayOf(cells, partition, (routes[i] as Route).gatewayId)
        gateway.offered.value++
        if (i === 0) gateway.first.value++
      }
      const us = Math.round(elapsedMs * 1000)
      if (thresholdUs > 0 && us > thresholdUs) {
        // The request's wall time also holds what is not the decision's: the process descheduled
        // on a busy box, a GC pause. What counts is the decision run again, by itself, timed by CPU.
        const again = redecide
        const own = again !== undefined && query !== undefined && at !== undefined ? ownTimeUs(() => again(asked, query, at), thresholdUs, RETIMES) : us
        if (own > thresholdUs) onSlow(own, { partition, call_id: callId, result: outcome, request_us: us })
      }
      if ((log as LevelAware).isLevelEnabled?.('debug') === true) {
        const ruleId = answer.outcome === 'routed' ? answer.ruleId : undefined
        log.debug({ callId, partition, result: outcome, gateways: routes.map((r) => r.gatewayId), rule_id: ruleId, us }, 'routing answer')
      }
    }
  }
}
