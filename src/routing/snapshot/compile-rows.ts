/**
 * The row compilers of a partition snapshot: gateways, carriers, rules, with the interning that
 * keeps a million rules small and quick to build (targets, target lists, windows and groups are
 * shared between rules; lookups go by object identity, not by keys built per rule). A rule is
 * written into the table's rule store (rule-store.ts) as a slot.
 */
import type { CarrierMember, CompiledCarrier, CompiledGateway, CompiledTarget, CompileEntity, CompileProblem, LoadCounts } from './compiled.js'
import { fmix32, hashString } from './hash.js'
import type { CarrierData, GatewayData, RuleData } from '../routing-data.schema.js'
import { ROWS_PER_STEP, type Steps } from './slices.js'
import { compileTimeWindow, type CompiledWindow } from './time-window.js'
import { outsideAlphabet, prefixAlphabet, prefixProblem, type PrefixAlphabet } from '../prefix-chars.js'
import { withTimerec } from './timerec-compile.js'
import { parseGatewayAddress } from '../validate-data.js'
import { addRule, ALWAYS, createRuleStore, slotOf, type RuleStore, type TargetList } from './rule-store.js'

/** Problems listed per compile; counts stay exact beyond it, a closing entry says how many were left out. */
export const MAX_LISTED_PROBLEMS = 1000
const PLURAL = { gateway: 'gateways', carrier: 'carriers', rule: 'rules', caller_group: 'caller_groups' } as const
export const ENTITIES = Object.keys(PLURAL) as CompileEntity[]
export const pluralOf = (entity: CompileEntity): keyof LoadCounts => PLURAL[entity]

// The schema bounds these, but a row that slipped past it must not make the weighted draw loop or
// `slice` count from the end: clamp to what the schema allows.
const weightOf = (w: number | undefined): number => (w === undefined ? 1 : Number.isFinite(w) ? Math.min(65535, Math.max(0, Math.floor(w))) : 0)
const countOf = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0)

// Most rules have no attrs: one shared empty object instead of a million.
const NO_ATTRS: Readonly<Record<string, unknown>> = Object.freeze({})
function attrsOf (attrs: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  for (const key in attrs) if (Object.hasOwn(attrs, key)) return attrs
  return NO_ATTRS
}

export interface Collector {
  readonly counts: LoadCounts
  readonly list: CompileProblem[]
  unlisted: number
}

export function problem (c: Collector, entity: CompileEntity, id: string | number, message: string): void {
  if (c.list.length < MAX_LISTED_PROBLEMS) c.list.push({ entity, id: String(id), message })
  else c.unlisted++
}

/** Counts a row as loaded (no message) or discarded (with why). */
export function account (c: Collector, entity: CompileEntity, id: string | number, discarded?: string): void {
  if (discarded === undefined) {
    c.counts[PLURAL[entity]].loaded++
  } else {
    c.counts[PLURAL[entity]].discarded++
    problem(c, entity, id, `discarded: ${discarded}`)
  }
}

/**
 * The shared row loop: a repeated id, or a compile answering a string, discards the row. Rows
 * given in several calls go into one `out` (repeats are found across them); `added` sees each kept one.
 */
export function * compileRows<Row extends { id: string | number }, Out> (
  rows: readonly Row[], entity: CompileEntity, c: Collector, compile: (row: Row) => Out | string,
  out = new Map<Row['id'], Out>(), added?: (compiled: Out) => void
): Steps<Map<Row['id'], Out>> {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row
    const compiled = out.has(row.id) ? 'duplicate id' : compile(row)
    if (typeof compiled !== 'string') {
      out.set(row.id, compiled)
      added?.(compiled)
    }
    account(c, entity, row.id, typeof compiled === 'string' ? compiled : undefined)
    if (i % ROWS_PER_STEP === 0) yield
  }
  return out
}

export function compileGateway (data: GatewayData): CompiledGateway | string {
  const address = parseGatewayAddress(data.address)
  if (typeof address === 'string') return address
  const flags = data.attrs.branch_flags
  return Object.freeze({
    id: data.id,
    hashKey: hashString(data.id),
    weight: weightOf(data.weight),
    dstUri: address.uri,
    uriScheme: `${address.scheme}:`,
    uriSuffix: `@${address.host}${address.port === undefined ? '' : `:${address.port}`}${address.transport === undefined ? '' : `;transport=${address.transport}`}`,
    strip: countOf(data.strip),
    prefix: data.prefix,
    socket: data.socket,
    attrs: data.attrs,
    frTimer: data.fr_timer,
    frInvTimer: data.fr_inv_timer,
    enabled: data.enabled,
    branchFlags: Number.isSafeInteger(flags) && (flags as number) >= 0 ? flags as number : undefined,
    maxCalls: data.max_calls ?? Infinity,
    maxCps: data.max_cps ?? Infinity
  })
}

/**
 * Unknown or repeated members are dropped (each a problem); the carrier itself is discarded only
 * when it listed members and none is left. An empty carrier by design stays, expanding to nothing.
 */
