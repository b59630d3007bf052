/**
 * An edit applied to a loaded snapshot without reading the partition again: the change log
 * (migration 0009, snapshot.repository.ts `changes`) names the rows that changed; only those are
 * read and compiled, and a new table is built copy-on-write over the old one (overlay-map.ts, prefix-overlay.ts):
 * a decision holding the old table sees it whole. The checksum is the one a full load of the
 * same rows gives (data-checksum.ts RowSum). A change of a gateway, carrier or caller group reads
 * the head again (not the rules), recompiles what changed and the rules that use it.
 */
import type { Logger } from 'pino'
import { reported } from './reported.js'
import type { CallerIndex } from './caller-index.js'
import { compileCallerIndexSteps } from './caller-index.js'
import { account, compileCarrier, compileGateway, createRuleContext, forNextRead, type Collector, type RuleContext } from './compile-rows.js'
import { compileAt, zonesNamed } from './compile-rule.js'
import { warmZones } from './timerec-zones.js'
import {
  pageSize, ruleCount, ruleIdAt, slotAt, type CompiledCarrier, type CompiledGateway, type CompiledPartition, type CompiledTarget,
  type CompileProblem, type GroupIndex, type LoadCounts, type PartitionHead, type PrefixRules, type RulePage
} from './compiled.js'
import { byPriorityIn, groupsOf, listAt, prefixOf, type RuleStore } from './rule-store.js'
import { addRowHash, removeRowHash, snapshotChecksum, snapshotHeadHash } from './data-checksum.js'
import { GONE, overlay, type Change } from './overlay-map.js'
import { overlayPrefixes, type PrefixChange } from './prefix-overlay.js'
import { EMPTY_PREFIXES, sortSlots } from './prefix-trie.js'
import { COMPILE_SLICE_MS } from './route-table.js'
import type { TargetNames } from './rule-pages.js'
import { ROWS_PER_STEP, runInSlices, type Steps } from './slices.js'
import { MAX_PREFIX_LENGTH, maxLength, type SnapshotState } from './snapshot-state.js'

/** What changed between the loaded version and `version`, read in one transaction. */
export interface Delta {
  readonly version: number
  /** The whole head again, when a gateway, carrier or caller group (or a carrier's members) changed. */
  readonly head?: { readonly head: PartitionHead, readonly names: TargetNames }
  /** Rules whose rows changed (created, edited, deleted), by id. */
  readonly ruleIds: ReadonlySet<string>
  /** Reads those of the given rules that exist, in the same transaction. */
  readonly readRules: (ids: readonly string[], names: TargetNames) => Promise<RulePage>
}

export interface Applied {
  readonly table: CompiledPartition
  readonly counts: LoadCounts
  readonly problems: readonly CompileProblem[]
  /** Rules read and recompiled. */
  readonly rules: number
  /** Gateways, carriers or caller groups changed (else only rules did). */
  readonly head: boolean
}

/** Rules a head change may make an update recompile before a full reload is the cheaper way. */
const MAX_AFFECTED_RULES = 200_000

/**
 * Dead slots (rules edited or deleted since the full read) a rule store may hold beyond its live
 * rules before the next update is a full read instead, which builds a compact store.
 */
const MAX_DEAD_SLOTS = 100_000
export const tooManyDead = (table: CompiledPartition): boolean => table.store.length - table.rules.size > Math.max(MAX_DEAD_SLOTS, table.rules.size)

const json = JSON.stringify
const zero = (count: { loaded: number, discarded: number }): void => { count.loaded = 0; count.discarded = 0 }

interface HeadApplied {
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  readonly callers: CallerIndex
  readonly ctx: RuleContext
  readonly changedGateways: ReadonlySet<string>
  readonly changedCarriers: ReadonlySet<string>
}

/** Head rows between two yields: each is serialised and compared (a few µs), some compiled. */
const HEAD_ROWS_PER_STEP = 64

