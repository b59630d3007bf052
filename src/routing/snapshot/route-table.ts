/**
 * Compiles one partition's routing data into the immutable lookup structures the per-call decision
 * reads (compiled.ts): the head (gateways, carriers), then the rules page by page, then the index.
 */
import { compileCallerIndexSteps } from './caller-index.js'
import {
  account, compileCarrier, compileGateway, compileRows, createRuleContext, ENTITIES, forNextRead, newInterned, pluralOf, type Collector, type RuleContext
} from './compile-rows.js'
import { compileAt, zonesNamed } from './compile-rule.js'
import { warmZones } from './timerec-zones.js'
import {
  pageSize, prefixAt, ruleIdAt, type CompiledCarrier, type CompiledGateway, type CompiledPartition, type CompileMeta, type CompileProblem, type CompileResult,
  type GroupIndex, type LoadCounts, type PartitionHead, type RulePage
} from './compiled.js'
import { byPriorityIn, groupsOf, type RuleStore } from './rule-store.js'
import type { Logger } from 'pino'
import type { Identifier } from '../../status/status-registry.js'
import { addRowHash, emptyRowSum, snapshotChecksum, snapshotHeadHash } from './data-checksum.js'
import type { RuleData } from '../routing-data.schema.js'
import { createRowHashes } from './row-hashes.js'
import { PrefixTrieBuilder } from './prefix-trie.js'
import { slotIds, type SlotIds } from './slot-ids.js'
import type { TargetNames } from './rule-pages.js'
import { ROWS_PER_STEP, runInSlices, type Steps } from './slices.js'
import { MAX_PREFIX_LENGTH, NO_NAMES, type SnapshotState } from './snapshot-state.js'

/** Files a rule's slot under each of its groups and its prefix, as it is compiled; the lists are sorted at the end. */
function indexRule (building: Map<string, PrefixTrieBuilder>, store: RuleStore, slot: number, prefix: string): void {
  const groups = groupsOf(store, slot)
  // Indexed: a for-of here made an iterator per rule, a million of them in a load.
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] as string
    let trie = building.get(group)
    if (trie === undefined) building.set(group, trie = new PrefixTrieBuilder(MAX_PREFIX_LENGTH))
    trie.add(prefix, slot)
  }
}

/** Sorts each prefix's rules; each group's prefixes by length into `lengths` (see snapshot-state.ts). */
function * sortIndex (building: Map<string, PrefixTrieBuilder>, store: RuleStore, lengths: Map<string, Int32Array>): Steps<ReadonlyMap<string, GroupIndex>> {
  const byPriority = byPriorityIn(store)
  const groups = new Map<string, GroupIndex>()
  for (const [group, trie] of building) {
    lengths.set(group, trie.lengths)
    groups.set(group, Object.freeze({ byPrefix: yield * trie.finish(byPriority), maxPrefixLength: trie.maxPrefixLength }))
  }
  return groups
}

/** The drouting-style report line: "3 gateways loaded (0 discarded), 1 carriers loaded (0 discarded), …". */
export function formatLoadCounts (counts: LoadCounts): string {
  return ENTITIES.map((entity) => `${counts[pluralOf(entity)].loaded} ${pluralOf(entity).replace('_', ' ')} loaded (${counts[pluralOf(entity)].discarded} discarded)`).join(', ')
}

/** The drouting-style report of a finished load on the partition's identifier, and its first problems in the log. */
export function reportLoad (identifier: Identifier, log: Logger, partition: string, counts: LoadCounts, problems: readonly CompileProblem[]): void {
  identifier.report('DB data loading successfully completed')
  identifier.report(formatLoadCounts(counts))
  if (problems.length === 0) return
  identifier.report(`discarded: ${problems.slice(0, 3).map((p) => `${p.entity} ${p.id}: ${p.message}`).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`)
  for (const p of problems.slice(0, 20)) log.warn({ partition, entity: p.entity, id: p.id }, `discarded: ${p.message}`)
}

const NO_HASHES = new Float64Array(0)

/** A table being built: the head compiled, the rules so far, and their index. */
interface Building {
  readonly c: Collector
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  readonly ctx: RuleContext
  /** Rule id → slot, as compiled so far (slot-ids.ts). */
  readonly rules: SlotIds
  readonly index: Map<string, PrefixTrieBuilder>
}

function * compileHead (head: PartitionHead, expectedRules: number): Steps<Building> {
  const counts: LoadCounts = { gateways: { loaded: 0, discarded: 0 }, carriers: { loaded: 0, discarded: 0 }, rules: { loaded: 0, discarded: 0 }, caller_groups: { loaded: 0, discarded: 0 } }
  const c: Collector = { counts, list: [], unlisted: 0 }
  const gateways = yield * compileRows(head.gateways, 'gateway', c, compileGateway)
  const carriers = yield * compileRows(head.carriers, 'carrier', c, (row) => compileCarrier(row, gateways, c))
  const ctx = createRuleContext(gateways, carriers, head.partition.extra_prefix_chars, newInterned(expectedRules))
  return { c, gateways, carriers, ctx, rules: slotIds(ctx.store), index: new Map() }
}

