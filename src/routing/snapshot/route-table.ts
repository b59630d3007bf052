/** Compiles one partition's routing data into the immutable lookup structures the per-call decision reads. */
import { compileCallerIndexSteps, type CallerIndex } from './caller-index.js'
import {
  account, compileCarrier, compileGateway, compileRows, compileRule, createRuleContext, ENTITIES, pluralOf, type Collector, type RuleContext
} from './compile-rows.js'
import { dataChecksumSteps, snapshotChecksum } from './data-checksum.js'
import type { PartitionData, RuleData } from '../routing-data.schema.js'
import type { SortMode } from '../decide/select.js'
import { ROWS_PER_STEP, runAtOnce, runInSlices, type Steps } from './slices.js'
import type { CompiledWindow } from './time-window.js'

export type { CallerIndex } from './caller-index.js'
export { MAX_LISTED_PROBLEMS } from './compile-rows.js'

type Attrs = Readonly<Record<string, unknown>>

export interface CompiledGateway {
  readonly id: string
  readonly hashKey: number
  readonly weight: number
  /** The next hop (rtjson dst_uri): the normalised address. */
  readonly dstUri: string
  /** R-URI = uriScheme + number after strip/prefix + uriSuffix (`@host[:port][;transport=…]`). */
  readonly uriScheme: string
  readonly uriSuffix: string
  readonly strip: number
  readonly prefix: string
  readonly socket: string
  readonly attrs: Attrs
  readonly frTimer: number | null
  readonly frInvTimer: number | null
  readonly enabled: boolean
  /** attrs.branch_flags when it is a non-negative integer, for the first rtjson route. */
  readonly branchFlags: number | undefined
  /** Capacity limits; Infinity when unset. */
  readonly maxCalls: number
  readonly maxCps: number
}

export interface CarrierMember {
  readonly gateway: CompiledGateway
  readonly weight: number
  readonly hashKey: number
}

export interface CompiledCarrier {
  readonly id: string
  readonly hashKey: number
  readonly sort: SortMode
  readonly firstOnly: boolean
  readonly enabled: boolean
  readonly attrs: Attrs
  readonly members: readonly CarrierMember[]
  /** Capacity limits over the calls offered through this carrier; Infinity when unset. */
  readonly maxCalls: number
  readonly maxCps: number
}

/** A rule target; `unknown` ones are kept (never routed) so the explain trace can name them. */
export type CompiledTarget =
  | { readonly kind: 'gateway', readonly id: string, readonly weight: number, readonly hashKey: number, readonly gateway: CompiledGateway }
  | { readonly kind: 'carrier', readonly id: string, readonly weight: number, readonly hashKey: number, readonly carrier: CompiledCarrier }
  | { readonly kind: 'unknown', readonly id: string, readonly weight: number, readonly hashKey: number, readonly of: 'gateway' | 'carrier' }

export interface CompiledRule {
  readonly id: number
  readonly hashKey: number
  readonly groups: readonly string[]
  readonly prefix: string
  readonly priority: number
  readonly window: CompiledWindow | null
  readonly targets: readonly CompiledTarget[]
  readonly sort: SortMode
  /** Infinity when the rule sets no limit. */
  readonly maxTargets: number
  readonly fallback: boolean
  readonly enabled: boolean
  readonly attrs: Attrs
}

/**
 * The rules of one prefix in a group, by priority desc, then id asc: the rule itself when it is
 * the only one, as most are (an array per rule was a million more objects for the collector to
 * copy and mark at a million rules).
 */
export type PrefixRules = CompiledRule | readonly CompiledRule[]

const isList = (at: PrefixRules): at is readonly CompiledRule[] => Array.isArray(at)
export const ruleCount = (at: PrefixRules): number => (isList(at) ? at.length : 1)
export const ruleAt = (at: PrefixRules, i: number): CompiledRule => (isList(at) ? at[i] as CompiledRule : at)

/** The rules of one caller group: prefix → its rules. */
export interface GroupIndex {
  readonly byPrefix: ReadonlyMap<string, PrefixRules>
  readonly maxPrefixLength: number
}

/** The rules a group has at a prefix, as a list (a new one for a single rule: not for the per-call path). */
export function rulesAt (index: GroupIndex | undefined, prefix: string): readonly CompiledRule[] {
  const at = index?.byPrefix.get(prefix)
  return at === undefined ? [] : isList(at) ? at : [at]
}

export interface CompiledPartition {
  readonly partition: string
  readonly version: number
  readonly checksum: string
  readonly defaultGroup: string
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  readonly rules: ReadonlyMap<number, CompiledRule>
  readonly groups: ReadonlyMap<string, GroupIndex>
  readonly callers: CallerIndex
}

export type CompileEntity = 'gateway' | 'carrier' | 'rule' | 'caller_group'
export interface CompileProblem {
  readonly entity: CompileEntity | 'partition'
  readonly id: string
  readonly message: string
}
export interface LoadCount { loaded: number, discarded: number }
export type LoadCounts = Record<'gateways' | 'carriers' | 'rules' | 'caller_groups', LoadCount>

export interface CompileResult {
  readonly table: CompiledPartition
  readonly counts: LoadCounts
  readonly problems: readonly CompileProblem[]
}

const byPriority = (a: CompiledRule, b: CompiledRule): number => (b.priority - a.priority) || (a.id - b.id)

interface GroupBuilding { readonly byPrefix: Map<string, CompiledRule | CompiledRule[]>, maxPrefixLength: number }