/** Each row's JSON by its id: what a row of the new head is compared with. */
function * serialisedById (rows: ReadonlyArray<{ readonly id: string }>): Steps<Map<string, string>> {
  const out = new Map<string, string>()
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as { readonly id: string }
    out.set(row.id, json(row))
    if (i % HEAD_ROWS_PER_STEP === 0) yield
  }
  return out
}

/**
 * One kind of head row (gateways, carriers) of the new head: the compiled object of the old table
 * kept where the row is written as before and `stale` does not say otherwise, compiled again where
 * not. Changed: written differently, added (a target that named it unknown now resolves) or gone.
 */
function * keepOrCompile<R extends { readonly id: string }, C> (
  entity: 'gateway' | 'carrier', before: readonly R[], rows: readonly R[], compiledBefore: ReadonlyMap<string, C>, c: Collector,
  compile: (row: R) => C | string, stale: (row: R) => boolean = () => false
): Steps<{ readonly compiled: Map<string, C>, readonly changed: Set<string> }> {
  const old = yield * serialisedById(before)
  const changed = new Set<string>(old.keys())
  for (const row of rows) changed.add(row.id)
  zero(c.counts[entity === 'gateway' ? 'gateways' : 'carriers'])
  const compiled = new Map<string, C>()
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as R
    const kept = compiledBefore.get(row.id)
    const same = kept !== undefined && old.get(row.id) === json(row) && !stale(row)
    const result = same ? kept : compile(row)
    if (same) changed.delete(row.id)
    if (typeof result !== 'string') compiled.set(row.id, result)
    account(c, entity, row.id, typeof result === 'string' ? result : undefined)
    if (i % HEAD_ROWS_PER_STEP === 0) yield
  }
  return { compiled, changed }
}

/** Recompiles the gateways and carriers whose rows (or whose members) changed; the others are kept as they were. */
function * applyHead (table: CompiledPartition, state: SnapshotState, head: PartitionHead, c: Collector): Steps<HeadApplied> {
  const before = state.head
  const { compiled: gateways, changed: changedGateways } = yield * keepOrCompile('gateway', before.gateways, head.gateways, table.gateways, c, compileGateway)
  const { compiled: carriers, changed: changedCarriers } = yield * keepOrCompile('carrier', before.carriers, head.carriers, table.carriers, c,
    (row) => compileCarrier(row, gateways, c), (row) => row.gateways.some((m) => changedGateways.has(m.gateway)))
  let callers = table.callers
  if (json(before.caller_groups) !== json(head.caller_groups)) {
    zero(c.counts.caller_groups)
    callers = yield * compileCallerIndexSteps(head.caller_groups, (id, discarded) => { account(c, 'caller_group', id, discarded) })
  }
  // Interned targets of unchanged gateways and carriers stay valid: the kept rules hold them.
  // The partition's alphabet stays (a change of extra_prefix_chars is a full reload), and so does
  // the rule store with what is interned into it.
  const { windows, windowSlots, groups, attrSlots, store } = state.ctx
  const ctx: RuleContext = createRuleContext(gateways, carriers, state.ctx.extraPrefixChars, { windows, windowSlots, groups, attrSlots, store })
  for (const [id, targets] of state.ctx.gatewayTargets) if (!changedGateways.has(id)) ctx.gatewayTargets.set(id, targets)
  for (const [id, targets] of state.ctx.carrierTargets) if (!changedCarriers.has(id)) ctx.carrierTargets.set(id, targets)
  return { gateways, carriers, callers, ctx, changedGateways, changedCarriers }
}

