/**
 * A partition's compiled rules as columns: one slot per compiled rule, its numbers in typed
 * arrays and its shared parts (target list, time window, groups, attrs) as indexes into lists of
 * distinct values. At a million rules an object per rule was a million objects for the young
 * collector to copy and the old one to mark on every major collection, twice during a reload; a
 * typed array is one object whose contents the collector never walks.
 *
 * Append-only: a slot, once written, is never changed, so a table built earlier (which only holds
 * slots below the length it saw) reads the same rule whatever is appended for a newer table; a
 * rule edited incrementally gets a new slot and its old one is left dead until the next full read
 * (see `deadSlots`). Growing replaces the arrays with longer copies, which old tables read the same.
 */
import type { CompiledRule, CompiledTarget, RuleStore, SortMode } from './compiled.js'
import type { CompiledWindow } from './time-window.js'

type Attrs = Readonly<Record<string, unknown>>

export type { RuleStore } from './compiled.js'

export const SORTS: readonly SortMode[] = ['ordered', 'weighted', 'hash', 'least_loaded']
const SORT_CODE: Readonly<Record<SortMode, number>> = { ordered: 0, weighted: 1, hash: 2, least_loaded: 3 }
const ENABLED = 1
const FALLBACK = 2
/** max_targets as stored when the rule sets none. */
const NO_LIMIT = -1
/** The time window column's value for a rule valid at all times. */
export const ALWAYS = -1

/** Appends `value` to `list` once, remembering its index in `slots`. */
export function slotOf<T> (value: T, list: T[], slots: Map<T, number>): number {
  let slot = slots.get(value)
  if (slot === undefined) {
    slot = list.length
    list.push(value)
    slots.set(value, slot)
  }
  return slot
}

export function createRuleStore (capacity = 1024): RuleStore {
  return {
    length: 0,
    id: new Float64Array(capacity),
    hashKey: new Int32Array(capacity),
    priority: new Int32Array(capacity),
    maxTargets: new Int32Array(capacity),
    flags: new Uint8Array(capacity),
    window: new Int32Array(capacity),
    targets: new Int32Array(capacity),
    groups: new Int32Array(capacity),
    attrs: new Int32Array(capacity),
    prefixStart: new Uint32Array(capacity),
    prefixLength: new Uint8Array(capacity),
    prefixBytes: new Uint8Array(capacity * 12),
    prefixEnd: 0,
    windows: [],
    listTargets: [],
    listStart: new Uint32Array(64),
    listLength: new Uint32Array(64),
    listUnknown: new Uint32Array(64),
    listCount: 0,
    groupLists: [],
    attrsList: []
  }
}

function grown<A extends Float64Array | Int32Array | Uint32Array | Uint8Array> (array: A, capacity: number): A {
  const out = new (array.constructor as new (n: number) => A)(capacity)
  out.set(array)
  return out
}

function ensure (s: RuleStore): void {
  if (s.length < s.id.length) return
  const capacity = s.id.length * 2
  s.id = grown(s.id, capacity)
  s.hashKey = grown(s.hashKey, capacity)
  s.priority = grown(s.priority, capacity)
  s.maxTargets = grown(s.maxTargets, capacity)
  s.flags = grown(s.flags, capacity)
  s.window = grown(s.window, capacity)
  s.targets = grown(s.targets, capacity)
  s.groups = grown(s.groups, capacity)
  s.attrs = grown(s.attrs, capacity)
  s.prefixStart = grown(s.prefixStart, capacity)
  s.prefixLength = grown(s.prefixLength, capacity)
}

/** Room for `bytes` more prefix bytes. */
function ensureBytes (s: RuleStore, bytes: number): void {
  if (s.prefixEnd + bytes <= s.prefixBytes.length) return
  s.prefixBytes = grown(s.prefixBytes, Math.max(s.prefixBytes.length * 2, s.prefixEnd + bytes))
}

/** What one compiled rule is, its shared parts already interned into the store's lists. */
export interface RuleColumns {
  readonly id: number
  readonly hashKey: number
  readonly prefix: string
  readonly priority: number
  /** Infinity when the rule sets no limit. */
  readonly maxTargets: number
  readonly sort: SortMode
  readonly enabled: boolean
  readonly fallback: boolean
  readonly window: number
  readonly targets: number
  readonly groups: number
  readonly attrs: number
}

