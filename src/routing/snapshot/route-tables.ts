/**
 * The loaded partitions: one immutable compiled snapshot each, swapped atomically, updated from the change log (incremental.ts),
 * by comparing every row (verify.ts) or reloaded in full; runs are serialised per partition and coalesced, a failed one keeps serving the previous snapshot. Each partition
 * is a status identifier in group `routing` (-2 no data, -1 loading, 1 ready, 2 reloading) that the routing endpoint and /readyz
 * read; a required partition keeps its identifier (-2) while it does not exist, so that /readyz waits.
 */
import { type CompiledPartition, type PartitionHead } from './compiled.js'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { backoffDelay } from '../../retry.js'
import { isConnectionError } from '../../db-errors.js'
import type { Group, Identifier } from '../../status/status-registry.js'
import { RING_SIZES } from '../../status/status-registry.js'
import type { SnapshotRepository } from './snapshot.repository.js'
import { followChanges, type Applied } from './incremental.js'
import { followVerify } from './verify.js'
import { compileRouteTableFromPages, formatLoadCounts, COMPILE_SLICE_MS, reportLoad } from './route-table.js'
import type { SnapshotState } from './snapshot-state.js'
import { STRENGTH, type Lookup, type ReloadHow, type ReloadOutcome } from './tables-contract.js'

export { requireTable, type Lookup, type ReloadHow, type ReloadOutcome } from './tables-contract.js'

/** Status values of a partition's identifier, as drouting uses them. */
export const PARTITION_STATUS = Object.freeze({ noData: -2, loading: -1, ready: 1, reloading: 2 })

export interface RouteTables {
  lookup: (partition: string) => Lookup
  /** The identifier of a loaded or loading partition. */
  identifier: (partition: string) => Identifier | undefined
  /** Reloads one partition now (coalesced with a running reload), `how` it says (default full). */
  reload: (partition: string, how?: ReloadHow) => Promise<ReloadOutcome>
  /** Asks for an update (change log first), debounced: what a NOTIFY does. */
  notify: (partition: string) => void
  /** Compares every partition's data version with what is loaded; loads new or changed ones, drops removed ones. */
  sweep: (reason: string) => Promise<void>
  partitions: () => string[]
  readonly discovered: boolean
  stop: () => void
}

export interface RouteTablesOptions {
  readonly repository: SnapshotRepository
  /** The `routing` status group (required for readiness). */
  readonly group: Group
  readonly log: Logger
  /** Delay that folds a burst of notifications into one reload. */
  readonly debounceMs: number
  /** After a snapshot is swapped in, with the partition's settings (gateway health listens here). */
  readonly onLoad?: (partition: string, table: CompiledPartition, data: PartitionHead) => void
  readonly onRemove?: (partition: string) => void
  /** Every finished reload, failed ones too (E_PARTITION_RELOAD, reload metrics). */
  readonly onReloaded?: (outcome: ReloadOutcome) => void
  /** Backoff of the retries after a reload or sweep failed for want of a database (defaults 250 / 10000). */
  readonly retryMinMs?: number
  readonly retryMaxMs?: number
  /** Partitions readiness waits for: each must exist and be loaded (the default partition, and any configured). */
  readonly required?: readonly string[]
}

interface Slot {
  table: CompiledPartition | undefined
  /** What an incremental update needs; dropped when one fails (the next change loads in full). */
  state: SnapshotState | undefined
  /** The strongest reload asked for since the last one started. */
  how: ReloadHow
  pending: boolean
  readonly identifier: Identifier
  running: Promise<ReloadOutcome> | undefined
  queued: Promise<ReloadOutcome> | undefined
  debounce: NodeJS.Timeout | undefined
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))
/** The database went away or did not answer in time: worth retrying. A bad row or a bug is not. */
const transient = (err: unknown): boolean => isConnectionError(err) || /timeout/i.test(message(err))
/** The retry key of the sweep: no partition can be named so. */
const SWEEP = ' sweep'

