/**
 * Call accounting for capacity limits, as one instance sees it (no I/O: the capacity store moves
 * batches to PostgreSQL and brings the cluster's counts back).
 *
 * A call rtroute offers to a limited gateway (or carrier) holds a lease from the answer until the
 * proxy reports it started, then counts as a call until it reports the end. Both kinds occupy
 * capacity (a ringing call holds a channel on the gateway). A lease past its TTL and a call past
 * the maximum duration stop counting on their own, so a lost end report or a crashed proxy cannot
 * leak capacity forever.
 *
 * What a gateway carries, seen from here:
 *   shared   the cluster's rows at the last sync (every instance's flushed events)
 * + inflight the changes of the batch being written now (dropped once the next read includes it)
 * + pending  the changes since that batch was taken
 * New calls per second are counted from this instance's own offers (exact, a 1 s sliding window)
 * plus the other instances' offers of the last second as of the last sync.
 */
import type { Usage } from '../routing/decide/decision.js'
import { CARRIER, countKey, GATEWAY, type LeaseRoute, type LeaseRow, type LedgerBatch, type SharedCount } from './ledger-rows.js'
import { RateWindow } from './rate-window.js'

export interface LedgerTimes {
  readonly leaseTtlMs: number
  readonly maxCallMs: number
}

export interface LedgerUsage extends Usage {
  readonly started: number
}

/** Every method takes the time: the ledger has no clock of its own. */
export interface CallLedger {
  /**
   * The proxy was given `routes` for a new call: the first route's gateway (and carrier) holds a
   * lease now. The same Call-ID offered again replaces its lease.
   */
  offer: (partition: string, callId: string, routes: readonly LeaseRoute[], times: LedgerTimes, now: number) => void
  /** A branch to `gateway` failed: the lease moves to the next route (the proxy tries it next), or ends after the last. */
  failover: (partition: string, callId: string, gateway: string, times: LedgerTimes, now: number) => void
  /**
   * The call was answered: its lease becomes a call, on `gateway` when the proxy names it.
   * `insert`: count it even without a lease (the gateway is limited and the lease is gone).
   */
  start: (partition: string, callId: string, gateway: string | null, insert: boolean, times: LedgerTimes, now: number) => void
  /** The call ended (BYE, CANCEL, final failure): it stops counting. Unknown calls are ended in the database. */
  end: (partition: string, callId: string, times: LedgerTimes, now: number) => void
  /** Leases and calls past their time stop counting here (the database stops counting them by expires_at); returns how many. */
  sweep: (now: number) => number
  gateway: (partition: string, gatewayId: string, now: number) => LedgerUsage | undefined
  carrier: (partition: string, carrierId: string, now: number) => LedgerUsage | undefined
  /** Starts a flush: the events so far leave the batch, their counts move to inflight. */
  takeBatch: () => LedgerBatch | undefined
  /** The flush failed: its events go back in front of the newer ones, its counts back to pending. */
  restoreBatch: (taken: LedgerBatch) => void
  /** The cluster's counts, read after the flush: they include everything inflight. */
  applyShared: (counts: ReadonlyMap<string, SharedCount>) => void
  /** Events waiting for the database (a metric). */
  backlog: () => number
}

interface Delta { calls: number, started: number }

const callKeyOf = (partition: string, callId: string): string => `${partition}\u0000${callId}`

export interface LedgerOptions {
  /** Calls remembered for exact local counting; past it the oldest are forgotten (their rows stay in the database). */
  readonly maxKnownCalls?: number
}

