/**
 * Capacity limits across instances: the call ledger in memory (what the decision reads), synced
 * with PostgreSQL every `syncMs`: this instance's events go in as one batch, the cluster's counts
 * come back. The routing path never waits for the database.
 *
 * Error bound (README, "Capacity limits"): an instance counts its own offers exactly and at once;
 * another instance's offers reach it after at most two sync intervals plus one flush (the other
 * flushes, then this one reads). So the calls a gateway can be offered beyond its limit are at
 * most the offers the *other* instances make to it within that window. With a max_cps set, that
 * is at most max_cps × (N − 1) × window. While the database is away, the other instances' counts
 * stay as last read and this instance's own calls are counted exactly (ends included).
 */
import { freeCapacity, limited, type GatewayHealthView, type Route } from '../routing/decide/decision.js'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { backoffDelay } from '../retry.js'
import type { PartitionSettings } from '../routing/routing-data.schema.js'
import { createCallLedger, type LedgerTimes, type LedgerUsage } from './call-ledger.js'
import type { LeaseRoute } from './ledger-rows.js'
import type { CapacityRepository } from './capacity.repository.js'

export const DEFAULT_LEASE_TTL_MS = 120_000
export const DEFAULT_MAX_CALL_MS = 4 * 3_600_000

export const ledgerTimes = (settings: PartitionSettings | Record<string, unknown>): LedgerTimes => {
  const s = settings as PartitionSettings
  return { leaseTtlMs: s.lease_ttl_ms ?? DEFAULT_LEASE_TTL_MS, maxCallMs: s.max_call_duration_ms ?? DEFAULT_MAX_CALL_MS }
}

export interface CapacityStoreOptions {
  readonly repository: Pick<CapacityRepository, 'flush' | 'counts' | 'sweep'>
  readonly log: Logger
  readonly now: () => number
  /** How often events are written and counts read. */
  readonly syncMs: number
  readonly retryMinMs: number
  readonly retryMaxMs: number
  /** Rows that stopped counting are deleted every this often (by every instance; the delete is idempotent). */
  readonly sweepEveryMs?: number
}

type UsageView = Required<Pick<GatewayHealthView, 'gatewayUsage' | 'carrierUsage'>>

/** Capacity accounting of this instance, synced with the cluster's in the background. */
export interface CapacityStore {
  /** This instance's name in the shared call table. */
  readonly instance: string
  /** The usage functions the decision reads, one object per partition (no allocation per query). */
  view: (partition: string) => UsageView
  gatewayUsage: (partition: string, gatewayId: string) => LedgerUsage | undefined
  carrierUsage: (partition: string, carrierId: string) => LedgerUsage | undefined
  /**
   * A partition's lease and call times (its settings), and whether any of its gateways or carriers
   * has a limit: set on every snapshot swap.
   */
  configure: (partition: string, settings: PartitionSettings | Record<string, unknown>, limits?: boolean) => void
  drop: (partition: string) => void
  /**
   * An answer was sent: its first route holds a lease when any route of the answer, or its
   * carrier, has a limit (the lease follows the proxy down the list on failover feedback).
   * Answers without a limited route are not accounted: nothing reads their counts.
   */
  onRouted: (partition: string, callId: string, routes: readonly Route[]) => void
  /** A branch to `gateway` failed (feedback): the proxy tries the next route, the lease goes with it. */
  failover: (partition: string, callId: string, gateway: string) => void
  /** The call was answered (on `gateway` if the proxy names it; `limitedGateway`: count it even without a lease). */
  started: (partition: string, callId: string, gateway: string | null, limitedGateway: boolean) => void
  ended: (partition: string, callId: string) => void
  /** For the metrics: events waiting for the database, and when the last sync succeeded (ms, 0: never). */
  stats: () => { backlog: number, lastSyncAt: number }
  /** Runs one sync now (tests, shutdown). */
  sync: () => Promise<void>
  start: () => void
  /** Stops the loop and writes what is queued, once. */
  stop: () => Promise<void>
}