/** A page's rules into the store and the index: a repeated id is discarded, as every problem is counted. */
function * compilePage (b: Building, page: RulePage): Steps<void> {
  const { c, ctx, rules } = b
  for (let i = 0; i < pageSize(page); i++) {
    const id = ruleIdAt(page, i)
    const compiled = rules.has(id) ? 'duplicate id' : compileAt(page, i, ctx, c)
    if (typeof compiled !== 'string') {
      rules.set(id, compiled)
      indexRule(b.index, ctx.store, compiled, prefixAt(page, i))
    }
    account(c, 'rule', id, typeof compiled === 'string' ? compiled : undefined)
    if (i % ROWS_PER_STEP === 0) yield
  }
}

function * finish (b: Building, head: PartitionHead, meta: CompileMeta, checksum: string, lengths = new Map<string, Int32Array>()): Steps<CompileResult> {
  const { c } = b
  const callers = yield * compileCallerIndexSteps(head.caller_groups, (id, discarded) => { account(c, 'caller_group', id, discarded) })
  if (c.unlisted > 0) c.list.push({ entity: 'partition', id: meta.partition, message: `${c.unlisted} more problems not listed` })
  const groups = yield * sortIndex(b.index, b.ctx.store, lengths)
  const table: CompiledPartition = Object.freeze({
    partition: meta.partition,
    version: meta.version,
    checksum,
    defaultGroup: head.partition.default_group,
    prefixChars: b.ctx.alphabet,
    gateways: b.gateways,
    carriers: b.carriers,
    rules: b.rules.done(),
    store: b.ctx.store,
    groups,
    callers
  })
  return { table, counts: c.counts, problems: c.list }
}

/** One table being compiled: its rules, given in any number of parts, then the finish with the data's checksum. */
export interface Compilation {
  readonly rules: (rows: readonly RuleData[]) => Steps<unknown>
  readonly page: (page: RulePage) => Steps<unknown>
  readonly finish: (checksum: string, lengths?: Map<string, Int32Array>) => Steps<CompileResult>
  /** The rule context and counts, for the snapshot's incremental state. */
  readonly building: Pick<Building, 'ctx' | 'c' | 'rules'>
}

/**
 * Starts a table from the partition's head. Unusable rows are discarded and counted, each with a
 * problem saying why; rules given across several parts are checked against each other.
 */
export function * beginCompile (head: PartitionHead, meta: CompileMeta): Steps<Compilation> {
  const b = yield * compileHead(head, meta.expectedRules ?? 0)
  return {
    rules: (rows) => compilePage(b, { rules: rows, hashes: NO_HASHES }),
    page: (page) => compilePage(b, page),
    finish: (checksum, lengths) => finish(b, head, meta, checksum, lengths),
    building: b
  }
}

/** Slices of at most about this long between two turns of the event loop (see compileRouteTableFromPages). */
export const COMPILE_SLICE_MS = 5

/** A compiled snapshot and what an incremental update of it needs. */
export interface LoadedTable extends CompileResult {
  readonly state: SnapshotState
}

/**
 * The table of a snapshot read page by page (snapshot.repository.ts `snapshot`): each page is
 * compiled while PostgreSQL reads the next, and the page's RuleData die young instead of a
 * million of them living until the end. The checksum sums the pages' row hashes (data-checksum.ts).
 * Each page is compiled in slices of about `sliceMs` with a turn of the event loop between them:
 * a reload of a million rules takes seconds of CPU, and the routing answers must not wait for it.
 */
export async function compileRouteTableFromPages (
  head: PartitionHead, pages: AsyncIterable<RulePage>, meta: CompileMeta, sliceMs = COMPILE_SLICE_MS, names: TargetNames = NO_NAMES
): Promise<LoadedTable> {
  const rows = emptyRowSum()
  const hashes = createRowHashes(meta.expectedRules)
  const discarded = new Set<number>()
  const compilation = await runInSlices(beginCompile(head, meta), sliceMs)
  const { ctx, c, rules } = compilation.building
  for await (const page of pages) {
    const n = pageSize(page)
    for (let i = 0; i < n; i++) {
      const hash = page.hashes[i] as number
      addRowHash(rows, hash)
      hashes.set(ruleIdAt(page, i), hash)
    }
    const before = c.counts.rules.discarded
    await runInSlices(warmZones(zonesNamed(page, ctx)), sliceMs)
    await runInSlices(compilation.page(page), sliceMs)
    if (c.counts.rules.discarded > before) for (let i = 0; i < n; i++) if (!rules.has(ruleIdAt(page, i))) discarded.add(ruleIdAt(page, i))
  }
  const headHash = await runInSlices(snapshotHeadHash(head), sliceMs)
  const prefixLengths = new Map<string, Int32Array>()
  const result = await runInSlices(compilation.finish(snapshotChecksum(headHash, rows), prefixLengths), sliceMs)
  return { ...result, state: { head, names, ctx: forNextRead(ctx), headHash, counts: c.counts, rows, hashes, prefixLengths, discarded } }
}