export function createCallLedger (options: LedgerOptions = {}): CallLedger {
  const maxKnown = options.maxKnownCalls ?? 200_000
  let shared: ReadonlyMap<string, SharedCount> = new Map()
  let inflight = new Map<string, Delta>()
  let pending = new Map<string, Delta>()
  const rates = new Map<string, RateWindow>()
  /** Calls this instance offered or touched, by partition + Call-ID, in insertion order. */
  const known = new Map<string, LeaseRow>()
  let batch: LedgerBatch = { offers: [], failovers: [], starts: [], ends: [] }
  /** Offers in the batch by call key, so a later offer or event on the same call replaces the row. */
  let batchOffers = new Map<string, number>()

  const adjust = (key: string, calls: number, started: number): void => {
    const d = pending.get(key)
    if (d === undefined) pending.set(key, { calls, started })
    else {
      d.calls += calls
      d.started += started
    }
  }
  const count = (row: LeaseRow, sign: 1 | -1): void => {
    const started = row.state === 'call' ? sign : 0
    adjust(countKey(row.partition, GATEWAY, row.gateway), sign, started)
    if (row.carrier !== '') adjust(countKey(row.partition, CARRIER, row.carrier), sign, started)
  }
  const rate = (key: string, now: number): void => {
    let window = rates.get(key)
    if (window === undefined) rates.set(key, window = new RateWindow())
    window.add(now)
  }
  const offered = (row: LeaseRow, now: number): void => {
    rate(countKey(row.partition, GATEWAY, row.gateway), now)
    if (row.carrier !== '') rate(countKey(row.partition, CARRIER, row.carrier), now)
  }
  /** Replaces the call's row: counted here at once, written as a whole by the next flush. */
  const put = (key: string, row: LeaseRow | undefined): void => {
    const old = known.get(key)
    if (old !== undefined) {
      count(old, -1)
      known.delete(key)
    }
    if (row === undefined) return
    count(row, 1)
    known.set(key, row)
    const at = batchOffers.get(key)
    if (at === undefined) {
      batchOffers.set(key, batch.offers.length)
      batch.offers.push(row)
    } else {
      batch.offers[at] = row
    }
    if (known.size > maxKnown) {
      // Forgotten, not lost: the row is (or will be) in the database and the next sync counts it.
      const oldest = known.keys().next().value as string
      known.delete(oldest)
    }
  }
  const sum = (partition: string, kind: typeof GATEWAY | typeof CARRIER, id: string, now: number): LedgerUsage | undefined => {
    const key = countKey(partition, kind, id)
    const s = shared.get(key)
    const i = inflight.get(key)
    const p = pending.get(key)
    const window = rates.get(key)
    if (s === undefined && i === undefined && p === undefined && window === undefined) return undefined
    return {
      calls: Math.max(0, (s?.calls ?? 0) + (i?.calls ?? 0) + (p?.calls ?? 0)),
      started: Math.max(0, (s?.started ?? 0) + (i?.started ?? 0) + (p?.started ?? 0)),
      cps: (s?.othersCps ?? 0) + (window?.count(now) ?? 0)
    }
  }
  const backlog = (): number => batch.offers.length + batch.failovers.length + batch.starts.length + batch.ends.length

  return {
    offer (partition, callId, routes, times, now) {
      const first = routes[0]
      if (first === undefined) return
      const row: LeaseRow = {
        partition, callId, gateway: first.gateway, carrier: first.carrier, routes, position: 0, state: 'lease', offeredAt: now, startedAt: null, expiresAt: now + times.leaseTtlMs
      }
      put(callKeyOf(partition, callId), row)
      offered(row, now)
    },

    failover (partition, callId, gateway, times, now) {
      const key = callKeyOf(partition, callId)
      const row = known.get(key)
      if (row === undefined) {
        batch.failovers.push({ partition, callId, gateway, insert: false, at: now, expiresAt: now + times.leaseTtlMs })
        return
      }
      if (row.state !== 'lease' || row.gateway !== gateway) return
      const next = row.routes[row.position + 1]
      if (next === undefined) {
        put(key, undefined)
        batch.ends.push({ partition, callId, at: now, until: now + times.leaseTtlMs })
        return
      }
      const moved: LeaseRow = { ...row, gateway: next.gateway, carrier: next.carrier, position: row.position + 1, offeredAt: now, expiresAt: now + times.leaseTtlMs }
      put(key, moved)
      offered(moved, now)
    },

    start (partition, callId, gateway, insert, times, now) {
      const key = callKeyOf(partition, callId)
      const row = known.get(key)
      const expiresAt = now + times.maxCallMs
      if (row === undefined) {
        batch.starts.push({ partition, callId, gateway, insert, at: now, expiresAt })
        return
      }
      let on = row
      if (gateway !== null && gateway !== row.gateway) {
        const position = row.routes.findIndex((r) => r.gateway === gateway)
        on = { ...row, gateway, carrier: position < 0 ? '' : (row.routes[position] as LeaseRoute).carrier, position: Math.max(position, 0) }
      }
      put(key, { ...on, state: 'call', startedAt: row.startedAt ?? now, expiresAt })
    },

    end (partition, callId, times, now) {
      const key = callKeyOf(partition, callId)
      // An offer of the same call still in the batch is written, then ended by this end.
      if (known.has(key)) put(key, undefined)
      batch.ends.push({ partition, callId, at: now, until: now + times.leaseTtlMs })
    },

    sweep (now) {
      let expired = 0
      for (const [key, row] of known) {
        if (row.expiresAt > now) continue
        count(row, -1)
        known.delete(key)
        expired++
      }
      for (const [key, window] of rates) if (window.count(now) === 0) rates.delete(key)
      return expired
    },

    gateway: (partition, gatewayId, now) => sum(partition, GATEWAY, gatewayId, now),
    carrier: (partition, carrierId, now) => sum(partition, CARRIER, carrierId, now),

    takeBatch () {
      if (backlog() === 0) {
        inflight = pending
        pending = new Map()
        return undefined
      }
      const taken = batch
      batch = { offers: [], failovers: [], starts: [], ends: [] }
      batchOffers = new Map()
      inflight = pending
      pending = new Map()
      return taken
    },

    restoreBatch (taken) {
      for (const [key, d] of inflight) adjust(key, d.calls, d.started)
      inflight = new Map()
      const offers = new Map<string, LeaseRow>()
      for (const row of taken.offers) offers.set(callKeyOf(row.partition, row.callId), row)
      for (const row of batch.offers) offers.set(callKeyOf(row.partition, row.callId), row)
      batch = {
        offers: [...offers.values()],
        failovers: [...taken.failovers, ...batch.failovers],
        starts: [...taken.starts, ...batch.starts],
        ends: [...taken.ends, ...batch.ends]
      }
      batchOffers = new Map([...offers.keys()].map((key, i) => [key, i]))
    },

    applyShared (counts) {
      shared = counts
      inflight = new Map()
    },

    backlog
  }
}