export function createRouteTables (options: RouteTablesOptions): RouteTables {
  const { group, log, repository } = options
  const slots = new Map<string, Slot>()
  let discovered = false
  let stopped = false
  const attempts = new Map<string, number>()
  const retryTimers = new Map<string, NodeJS.Timeout>()
  const required = new Set(options.required ?? [])
  const NO_DATA = { status: PARTITION_STATUS.noData, details: 'no data loaded', ringSize: RING_SIZES.partition }
  for (const name of required) group.ensure(name, NO_DATA)
  /** A required partition the database does not hold: not ready, saying why, until it is created. */
  const absent = (name: string): void => {
    const identifier = group.ensure(name, NO_DATA)
    const why = `partition ${JSON.stringify(name)} does not exist (required for readiness)`
    if (identifier.status === PARTITION_STATUS.noData && identifier.details === `no data loaded: ${why}`) return
    identifier.set(PARTITION_STATUS.noData, `no data loaded: ${why}`)
    identifier.report(why)
  }

  /**
   * A reload (or sweep) that failed because the database was away is tried again with backoff,
   * so a change a notification announced is not left waiting for the next periodic sweep.
   */
  const retryLater = (key: string, fn: () => void): void => {
    if (stopped || retryTimers.has(key)) return
    const attempt = (attempts.get(key) ?? 0) + 1
    attempts.set(key, attempt)
    const timer = setTimeout(() => { retryTimers.delete(key); fn() }, backoffDelay(attempt - 1, options.retryMinMs ?? 250, options.retryMaxMs ?? 10_000, Math.random))
    timer.unref()
    retryTimers.set(key, timer)
  }
  const succeeded = (key: string): void => {
    attempts.delete(key)
    clearTimeout(retryTimers.get(key))
    retryTimers.delete(key)
  }

  const slot = (name: string): Slot => {
    let found = slots.get(name)
    if (found === undefined) {
      const identifier = group.ensure(name, NO_DATA)
      group.ensure(`${name};events`, { status: 1, details: 'gateway state changes', ringSize: RING_SIZES.events })
      found = { table: undefined, state: undefined, how: 'changes', pending: false, identifier, running: undefined, queued: undefined, debounce: undefined }
      slots.set(name, found)
    }
    return found
  }

  const remove = (name: string): void => {
    const found = slots.get(name)
    if (found?.debounce !== undefined) clearTimeout(found.debounce)
    succeeded(name)
    slots.delete(name)
    if (required.has(name)) absent(name)
    else group.remove(name)
    group.remove(`${name};events`)
    options.onRemove?.(name)
    log.info({ partition: name }, `partition ${name} removed: its snapshot is dropped`)
  }

  /**
   * The loaded snapshot brought up to date without a full read: from the change log (`changes`)
   * or by comparing every row (`verify`). 'full' when that way cannot tell (the state is kept for
   * the next way), undefined when it failed or the partition is gone (the state is dropped).
   */
  async function update (name: string, s: Slot, how: 'changes' | 'verify', elapsed: () => number): Promise<ReloadOutcome | 'full' | undefined> {
    const { table, state } = s
    const { changes, verify } = repository
    if (table === undefined || state === undefined) return undefined
    s.state = undefined
    let applied: Applied | 'none' | 'full' | undefined = 'full'
    if (how === 'changes' && changes !== undefined) applied = await followChanges(changes, name, table, state, log)
    if (how === 'verify' && verify !== undefined) {
      // Reported as drouting reports a reload: reloading (still ready), then the counts.
      s.identifier.set(PARTITION_STATUS.reloading, 'data re-verifying')
      s.identifier.report('starting DB data verification')
      applied = await followVerify(verify, name, table, state, log)
    }
    if (applied === undefined) return undefined
    s.state = state
    if (applied === 'full') return 'full'
    const mode = how === 'changes' ? 'incremental' : 'verified'
    if (applied === 'none') return { partition: name, ok: true, version: table.version, checksum: table.checksum, durationMs: elapsed(), mode }
    s.table = applied.table
    if (applied.head) options.onLoad?.(name, applied.table, state.head)
    const { version, checksum } = applied.table
    s.identifier.set(PARTITION_STATUS.ready, `data available ${checksum}`)
    if (how === 'verify') {
      s.identifier.report(`DB data verification successfully completed: ${applied.rules} rules read again`)
      s.identifier.report(formatLoadCounts(applied.counts))
    }
    succeeded(name)
    return { partition: name, ok: true, version, checksum, counts: applied.counts, durationMs: elapsed(), mode }
  }

  async function run (name: string, how: ReloadHow): Promise<ReloadOutcome> {
    const s = slot(name)
    const { identifier } = s
    const started = performance.now()
    const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000
    // The change log first, then a comparison of every row, then a full read: each way falls
    // back to the next when it cannot tell.
    const ways: ReadonlyArray<'changes' | 'verify'> = how === 'changes' ? ['changes', 'verify'] : how === 'verify' ? ['verify'] : []
    for (const way of ways) {
      const updated = await update(name, s, way, elapsed)
      if (updated === undefined) break
      if (updated !== 'full') return updated
    }
    s.state = undefined
    if (s.table === undefined) identifier.set(PARTITION_STATUS.loading, 'startup data loading')
    else identifier.set(PARTITION_STATUS.reloading, 'data re-loading')
    identifier.report('starting DB data loading')
    try {
      // Each page compiled as it arrives, in slices with turns of the event loop between them:
      // the old snapshot answers meanwhile.
      const loaded = await repository.snapshot(name, async ({ head, version, names }, pages) =>
        ({ head, ...await compileRouteTableFromPages(head, pages, { partition: name, version, expectedRules: s.table?.rules.size }, COMPILE_SLICE_MS, names) }))
      if (loaded === undefined) {
        remove(name)
        return { partition: name, ok: true, removed: true, durationMs: elapsed() }
      }
      const { table, counts, problems, state } = loaded
      Object.assign(s, { table, state })
      options.onLoad?.(name, table, loaded.head)
      identifier.set(PARTITION_STATUS.ready, `data available ${table.checksum}`)
      succeeded(name)
      reportLoad(identifier, log, name, counts, problems)
      const durationMs = elapsed()
      log.info({ partition: name, version: table.version, checksum: table.checksum, durationMs }, `partition ${name} loaded: ${formatLoadCounts(counts)}`)
      return { partition: name, ok: true, version: table.version, checksum: table.checksum, counts, durationMs, mode: 'full' }
    } catch (err) {
      identifier.report(`DB data loading failed, discarding: ${message(err)}`)
      if (s.table === undefined) identifier.set(PARTITION_STATUS.noData, `no data loaded: ${message(err)}`)
      else identifier.set(PARTITION_STATUS.ready, `data available ${s.table.checksum} (last reload failed: ${message(err)})`)
      log.warn({ partition: name, err: message(err) }, `partition ${name} reload failed; ${s.table === undefined ? 'no data to serve' : 'serving the previous snapshot'}`)
      if (transient(err)) retryLater(name, () => { if (slots.has(name)) void reload(name) })
      return { partition: name, ok: false, error: message(err), durationMs: elapsed() }
    }
  }

  const start = (s: Slot, name: string): Promise<ReloadOutcome> => {
    const how = s.how
    s.how = 'changes'
    s.running = run(name, how).then((outcome) => {
      // An observer that throws must not turn a reload's outcome into a rejection.
      try { options.onReloaded?.(outcome) } catch (err) { log.warn({ partition: name, err: message(err) }, 'reload observer failed') }
      return outcome
    }).finally(() => { s.running = undefined })
    return s.running
  }

  const reload = (name: string, how: ReloadHow = 'full'): Promise<ReloadOutcome> => {
    const s = slot(name)
    if (STRENGTH[how] > STRENGTH[s.how]) s.how = how
    if (s.queued !== undefined) return s.queued
    if (s.running === undefined) return start(s, name)
    // One more run after the current one, shared by every caller that asks meanwhile.
    s.queued = s.running.then(() => {
      s.queued = undefined
      return start(s, name)
    })
    return s.queued
  }

  return {
    lookup (partition) {
      const s = slots.get(partition)
      if (s === undefined) return discovered ? { state: 'unknown' } : { state: 'not_ready' }
      // The same predicate as /readyz: the identifier's status is positive.
      if (s.table === undefined || s.identifier.status <= 0) return { state: 'not_ready' }
      return { state: 'ready', table: s.table }
    },
    identifier: (partition) => slots.get(partition)?.identifier,
    reload,
    notify (partition) {
      const s = slot(partition)
      s.pending = true
      if (s.debounce !== undefined) return
      // An update from the change log is cheap: the first notification runs at once when the
      // snapshot has what it takes, the ones within the debounce after it fold into one more run.
      const flush = (): void => { if (s.pending) { s.pending = false; void reload(partition, 'changes') } }
      if (s.state !== undefined) flush()
      s.debounce = setTimeout(() => { s.debounce = undefined; flush() }, options.debounceMs)
    },
    // Named, so that its retry can call it again.
    sweep: async function sweep (reason: string): Promise<void> {
      let versions: Array<{ name: string, version: number }>
      try {
        versions = await repository.versions()
      } catch (err) {
        log.warn({ reason, err: message(err) }, 'partition sweep failed')
        if (transient(err)) retryLater(SWEEP, () => { void sweep('retry after a failed sweep') })
        return
      }
      succeeded(SWEEP)
      discovered = true
      const present = new Set(versions.map((v) => v.name))
      for (const name of [...slots.keys()]) if (!present.has(name) && slots.get(name)?.running === undefined) remove(name)
      for (const name of required) if (!present.has(name) && !slots.has(name)) absent(name)
      await Promise.all(versions
        .filter((v) => slots.get(v.name)?.table?.version !== v.version)
        .map(async (v) => {
          // A reload already under way (another sweep's, at start-up: the first one and the
          // listener's) may well give this version: wait for it rather than queue a second read
          // of the whole partition behind it.
          const running = slots.get(v.name)?.running
          if (running !== undefined) await running
          if (slots.get(v.name)?.table?.version === v.version) return
          log.debug({ partition: v.name, reason }, 'reloading partition')
          await reload(v.name, 'changes')
        }))
    },
    partitions: () => [...slots.keys()].sort(),
    get discovered () { return discovered },
    stop () {
      stopped = true
      for (const timer of retryTimers.values()) clearTimeout(timer)
      for (const s of slots.values()) if (s.debounce !== undefined) clearTimeout(s.debounce)
    }
  }
}