/** Files a rule under each of its groups and its prefix, as it is compiled; the lists are sorted at the end. */
function indexRule (building: Map<string, GroupBuilding>, rule: CompiledRule): void {
  for (const group of rule.groups) {
    let index = building.get(group)
    if (index === undefined) building.set(group, index = { byPrefix: new Map(), maxPrefixLength: 0 })
    const at = index.byPrefix.get(rule.prefix)
    if (at === undefined) index.byPrefix.set(rule.prefix, rule)
    else if (Array.isArray(at)) at.push(rule)
    else index.byPrefix.set(rule.prefix, [at, rule])
    if (rule.prefix.length > index.maxPrefixLength) index.maxPrefixLength = rule.prefix.length
  }
}

function * sortIndex (building: Map<string, GroupBuilding>): Steps<ReadonlyMap<string, GroupIndex>> {
  let n = 0
  for (const index of building.values()) {
    for (const at of index.byPrefix.values()) {
      if (Array.isArray(at)) Object.freeze(at.sort(byPriority))
      if (++n % ROWS_PER_STEP === 0) yield
    }
    Object.freeze(index)
  }
  return building
}

/** The drouting-style report line: "3 gateways loaded (0 discarded), 1 carriers loaded (0 discarded), …". */
export function formatLoadCounts (counts: LoadCounts): string {
  return ENTITIES.map((entity) => `${counts[pluralOf(entity)].loaded} ${pluralOf(entity).replace('_', ' ')} loaded (${counts[pluralOf(entity)].discarded} discarded)`).join(', ')
}

export interface CompileMeta { partition: string, version: number, checksum?: string }

/** A partition's data without its rules: what a snapshot read gives before the rule pages. */
export type PartitionHead = Omit<PartitionData, 'rules'>

/** One page of a snapshot read: its rules, and the text they were parsed from (the checksum hashes it). */
export interface RulePage {
  readonly rules: readonly RuleData[]
  readonly text: string
}

/** A table being built: the whole data at once, or the head and then the rules page by page. */
interface Building {
  readonly c: Collector
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  readonly ctx: RuleContext
  readonly rules: Map<number, CompiledRule>
  readonly index: Map<string, GroupBuilding>
}

function * compileHead (head: PartitionHead): Steps<Building> {
  const counts: LoadCounts = { gateways: { loaded: 0, discarded: 0 }, carriers: { loaded: 0, discarded: 0 }, rules: { loaded: 0, discarded: 0 }, caller_groups: { loaded: 0, discarded: 0 } }
  const c: Collector = { counts, list: [], unlisted: 0 }
  const gateways = yield * compileRows(head.gateways, 'gateway', c, compileGateway)
  const carriers = yield * compileRows(head.carriers, 'carrier', c, (row) => compileCarrier(row, gateways, c))
  return { c, gateways, carriers, ctx: createRuleContext(gateways, carriers), rules: new Map(), index: new Map() }
}

function compileRules (b: Building, rows: readonly RuleData[]): Steps<Map<number, CompiledRule>> {
  return compileRows(rows, 'rule', b.c, (row) => compileRule(row, b.ctx, b.c), b.rules, (rule) => { indexRule(b.index, rule) })
}

function * finish (b: Building, head: PartitionHead, meta: CompileMeta, checksum: string): Steps<CompileResult> {
  const { c } = b
  const callers = yield * compileCallerIndexSteps(head.caller_groups, (id, discarded) => { account(c, 'caller_group', id, discarded) })
  if (c.unlisted > 0) c.list.push({ entity: 'partition', id: meta.partition, message: `${c.unlisted} more problems not listed` })
  const groups = yield * sortIndex(b.index)
  const table: CompiledPartition = Object.freeze({
    partition: meta.partition,
    version: meta.version,
    checksum,
    defaultGroup: head.partition.default_group,
    gateways: b.gateways,
    carriers: b.carriers,
    rules: b.rules,
    groups,
    callers
  })
  return { table, counts: c.counts, problems: c.list }
}

/** The whole data at once, from the same pieces the page-by-page compile runs (compileHead, compileRules, finish). */
function * compileSteps (data: PartitionData, meta: CompileMeta): Steps<CompileResult> {
  const b = yield * compileHead(data)
  yield * compileRules(b, data.rules)
  return yield * finish(b, data, meta, meta.checksum ?? (yield * dataChecksumSteps(data)))
}

/**
 * Builds a partition's table; unusable rows are discarded and counted, each with a problem saying
 * why. `meta.checksum` skips hashing when the caller already has the data's sum.
 */
export function compileRouteTable (data: PartitionData, meta: CompileMeta): CompileResult {
  return runAtOnce(compileSteps(data, meta))
}

/** Slices of at most about this long between two turns of the event loop (see compileRouteTableFromPages). */
export const COMPILE_SLICE_MS = 10

/**
 * The table of a snapshot read page by page (partition-data.repository.ts `snapshot`): the same
 * rows, checks, problems and table as compileRouteTable over the whole data, but each page is
 * compiled while PostgreSQL reads the next, and the page's RuleData die young instead of a
 * million of them living until the end. The checksum is snapshotChecksum's (over the pages' text).
 * Each page is compiled in slices of about `sliceMs` with a turn of the event loop between them:
 * a reload of a million rules takes seconds of CPU, and the routing answers must not wait for it.
 */
export async function compileRouteTableFromPages (head: PartitionHead, pages: AsyncIterable<RulePage>, meta: CompileMeta, sliceMs = COMPILE_SLICE_MS): Promise<CompileResult> {
  const sum = snapshotChecksum()
  const b = await runInSlices(compileHead(head), sliceMs)
  for await (const page of pages) {
    sum.page(page.text)
    await runInSlices(compileRules(b, page.rules), sliceMs)
  }
  const checksum = await runInSlices(sum.digest(head), sliceMs)
  return await runInSlices(finish(b, head, meta, checksum), sliceMs)
}