export function compileCarrier (row: CarrierData, gateways: ReadonlyMap<string, CompiledGateway>, c: Collector): CompiledCarrier | string {
  const members: CarrierMember[] = []
  for (const m of row.gateways) {
    const gateway = gateways.get(m.gateway)
    if (gateway === undefined) problem(c, 'carrier', row.id, `member "${m.gateway}" dropped: unknown or discarded gateway`)
    else if (members.some((x) => x.gateway === gateway)) problem(c, 'carrier', row.id, `member "${m.gateway}" dropped: listed twice`)
    else members.push(Object.freeze({ gateway, weight: weightOf(m.weight), hashKey: gateway.hashKey }))
  }
  if (row.gateways.length > 0 && members.length === 0) return 'none of its gateways is usable'
  return Object.freeze({
    id: row.id,
    hashKey: hashString(`#${row.id}`),
    sort: row.sort,
    firstOnly: row.first_only,
    enabled: row.enabled,
    attrs: row.attrs,
    members: Object.freeze(members),
    maxCalls: row.max_calls ?? Infinity,
    maxCps: row.max_cps ?? Infinity
  })
}

/** A node of the target-list trie: the list (its index in the store) of the targets on the path to it, once some rule has it. */
interface ListNode {
  readonly next: Map<CompiledTarget, ListNode>
  targets?: number
}

export interface RuleContext {
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  /** Interned targets by id, then by the weight as written (so `1` and no weight are one target). */
  readonly gatewayTargets: Map<string, Map<number, CompiledTarget>>
  readonly carrierTargets: Map<string, Map<number, CompiledTarget>>
  readonly lists: ListNode
  readonly windows: Map<string, CompiledWindow | string>
  /** A compiled window's index in the store. */
  readonly windowSlots: Map<CompiledWindow, number>
  /** A group list's index in the store, by its groups joined. */
  readonly groups: Map<string, number>
  /** An attrs object's index in the store, by identity. */
  readonly attrSlots: Map<Readonly<Record<string, unknown>>, number>
  /** Where the rules go: shared by every table of one full read and its incremental updates. */
  readonly store: RuleStore
  /**
   * The same lookups by object identity, for the frozen values the snapshot loader shares between
   * rows (rule-pages.ts): a million rules have a few thousand target lists, and walking the trie or
   * building a key per rule was a tenth of the compile.
   */
  readonly shared: Map<object, unknown>
  /** The partition's extra_prefix_chars: a rule whose prefix holds anything else is discarded, as drouting does. */
  readonly extraPrefixChars: string
  readonly alphabet: PrefixAlphabet
}

/** The rule store and what is interned into it: new per full read, kept by its incremental updates. */
export type Interned = Pick<RuleContext, 'windows' | 'windowSlots' | 'groups' | 'attrSlots' | 'store'>

function newInterned (): Interned {
  const store = createRuleStore()
  store.attrsList.push(NO_ATTRS)
  return { windows: new Map(), windowSlots: new Map(), groups: new Map(), attrSlots: new Map([[NO_ATTRS, 0]]), store }
}

export function createRuleContext (gateways: ReadonlyMap<string, CompiledGateway>, carriers: ReadonlyMap<string, CompiledCarrier>, extraPrefixChars = '', interned = newInterned()): RuleContext {
  return { extraPrefixChars, alphabet: prefixAlphabet(extraPrefixChars), gateways, carriers, gatewayTargets: new Map(), carrierTargets: new Map(), lists: { next: new Map() }, shared: new Map(), ...interned }
}

function newTarget (target: RuleData['targets'][number], ctx: RuleContext): CompiledTarget {
  const weight = weightOf(target.weight)
  if ('gateway' in target) {
    const gateway = ctx.gateways.get(target.gateway)
    return Object.freeze(gateway === undefined
      ? { kind: 'unknown', id: target.gateway, weight, hashKey: hashString(target.gateway), of: 'gateway' }
      : { kind: 'gateway', id: target.gateway, weight, hashKey: gateway.hashKey, gateway })
  }
  const carrier = ctx.carriers.get(target.carrier)
  return Object.freeze(carrier === undefined
    ? { kind: 'unknown', id: target.carrier, weight, hashKey: hashString(`#${target.carrier}`), of: 'carrier' }
    : { kind: 'carrier', id: target.carrier, weight, hashKey: carrier.hashKey, carrier })
}

function compileTarget (target: RuleData['targets'][number], ctx: RuleContext): CompiledTarget {
  const isGateway = 'gateway' in target
  const byId = isGateway ? ctx.gatewayTargets : ctx.carrierTargets
  const id = isGateway ? target.gateway : target.carrier
  let byWeight = byId.get(id)
  if (byWeight === undefined) byId.set(id, byWeight = new Map())
  const written = target.weight ?? 1
  let compiled = byWeight.get(written)
  if (compiled === undefined) byWeight.set(written, compiled = newTarget(target, ctx))
  return compiled
}

