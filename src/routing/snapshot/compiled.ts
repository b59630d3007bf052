/**
 * What a partition compiles to: the immutable structures the per-call decision reads, and the
 * shapes of a snapshot read and of its load report. Types only, besides the two accessors of
 * PrefixRules. The rules themselves are columns (rule-store.ts).
 */
import type { PartitionData, RuleData } from '../routing-data.schema.js'
import type { CallerIndex } from './caller-index.js'
import type { CompiledWindow } from './time-window.js'
import type { PrefixAlphabet } from '../prefix-chars.js'

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

/**
 * The rules of one prefix in a group, as slots of the table's rule store (rule-store.ts), by
 * priority desc, then id asc: the slot itself when it is the only one, as most are (an array per
 * rule was a million more objects for the collector to copy and mark at a million rules).
 */
export type PrefixRules = number | readonly number[]

export const ruleCount = (at: PrefixRules): number => (typeof at === 'number' ? 1 : at.length)
export const slotAt = (at: PrefixRules, i: number): number => (typeof at === 'number' ? at : at[i] as number)

/** The rules of one caller group: prefix → its rules. */
export interface GroupIndex {
  readonly byPrefix: ReadonlyMap<string, PrefixRules>
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

export interface CompileMeta { readonly partition: string, readonly version: number }

/** A partition's data without its rules: what a snapshot read gives before the rule pages. */
export type PartitionHead = Omit<PartitionData, 'rules'>

/** One page of a snapshot read: its rules, and per rule the hash of its stored row (the checksum sums them). */
export interface RulePage {
  readonly rules: readonly RuleData[]
  readonly hashes: Float64Array
}

/** A rule's interned target list, and the targets in it that name nothing usable. */
export interface TargetList { readonly list: readonly CompiledTarget[], readonly unknown: readonly CompiledTarget[] }

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
  readonly prefix: string[]
  readonly windows: CompiledWindow[]
  readonly lists: TargetList[]
  readonly groupLists: Array<readonly string[]>
  readonly attrsList: Attrs[]
}