/** Appends a rule; returns its slot. */
export function addRule (s: RuleStore, r: RuleColumns): number {
  ensure(s)
  const slot = s.length++
  s.id[slot] = r.id
  s.hashKey[slot] = r.hashKey
  s.priority[slot] = r.priority
  s.maxTargets[slot] = r.maxTargets === Infinity ? NO_LIMIT : Math.min(r.maxTargets, 0x7fffffff)
  s.flags[slot] = (r.enabled ? ENABLED : 0) | (r.fallback ? FALLBACK : 0) | (SORT_CODE[r.sort] << 2)
  s.window[slot] = r.window
  s.targets[slot] = r.targets
  s.groups[slot] = r.groups
  s.attrs[slot] = r.attrs
  const prefix = r.prefix
  // Compiling discards a prefix over 64 characters or outside the ASCII alphabet before it gets here.
  if (prefix.length > 255) throw new Error(`prefix of ${prefix.length} characters in the rule store`)
  ensureBytes(s, prefix.length)
  s.prefixStart[slot] = s.prefixEnd
  s.prefixLength[slot] = prefix.length
  for (let i = 0; i < prefix.length; i++) s.prefixBytes[s.prefixEnd++] = prefix.charCodeAt(i)
  return slot
}

/** A slot's prefix as a string (a new one each call: for compiling, edits, explain and exports, not per call). */
export function prefixOf (s: RuleStore, slot: number): string {
  const start = s.prefixStart[slot] as number
  return String.fromCharCode(...s.prefixBytes.subarray(start, start + (s.prefixLength[slot] as number)))
}

// The per-call reads (decide-routes.ts), each one array access.
export const isEnabled = (s: RuleStore, slot: number): boolean => ((s.flags[slot] as number) & ENABLED) !== 0
export const isFallback = (s: RuleStore, slot: number): boolean => ((s.flags[slot] as number) & FALLBACK) !== 0
export const sortOf = (s: RuleStore, slot: number): SortMode => SORTS[((s.flags[slot] as number) >> 2) & 3] as SortMode
export const maxTargetsOf = (s: RuleStore, slot: number): number => {
  const n = s.maxTargets[slot] as number
  return n === NO_LIMIT ? Infinity : n
}
export const windowOf = (s: RuleStore, slot: number): CompiledWindow | null => {
  const w = s.window[slot] as number
  return w === ALWAYS ? null : s.windows[w] as CompiledWindow
}

/** Appends a target list; returns its index. */
export function addTargetList (s: RuleStore, list: readonly CompiledTarget[]): number {
  if (s.listCount === s.listStart.length) {
    s.listStart = grown(s.listStart, s.listCount * 2)
    s.listLength = grown(s.listLength, s.listCount * 2)
    s.listUnknown = grown(s.listUnknown, s.listCount * 2)
  }
  const index = s.listCount++
  s.listStart[index] = s.listTargets.length
  s.listLength[index] = list.length
  let unknown = 0
  for (const target of list) {
    if (target.kind === 'unknown') unknown++
    s.listTargets.push(target)
  }
  s.listUnknown[index] = unknown
  return index
}

/** The targets of the rule in `slot` copied into `into` (the caller's scratch, emptied first; the per-call read); returns `into`. */
export function targetsInto (s: RuleStore, slot: number, into: CompiledTarget[]): CompiledTarget[] {
  const list = s.targets[slot] as number
  const start = s.listStart[list] as number
  const n = s.listLength[list] as number
  into.length = n
  for (let i = 0; i < n; i++) into[i] = s.listTargets[start + i] as CompiledTarget
  return into
}

/** Target list `list` as a new frozen array (compiling, edits, explain, exports). */
export function listAt (s: RuleStore, list: number): readonly CompiledTarget[] {
  const start = s.listStart[list] as number
  return Object.freeze(s.listTargets.slice(start, start + (s.listLength[list] as number)))
}
export const targetsOf = (s: RuleStore, slot: number): readonly CompiledTarget[] => listAt(s, s.targets[slot] as number)
export const groupsOf = (s: RuleStore, slot: number): readonly string[] => s.groupLists[s.groups[slot] as number] as readonly string[]

/** drouting's order within one prefix: priority descending, then id ascending. */
export const byPriorityIn = (s: RuleStore) => (a: number, b: number): number =>
  ((s.priority[b] as number) - (s.priority[a] as number)) || ((s.id[a] as number) - (s.id[b] as number))

/** The rule in a slot as one object: for explain, exports of a table and tests, not for the per-call path. */
export function ruleView (s: RuleStore, slot: number): CompiledRule {
  return Object.freeze({
    id: s.id[slot] as number,
    hashKey: s.hashKey[slot] as number,
    groups: groupsOf(s, slot),
    prefix: prefixOf(s, slot),
    priority: s.priority[slot] as number,
    window: windowOf(s, slot),
    targets: targetsOf(s, slot),
    sort: sortOf(s, slot),
    maxTargets: maxTargetsOf(s, slot),
    fallback: isFallback(s, slot),
    enabled: isEnabled(s, slot),
    attrs: s.attrsList[s.attrs[slot] as number] as Attrs
  })
}