/**
 * `compile(value)`, remembered by identity when `value` is frozen (shared by the loader); an
 * unshared value goes to `unshared` when given.
 */
function byIdentity<V extends object, T> (value: V, ctx: RuleContext, compile: (value: V) => T, unshared: (value: V) => T = compile): T {
  if (!Object.isFrozen(value)) return unshared(value)
  let found = ctx.shared.get(value) as T | undefined
  if (found === undefined) ctx.shared.set(value, found = compile(value))
  return found
}

/** A new list in the store; its index. */
function targetList (list: readonly CompiledTarget[], ctx: RuleContext): number {
  const lists: TargetList[] = ctx.store.lists
  lists.push(Object.freeze({ list: Object.freeze(list), unknown: Object.freeze(list.filter((t) => t.kind === 'unknown')) }))
  return lists.length - 1
}

/**
 * The rule's interned target list. A list the loader shares (frozen: one per distinct text, see
 * rule-pages.ts) is compiled once and needs no trie: equal texts are one list already, and a
 * trie node per target of a few hundred thousand one-off lists was a Map each to build and keep.
 */
function compileTargets (row: RuleData, ctx: RuleContext): number {
  return byIdentity(row.targets, ctx, (targets) => targetList(targets.map((t) => compileTarget(t, ctx)), ctx), () => walkTargets(row, ctx))
}

/** An unshared list, found by walking the trie with the interned targets: equal lists end on one node. */
function walkTargets (row: RuleData, ctx: RuleContext): number {
  let node = ctx.lists
  for (const t of row.targets) {
    const target = compileTarget(t, ctx)
    let child = node.next.get(target)
    if (child === undefined) node.next.set(target, child = { next: new Map() })
    node = child
  }
  node.targets ??= targetList(row.targets.map((t) => compileTarget(t, ctx)), ctx)
  return node.targets
}

function internGroups (groups: readonly string[], ctx: RuleContext): number {
  return byIdentity(groups, ctx, () => internGroupsByKey(groups, ctx))
}

function internGroupsByKey (groups: readonly string[], ctx: RuleContext): number {
  const key = groups.length === 1 ? groups[0] as string : groups.join(',')
  let interned = ctx.groups.get(key)
  if (interned === undefined) {
    interned = ctx.store.groupLists.length
    ctx.store.groupLists.push(Object.freeze(groups.slice()))
    ctx.groups.set(key, interned)
  }
  return interned
}

/** The time window and the timerec (timerec-compile.ts), both to match. */
function compileWindow (row: RuleData, ctx: RuleContext): CompiledWindow | string | null {
  const window = row.time_window === null ? null : byIdentity(row.time_window, ctx, (tw) => windowByKey(tw, ctx))
  return withTimerec(window, row.timerec, ctx.windows)
}

function windowByKey (timeWindow: NonNullable<RuleData['time_window']>, ctx: RuleContext): CompiledWindow | string {
  const key = JSON.stringify(timeWindow)
  let window = ctx.windows.get(key)
  if (window === undefined) {
    window = compileTimeWindow(timeWindow)
    ctx.windows.set(key, window)
  }
  return window
}

/** The rule written into the context's store: its slot, or why it is discarded. */
export function compileRule (row: RuleData, ctx: RuleContext, c: Collector): number | string {
  // Stored before migration 0006: read back rounded, it could stand for a neighbour.
  if (!Number.isSafeInteger(row.id)) return `id ${row.id} is past ${Number.MAX_SAFE_INTEGER}: it cannot be told from its neighbours`
  if (row.prefix.length > 64 || outsideAlphabet(row.prefix, ctx.alphabet) >= 0) return prefixProblem(row.prefix, ctx.extraPrefixChars) ?? `prefix "${row.prefix}" is longer than 64 characters`
  if (row.groups.length === 0) return 'names no caller group'
  const window = compileWindow(row, ctx)
  if (typeof window === 'string') return window
  const targets = compileTargets(row, ctx)
  const { list, unknown } = ctx.store.lists[targets] as TargetList
  if (unknown.length > 0 && unknown.length === list.length) return 'every target is unknown or discarded'
  for (const t of unknown) problem(c, 'rule', row.id, `target ${t.kind === 'unknown' ? t.of : ''} "${t.id}" is unknown or discarded; never routed`)
  const attrs = attrsOf(row.attrs)
  return addRule(ctx.store, {
    id: row.id,
    hashKey: fmix32(row.id),
    groups: internGroups(row.groups, ctx),
    prefix: row.prefix,
    priority: row.priority,
    window: window === null ? ALWAYS : slotOf(window, ctx.store.windows, ctx.windowSlots),
    targets,
    sort: row.sort,
    maxTargets: row.max_targets === null ? Infinity : countOf(row.max_targets),
    fallback: row.fallback,
    enabled: row.enabled,
    attrs: slotOf(attrs, ctx.store.attrsList, ctx.attrSlots)
  })
}