/** The loaded rules that name a changed gateway or carrier, and the discarded ones (a change may make them usable). */
function * affectedRules (table: CompiledPartition, state: SnapshotState, h: HeadApplied): Steps<Set<string> | undefined> {
  const out = new Set<string>([...state.discarded].map(String))
  if (h.changedGateways.size === 0 && h.changedCarriers.size === 0) return out
  const touches = (t: CompiledTarget): boolean =>
    (t.kind === 'unknown' ? (t.of === 'gateway' ? h.changedGateways : h.changedCarriers) : (t.kind === 'gateway' ? h.changedGateways : h.changedCarriers)).has(t.id)
  const { store } = table
  // Per target list: 0 not looked at yet, 1 touches a changed row, 2 does not.
  const byList = new Uint8Array(store.listCount)
  let n = 0
  for (const [id, slot] of table.rules) {
    const list = store.targets[slot] as number
    if (byList[list] === 0) byList[list] = listAt(store, list).some(touches) ? 1 : 2
    if (byList[list] === 1) out.add(String(id))
    if (out.size > MAX_AFFECTED_RULES) return undefined
    if (++n % ROWS_PER_STEP === 0) yield
  }
  return out
}

/** The rules (store slots) of each touched (group, prefix) as they will be, built from the current ones. */
type Slots = Map<string, Map<string, number[]>>

function slot (slots: Slots, table: CompiledPartition, group: string, prefix: string): number[] {
  let prefixes = slots.get(group)
  if (prefixes === undefined) slots.set(group, prefixes = new Map())
  let list = prefixes.get(prefix)
  if (list === undefined) {
    const at: PrefixRules | undefined = table.groups.get(group)?.byPrefix.get(prefix)
    list = at === undefined ? [] : Array.from({ length: ruleCount(at) }, (_, i) => slotAt(at, i))
    prefixes.set(prefix, list)
  }
  return list
}

/** Takes the changed rules out of the checksum, counts and index slots, and puts their new rows in. */
function changeRules (table: CompiledPartition, state: SnapshotState, c: Collector, ids: ReadonlySet<string>, page: RulePage): { rules: Map<number, Change<number>>, slots: Slots } {
  const fresh = new Map<number, number>() // Each changed rule that still exists, by id: its index in the page.
  for (let i = 0; i < pageSize(page); i++) fresh.set(ruleIdAt(page, i), i)
  const rules = new Map<number, Change<number>>()
  const { store } = state.ctx
  const slots: Slots = new Map()
  for (const text of ids) {
    const id = Number(text)
    const old = table.rules.get(id)
    const oldHash = state.hashes.get(id)
    if (oldHash !== undefined) removeRowHash(state.rows, oldHash)
    if (old !== undefined) {
      c.counts.rules.loaded--
      rules.set(id, GONE)
      for (const group of groupsOf(store, old)) {
        const list = slot(slots, table, group, prefixOf(store, old))
        for (let i = list.length - 1; i >= 0; i--) if (list[i] === old) list.splice(i, 1)
      }
    } else if (oldHash !== undefined) {
      c.counts.rules.discarded--
      state.discarded.delete(id)
    }
    const at = fresh.get(id)
    if (at === undefined) {
      state.hashes.delete(id)
      continue
    }
    const hash = page.hashes[at] as number
    addRowHash(state.rows, hash)
    state.hashes.set(id, hash)
    const compiled = compileAt(page, at, state.ctx, c)
    account(c, 'rule', id, typeof compiled === 'string' ? compiled : undefined)
    if (typeof compiled === 'string') {
      state.discarded.add(id)
      continue
    }
    rules.set(id, compiled)
    for (const group of groupsOf(store, compiled)) slot(slots, table, group, prefixOf(store, compiled)).push(compiled)
  }
  return { rules, slots }
}

/** The group index with the touched slots as they now are; a group left without rules goes, as a full load would not have it. */
function * applySlots (table: CompiledPartition, state: SnapshotState, store: RuleStore, slots: Slots): Steps<ReadonlyMap<string, GroupIndex>> {
  const byPriority = byPriorityIn(store)
  const groups = new Map(table.groups)
  for (const [group, prefixes] of slots) {
    const index = table.groups.get(group)
    let lengths = state.prefixLengths.get(group)
    if (lengths === undefined) state.prefixLengths.set(group, lengths = new Int32Array(MAX_PREFIX_LENGTH + 1))
    const changes = new Map<string, PrefixChange>()
    for (const [prefix, list] of prefixes) {
      const had = index?.byPrefix.has(prefix) === true
      if (list.length === 0) {
        if (!had) continue
        changes.set(prefix, GONE)
        lengths[prefix.length] = (lengths[prefix.length] as number) - 1
      } else {
        if (!had) lengths[prefix.length] = (lengths[prefix.length] as number) + 1
        changes.set(prefix, list.length === 1 ? list[0] as number : Object.freeze(sortSlots(list, byPriority)))
      }
    }
    const byPrefix = yield * overlayPrefixes(index?.byPrefix ?? EMPTY_PREFIXES, changes)
    if (byPrefix.size === 0) {
      groups.delete(group)
      state.prefixLengths.delete(group)
    } else groups.set(group, Object.freeze({ byPrefix, maxPrefixLength: maxLength(lengths) }))
  }
  return groups
}

