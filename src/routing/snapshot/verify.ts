/**
 * A reload that compares instead of reading everything (drouting's dr_reload, without compiling a
 * second snapshot): every rule's id and stored-row hash (migration 0010) against the loaded
 * snapshot's, the head read whole, and only what differs read and applied as an incremental update
 * would apply it (incremental.ts applyDelta): the table it ends with is the one a full load gives.
 */
import type { Logger } from 'pino'
import type { CompiledPartition, PartitionHead } from './compiled.js'
import { applyDelta, type Applied, type Delta } from './incremental.js'
import { reported } from './reported.js'
import { COMPILE_SLICE_MS } from './route-table.js'
import { createRowHashes, type RowHashes } from './row-hashes.js'
import type { RuleHashPage } from './rule-pages.js'
import { ROWS_PER_STEP, runInSlices, type Steps } from './slices.js'
import type { SnapshotState } from './snapshot-state.js'

/**
 * Past this many differing rules a verifying reload compiles the partition in full instead: an
 * update reads and compiles its rules in one go, a full load page by page in slices.
 */
export const MAX_VERIFIED_CHANGES = 10_000

/** Slots of the loaded ids visited per step of the pass that looks for deleted rules. */
const SLOTS_PER_STEP = 20_000

/**
 * The rules whose stored rows differ between the database's pages (ascending ids, each with its
 * row hash) and what is loaded (`loaded`, every rule row the snapshot read): edited, new, and gone
 * from the database. Undefined when more than `max` differ, or an id cannot be compared: a full
 * reload then.
 */
export async function differingRules (pages: AsyncIterable<RuleHashPage>, loaded: RowHashes, max: number, sliceMs = COMPILE_SLICE_MS): Promise<Set<string> | undefined> {
  const out = new Set<string>()
  const seen: Float64Array[] = []
  let total = 0
  let matched = 0
  for await (const page of pages) {
    if (page.unsafe) return undefined
    seen.push(page.ids)
    total += page.ids.length
    for (let i = 0; i < page.ids.length; i++) {
      const id = page.ids[i] as number
      const hash = loaded.get(id)
      if (hash !== undefined) matched++
      if (hash !== page.hashes[i]) out.add(String(id))
    }
    if (out.size > max) return undefined
  }
  // Every loaded id was found again: nothing was deleted. Else find which ones were not.
  if (matched === loaded.size()) return out
  const gone = await runInSlices(deletedRules(seen, total, loaded, out, max), sliceMs)
  return gone ? out : undefined
}

/** Adds to `out` the loaded ids that no page holds; false past `max`. */
function * deletedRules (seen: readonly Float64Array[], total: number, loaded: RowHashes, out: Set<string>, max: number): Steps<boolean> {
  const present = createRowHashes(total)
  let n = 0
  for (const ids of seen) {
    for (let i = 0; i < ids.length; i++) {
      present.set(ids[i] as number, 1)
      if (++n % ROWS_PER_STEP === 0) yield
    }
  }
  for (let from = 0; from < loaded.slots(); from += SLOTS_PER_STEP) {
    loaded.forEachIn(from, from + SLOTS_PER_STEP, (id) => { if (present.get(id) === undefined) out.add(String(id)) })
    if (out.size > max) return false
    yield
  }
  return true
}

/** The repository's verifying read (snapshot.repository.ts `verify`). */
type Verify = <T>(name: string, loaded: { readonly partition: PartitionHead['partition'], readonly hashes: RowHashes }, apply: (delta: Delta) => Promise<T>) => Promise<T | 'full' | undefined>

/**
 * Every row of the partition compared with the loaded table, and what differs applied to it (a
 * reload that reads the whole head and every rule's hash, but compiles only what changed):
 * 'full' when a full reload must do (the partition's extra_prefix_chars changed, too many rules differ),
 * undefined when the partition is gone or the update failed (`state` is then spoilt).
 */
export async function followVerify (verify: Verify, name: string, table: CompiledPartition, state: SnapshotState, log: Logger): Promise<Applied | 'full' | undefined> {
  return await reported(name, log, {
    done: (applied) => `partition ${name} verified at version ${applied.table.version}: ${applied.rules} rules read again (changed, new, deleted, or discarded before)`,
    failed: `partition ${name}: verifying it failed; loading it in full`
  }, async () => await verify(name, { partition: state.head.partition, hashes: state.hashes }, async (delta) => await applyDelta(table, state, delta)))
}
