/**
 * E_CORE_THRESHOLD (slow decisions, queries, reloads) and E_CORE_HEAP_THRESHOLD (heap usage over a
 * percentage), after OpenSIPS's core events. Every slow occurrence is counted; the events are
 * rate-limited per source so an overloaded box is not also flooded with its own alerts.
 */
import { performance } from 'node:perf_hooks'
import v8 from 'node:v8'
import type { Logger } from 'pino'
import type { EventBus, ThresholdEvent } from '../events.js'
import type { Metrics } from './metrics.js'
import type { ObservabilityConfig } from './observability-config.js'

export type ThresholdSource = ThresholdEvent['source']

export interface ThresholdsOptions {
  readonly bus: EventBus
  readonly metrics: Pick<Metrics, 'thresholds'>
  readonly log: Logger
  /** Limits in µs; 0 turns a source off. */
  readonly limits: Readonly<Record<ThresholdSource, number>>
  readonly now?: () => number
  /** At most one event per source in this window; the next one says how many were held back. */
  readonly minIntervalMs?: number
}

export interface Thresholds {
  /** Raises E_CORE_THRESHOLD when `timeUs` is over the source's limit; true when it was over. */
  check: (source: ThresholdSource, timeUs: number, extra: Record<string, unknown>) => boolean
  readonly limits: Readonly<Record<ThresholdSource, number>>
}

/** Each source's limit, from the observability settings. */
export function thresholdLimits (config: Pick<ObservabilityConfig, 'routingThresholdUs' | 'dbThresholdUs' | 'reloadThresholdUs'>): Record<ThresholdSource, number> {
  return { routing_decision: config.routingThresholdUs, db_query: config.dbThresholdUs, reload: config.reloadThresholdUs }
}

/** The database's onQuery hook: a query over its limit raises E_CORE_THRESHOLD with its first 200 characters. */
export function queryTimeCheck (thresholds: Pick<Thresholds, 'check'>): (durationMs: number, sql: string) => void {
  return (durationMs, sql) => { thresholds.check('db_query', durationMs * 1000, { sql: sql.slice(0, 200) }) }
}

/**
 * The work of `run` by itself (µs): the smaller of its CPU time and its wall time, over up to
 * `tries` runs (stopping at the first one within `limitUs`). CPU time leaves out the time the
 * process waited (descheduled, I/O); the wall time caps what other threads of the process add to
 * the process-wide CPU count meanwhile (V8's compiler and collector threads, the libuv pool). That
 * cap fails when such a thread is busy for the whole run: Node 20 has no per-thread CPU clock
 * (process.threadCpuUsage is Node 23.9+; /proc/thread-self/schedstat lags by up to a tick), so a
 * run is repeated instead, and only work that is slow every time counts. Two getrusage calls
 * (~1-2 µs) per run: only for a decision that already looked slow.
 */
export function ownTimeUs (run: () => unknown, limitUs = 0, tries = 1): number {
  let least = Infinity
  for (let i = 0; i < tries && least > limitUs; i++) {
    const cpu = process.cpuUsage()
    const wall = performance.now()
    run()
    const wallUs = (performance.now() - wall) * 1000
    const used = process.cpuUsage(cpu)
    least = Math.min(least, wallUs, used.user + used.system)
  }
  return least
}

export function createThresholds (options: ThresholdsOptions): Thresholds {
  const { bus, metrics, log, limits } = options
  const now = options.now ?? Date.now
  const minIntervalMs = options.minIntervalMs ?? 1000
  const last = new Map<ThresholdSource, number>()
  const held = new Map<ThresholdSource, number>()
  return {
    limits,
    check (source, timeUs, extra) {
      const limit = limits[source]
      if (limit <= 0 || timeUs <= limit) return false
      metrics.thresholds.inc({ source })
      const t = now()
      const previous = last.get(source)
      if (previous !== undefined && t - previous < minIntervalMs) {
        held.set(source, (held.get(source) ?? 0) + 1)
        return true
      }
      last.set(source, t)
      const suppressed = held.get(source) ?? 0
      held.delete(source)
      const event: ThresholdEvent = { source, time_us: Math.round(timeUs), threshold_us: limit, extra: suppressed > 0 ? { ...extra, suppressed } : extra }
      log.warn({ event: 'E_CORE_THRESHOLD', ...event }, `${source} took ${Math.round(timeUs)} µs (threshold ${limit} µs)`)
      bus.emit('E_CORE_THRESHOLD', event)
      return true
    }
  }
}

export interface HeapReading { readonly used: number, readonly size: number }

/** V8's view: the heap in use against the limit it may grow to (what runs out first). */
export function readHeap (): HeapReading {
  const stats = v8.getHeapStatistics()
  return { used: stats.used_heap_size, size: stats.heap_size_limit }
}

export interface HeapMonitorOptions {
  readonly bus: EventBus
  readonly log: Logger
  /** Percent; 0 turns the monitor off. */
  readonly thresholdPercent: number
  readonly intervalMs: number
  readonly read?: () => HeapReading
}

export interface HeapMonitor {
  /** One reading now; true when it raised the event. */
  check: () => boolean
  /** Checks every intervalMs (not when the threshold is 0). */
  start: () => void
  stop: () => void
}

/** Percentage points below the threshold usage must fall before a new crossing can raise again. */
export const HEAP_REARM_MARGIN = 5

/**
 * Raised when usage crosses the threshold upwards, not on every tick above it; re-armed once usage
 * is back under the threshold by HEAP_REARM_MARGIN points, so hovering at the line does not flap.
 */
export function createHeapMonitor (options: HeapMonitorOptions): HeapMonitor {
  const { bus, log, thresholdPercent } = options
  const read = options.read ?? readHeap
  let armed = true
  let timer: NodeJS.Timeout | undefined
  const check = (): boolean => {
    if (thresholdPercent <= 0) return false
    const { used, size } = read()
    const usage = size > 0 ? Math.round((used / size) * 10_000) / 100 : 0
    if (usage < thresholdPercent - HEAP_REARM_MARGIN) armed = true
    if (!armed || usage < thresholdPercent) return false
    armed = false
    const event = { usage, threshold: thresholdPercent, used, size }
    log.warn({ event: 'E_CORE_HEAP_THRESHOLD', ...event }, `heap usage ${usage} % is over ${thresholdPercent} %`)
    bus.emit('E_CORE_HEAP_THRESHOLD', event)
    return true
  }
  return {
    check,
    start () {
      if (thresholdPercent <= 0 || timer !== undefined) return
      timer = setInterval(check, options.intervalMs)
      timer.unref()
    },
    stop () {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    }
  }
}