const copyCounts = (n: LoadCounts): LoadCounts => ({ gateways: { ...n.gateways }, carriers: { ...n.carriers }, rules: { ...n.rules }, caller_groups: { ...n.caller_groups } })

/**
 * The table at `delta.version`, or undefined when a full reload is the better way (a head change
 * that touches too many rules). `state` is brought to the new table; if this throws, `state` is
 * no longer the old table's either: the caller must drop it and load in full.
 */
export async function applyDelta (table: CompiledPartition, state: SnapshotState, delta: Delta, sliceMs = COMPILE_SLICE_MS): Promise<Applied | undefined> {
  if (tooManyDead(table)) return undefined
  const c: Collector = { counts: state.counts, list: [], unlisted: 0 }
  const ids = new Set(delta.ruleIds)
  let { gateways, carriers, callers } = table
  if (delta.head !== undefined) {
    const h = await runInSlices(applyHead(table, state, delta.head.head, c), sliceMs)
    const affected = await runInSlices(affectedRules(table, state, h), sliceMs)
    if (affected === undefined) return undefined
    for (const id of affected) ids.add(id)
    ;({ gateways, carriers, callers } = h)
    state.ctx = h.ctx
    state.head = delta.head.head
    state.names = delta.head.names
    state.headHash = await runInSlices(snapshotHeadHash(state.head), sliceMs)
  }
  // What one read's texts resolved to is per read: the store and what is interned into it stay.
  state.ctx = forNextRead(state.ctx)
  const page = await delta.readRules([...ids], state.names)
  await runInSlices(warmZones(zonesNamed(page, state.ctx)), sliceMs)
  const changed = changeRules(table, state, c, ids, page)
  const rules = await runInSlices(overlay(table.rules, changed.rules), sliceMs)
  const groups = await runInSlices(applySlots(table, state, state.ctx.store, changed.slots), sliceMs)
  const next: CompiledPartition = Object.freeze({
    ...table,
    version: delta.version,
    checksum: snapshotChecksum(state.headHash, state.rows),
    defaultGroup: state.head.partition.default_group,
    gateways,
    carriers,
    rules,
    store: state.ctx.store,
    groups,
    callers
  })
  return { table: next, counts: copyCounts(state.counts), problems: c.list, rules: ids.size, head: delta.head !== undefined }
}

/** The repository's change-log read (snapshot.repository.ts `changes`). */
type Changes = <T>(name: string, from: number, apply: (delta: Delta) => Promise<T>) => Promise<T | 'none' | 'full' | undefined>

/**
 * The change log since the table's version applied to it: the new table, 'none' when nothing
 * changed, 'full' when the log cannot tell (`state` untouched), undefined when the partition is
 * gone or the update failed (then `state` is spoilt and must be dropped).
 */
export async function followChanges (changes: Changes, name: string, table: CompiledPartition, state: SnapshotState, log: Logger): Promise<Applied | 'none' | 'full' | undefined> {
  return await reported(name, log, {
    done: (applied) => `partition ${name} updated to version ${applied.table.version} from its change log (${applied.rules} rules read)`,
    failed: `partition ${name}: applying its changes failed; loading it in full`
  }, async () => await changes(name, table.version, async (delta) => await applyDelta(table, state, delta)))
}
