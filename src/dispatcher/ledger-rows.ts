/**
 * What the call ledger and the capacity repository exchange: the rows of the shared call table as
 * this instance writes them, one flush's batch, the cluster's counts read back, and the key both
 * use for a gateway's or carrier's counts.
 */

/** One route of an answer, for moving the lease when the proxy fails over to the next. */
export interface LeaseRoute {
  readonly gateway: string
  /** The carrier the gateway was listed through; '' for none. */
  readonly carrier: string
}

/** A row of the shared table as this instance writes it (the whole row: offers are upserts). */
export interface LeaseRow {
  readonly partition: string
  readonly callId: string
  readonly gateway: string
  readonly carrier: string
  readonly routes: readonly LeaseRoute[]
  /** Index of `gateway` in `routes`, 0-based. */
  readonly position: number
  readonly state: 'lease' | 'call'
  readonly offeredAt: number
  readonly startedAt: number | null
  readonly expiresAt: number
}

/** Events on calls this instance does not know (offered by another instance, or forgotten). */
export interface CallEventRow {
  readonly partition: string
  readonly callId: string
  /** start: the answered gateway if the proxy named it; failover: the gateway that failed. */
  readonly gateway: string | null
  /** start: insert a call row when there is none (the named gateway is limited). */
  readonly insert: boolean
  readonly at: number
  readonly expiresAt: number
}

/** What one flush writes, applied in this order: offers, failovers, starts, ends. */
export interface LedgerBatch {
  readonly offers: LeaseRow[]
  readonly failovers: CallEventRow[]
  readonly starts: CallEventRow[]
  /** `until`: the end is remembered that long (the partition's lease TTL), so a late offer cannot revive the call. */
  readonly ends: Array<{ partition: string, callId: string, at: number, until: number }>
}

/** Counts per gateway or carrier at a sync: all calls (leases included), started ones, others' offers in the last second. */
export interface SharedCount {
  readonly calls: number
  readonly started: number
  readonly othersCps: number
}

/** Kind codes of count keys. */
export const GATEWAY = 'g'
export const CARRIER = 'c'

/** The key of a gateway's (GATEWAY) or carrier's (CARRIER) counts in the ledger. */
export const countKey = (partition: string, kind: typeof GATEWAY | typeof CARRIER, id: string): string => `${partition}\u0000${kind}\u0000${id}`

/** The same key for the counts the repository reads back. */
export const sharedKey = (partition: string, kind: 'gateway' | 'carrier', id: string): string => countKey(partition, kind === 'gateway' ? GATEWAY : CARRIER, id)
