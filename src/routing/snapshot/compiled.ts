/**
 * What a partition compiles to: the immutable structures the per-call decision reads, and the
 * shapes of a snapshot read and of its load report. Types only, besides the accessors of
 * PrefixRules and RulePage. The rules themselves are columns (rule-store.ts).
 */
import type { PartitionData, RuleData } from '../routing-data.schema.js'
import type { CallerIndex } from './caller-index.js'
import type { CompiledWindow } from './time-window.js'
import type { PrefixAlphabet } from '../prefix-chars.js'
import type { PrefixMap } from './prefix-trie.js'

export type { CallerIndex } from './caller-index.js'

/** How a rule orders its targets, or a carrier its gateways. */
export type SortMode = 'ordered' | 'weighted' | 'hash' | 'least_loaded'

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

/** One rule as an object (rule-store.ts ruleView): a table holds its rules as columns. */
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

export { ruleCount, slotAt, type PrefixRules } from './prefix-trie.js'

/** The rules of one caller group: prefix → its rules. */
export interface GroupIndex {
  /** A trie (prefix-trie.ts): a ReadonlyMap, and the walk of a call. */
  readonly byPrefix: PrefixMap
  readonly maxPrefixLength: number
}

export interface CompiledPartition {
  readonly partition: string
  readonly version: number
  readonly checksum: string
  readonly defaultGroup: string
  /** Digits and the partition's extra_prefix_chars (prefix-chars.ts): a number holding anything else matches no prefix. */
  readonly prefixChars: PrefixAlphabet
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  /** Rule id → its slot in `store`. */
  readonly rules: ReadonlyMap<number, number>
  readonly store: RuleStore
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

export interface CompileMeta {
  readonly partition: string
  readonly version: number
  /** How many rules the read will likely give (the loaded table's): its columns are sized once instead of grown. */
  readonly expectedRules?: number
}

/** A partition's data without its rules: what a snapshot read gives before the rule pages. */
export type PartitionHead = Omit<PartitionData, 'rules'>

/** Row id → name, of the partition's gateways and carriers. */
export interface TargetNames {
  readonly gateways: ReadonlyMap<string, string>
  readonly carriers: ReadonlyMap<string, string>
}

/**
 * A rule as a trigger stores it on write (rule.tuple, migration 0009): [id, groups as a text[]
 * literal, prefix, priority, time_window as JSON text, sort, max_targets, fallback, attrs as
 * JSON text, enabled, description, targets, timerec, row hash].
 */
export type RuleTuple = [
  id: number, groups: string, prefix: string, priority: number, timeWindow: string | null, sort: SortMode,
  maxTargets: number | null, fallback: boolean, attrs: string, enabled: boolean, description: string,
  /** `g<gateway row id>:<weight>` or `c<carrier row id>:<weight>`, comma-separated in position order; null: none. */
  targets: string | null,
  timerec: string | null,
  /** The low 52 bits of PostgreSQL's hashtextextended over the tuple's JSON text: exact as a JSON number. */
  hash: number
]

/**
 * One page of a snapshot read, and per rule the hash of its stored row (the checksum sums them):
 * the rules as RuleData (a document, a test), or as the database stores them, compiled from their
 * texts without a RuleData each (compile-rule.ts `compileTuple`), `names` naming their targets.
 */
export type RulePage =
  | { readonly rules: readonly RuleData[], readonly hashes: Float64Array }
  | { readonly tuples: readonly RuleTuple[], readonly names: TargetNames, readonly hashes: Float64Array }

export const pageSize = (page: RulePage): number => ('rules' in page ? page.rules.length : page.tuples.length)
export const ruleIdAt = (page: RulePage, i: number): number => ('rules' in page ? (page.rules[i] as RuleData).id : (page.tuples[i] as RuleTuple)[0])
export const prefixAt = (page: RulePage, i: number): string => ('rules' in page ? (page.rules[i] as RuleData).prefix : (page.tuples[i] as RuleTuple)[2])

/** A partition's rules as columns (rule-store.ts). */
export interface RuleStore {
  /** Slots written. */
  length: number
  id: Float64Array
  hashKey: Int32Array
  priority: Int32Array
  /** -1: no limit. */
  maxTargets: Int32Array
  /** Bit 0 enabled, bit 1 fallback, bits 2–3 the sort (SORTS). */
  flags: Uint8Array
  /** Index into `windows`; ALWAYS when none. */
  window: Int32Array
  targets: Int32Array
  groups: Int32Array
  attrs: Int32Array
  /**
   * The prefixes, as bytes (a prefix is ASCII: prefix-chars.ts): slot k's is `prefixLength[k]`
   * bytes of `prefixBytes` from `prefixStart[k]`; `prefixEnd` bytes are written. A million prefix
   * strings were a million entries of V8's string table (JSON.parse internalises short strings),
   * which every major collection walks inside its pause (rule-store.ts `prefixOf`).
   */
  prefixStart: Uint32Array
  prefixLength: Uint8Array
  prefixBytes: Uint8Array
  prefixEnd: number
  readonly windows: CompiledWindow[]
  /**
   * The distinct target lists, end to end in one array: list k is `listLength[k]` targets of
   * `listTargets` from `listStart[k]`, its unknown targets kept in place (never routed, named by
   * explain); `listCount` lists are written. At a million rules there are hundreds of thousands
   * of distinct lists: as arrays of their own they were twice as many objects for every major
   * collection to mark and move (rule-store.ts `targetsInto`).
   */
  readonly listTargets: CompiledTarget[]
  listStart: Uint32Array
  listLength: Uint32Array
  /** How many of list k's targets are unknown: counted once per list, not once per rule that has it. */
  listUnknown: Uint32Array
  listCount: number
  readonly groupLists: Array<readonly string[]>
  readonly attrsList: Attrs[]
}