export function createCapacityStore (options: CapacityStoreOptions): CapacityStore {
  const { repository, log, now } = options
  const ledger = createCallLedger()
  const instance = randomUUID()
  const times = new Map<string, LedgerTimes>()
  const views = new Map<string, UsageView>()
  const timesOf = (partition: string): LedgerTimes => times.get(partition) ?? { leaseTtlMs: DEFAULT_LEASE_TTL_MS, maxCallMs: DEFAULT_MAX_CALL_MS }
  let timer: NodeJS.Timeout | undefined
  /** Ticks run one at a time: two concurrent ones would each take a batch and lose the other's inflight counts. */
  let chain: Promise<void> = Promise.resolve()
  const serial = (): Promise<void> => (chain = chain.then(tick))
  let stopped = false
  let failures = 0
  let lastSweep = 0
  let lastSyncAt = 0
  /** The partitions with a limited gateway or carrier: while there are none, there is nothing to sync. */
  const limitedPartitions = new Set<string>()

  async function tick (): Promise<void> {
    const at = now()
    ledger.sweep(at)
    const batch = ledger.takeBatch()
    if (batch === undefined && limitedPartitions.size === 0) {
      // No limit here reads the counts and no event waits to be written: the database is left
      // alone (a query every syncMs was most of an idle instance's CPU). Up to date by definition.
      lastSyncAt = now()
      return
    }
    try {
      if (batch !== undefined) await repository.flush(batch, instance)
      ledger.applyShared(await repository.counts(now(), instance))
      if (at - lastSweep >= (options.sweepEveryMs ?? 10_000)) {
        lastSweep = at
        await repository.sweep(at)
      }
      if (failures > 0) log.info({ failures }, 'capacity counts syncing again')
      failures = 0
      lastSyncAt = now()
    } catch (err) {
      if (batch !== undefined) ledger.restoreBatch(batch)
      if (failures++ === 0) log.warn({ err: err instanceof Error ? err.message : String(err) }, 'capacity counts not synced; counting own calls in memory')
    }
  }

  function schedule (): void {
    if (stopped) return
    const delay = failures === 0 ? options.syncMs : backoffDelay(failures - 1, options.retryMinMs, options.retryMaxMs, Math.random)
    timer = setTimeout(() => { void serial().finally(schedule) }, delay)
    timer.unref()
  }

  return {
    instance,

    view (partition) {
      let view = views.get(partition)
      if (view === undefined) {
        view = {
          gatewayUsage: (gatewayId) => ledger.gateway(partition, gatewayId, now()),
          carrierUsage: (carrierId) => ledger.carrier(partition, carrierId, now())
        }
        views.set(partition, view)
      }
      return view
    },

    gatewayUsage: (partition, gatewayId) => ledger.gateway(partition, gatewayId, now()),
    carrierUsage: (partition, carrierId) => ledger.carrier(partition, carrierId, now()),

    configure (partition, settings, limits = true) {
      times.set(partition, ledgerTimes(settings))
      const had = limitedPartitions.size > 0
      if (limits) limitedPartitions.add(partition)
      else limitedPartitions.delete(partition)
      // Limits appeared: read the cluster's counts now rather than at the next interval.
      if (!had && limits && timer !== undefined && !stopped) void serial()
    },

    drop (partition) {
      times.delete(partition)
      limitedPartitions.delete(partition)
      views.delete(partition)
    },

    onRouted (partition, callId, routes) {
      let any = false
      for (const route of routes) {
        if (limited(route.gateway) || (route.carrier !== undefined && limited(route.carrier))) {
          any = true
          break
        }
      }
      if (!any) return
      const leaseRoutes: LeaseRoute[] = routes.map((r) => ({ gateway: r.gatewayId, carrier: r.carrier?.id ?? '' }))
      ledger.offer(partition, callId, leaseRoutes, timesOf(partition), now())
    },

    failover (partition, callId, gateway) {
      ledger.failover(partition, callId, gateway, timesOf(partition), now())
    },

    started (partition, callId, gateway, limitedGateway) {
      ledger.start(partition, callId, gateway, limitedGateway, timesOf(partition), now())
    },

    ended (partition, callId) {
      ledger.end(partition, callId, timesOf(partition), now())
    },

    stats: () => ({ backlog: ledger.backlog(), lastSyncAt }),
    sync: serial,

    start () {
      stopped = false
      schedule()
    },

    async stop () {
      stopped = true
      clearTimeout(timer)
      await serial()
    }
  }
}

/** A limited gateway's or carrier's capacity as the state endpoint and the metrics show it. */
export interface CapacityDescription {
  readonly max_calls: number | null
  readonly max_cps: number | null
  /** Offered and not ended (leases + started calls). */
  readonly calls: number
  readonly started: number
  readonly leases: number
  /** New calls in the last second. */
  readonly cps: number
  /** Relative free capacity, 0 (full) to 1. */
  readonly free: number
}

export function describeCapacity (limits: { readonly maxCalls: number, readonly maxCps: number }, usage: LedgerUsage | undefined): CapacityDescription | null {
  if (!limited(limits)) return null
  const calls = usage?.calls ?? 0
  const started = Math.min(usage?.started ?? 0, calls)
  return {
    max_calls: limits.maxCalls === Infinity ? null : limits.maxCalls,
    max_cps: limits.maxCps === Infinity ? null : limits.maxCps,
    calls,
    started,
    leases: calls - started,
    cps: usage?.cps ?? 0,
    free: freeCapacity(limits, usage)
  }
}
