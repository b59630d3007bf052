/**
 * The row compilers of a partition snapshot: gateways and carriers, the shared row loop, and the
 * context the rules are compiled in (compile-rule.ts): the interning that keeps a million rules
 * small and quick to build (targets, target lists, windows and groups are shared between rules),
 * and the table's rule store (rule-store.ts) they are written into.
 */
import type { CarrierMember, CompiledCarrier, CompiledGateway, CompiledTarget, CompileEntity, CompileProblem, LoadCounts } from './compiled.js'
import { hashString } from './hash.js'
import type { CarrierData, GatewayData } from '../routing-data.schema.js'
import { ROWS_PER_STEP, type Steps } from './slices.js'
import type { CompiledWindow } from './time-window.js'
import { prefixAlphabet, type PrefixAlphabet } from '../prefix-chars.js'
import { parseGatewayAddress } from '../validate-data.js'
import { createRuleStore, type RuleStore } from './rule-store.js'

/** Problems listed per compile; counts stay exact beyond it, a closing entry says how many were left out. */
export const MAX_LISTED_PROBLEMS = 1000
const PLURAL = { gateway: 'gateways', carrier: 'carriers', rule: 'rules', caller_group: 'caller_groups' } as const
export const ENTITIES = Object.keys(PLURAL) as CompileEntity[]
export const pluralOf = (entity: CompileEntity): keyof LoadCounts => PLURAL[entity]

// The schema bounds these, but a row that slipped past it must not make the weighted draw loop or
// `slice` count from the end: clamp to what the schema allows.
export const weightOf = (w: number | undefined): number => (w === undefined ? 1 : Number.isFinite(w) ? Math.min(65535, Math.max(0, Math.floor(w))) : 0)
export const countOf = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0)

// Most rules have no attrs: one shared empty object instead of a million.
export const NO_ATTRS: Readonly<Record<string, unknown>> = Object.freeze({})
export function attrsOf (attrs: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  for (const key in attrs) if (Object.hasOwn(attrs, key)) return attrs
  return NO_ATTRS
}

/** A stored rule's attrs text (a JSON object) as its attrs: anything but an object with keys is NO_ATTRS. */
export function attrsFromJson (text: string): Readonly<Record<string, unknown>> {
  const value: unknown = JSON.parse(text)
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? attrsOf(value as Record<string, unknown>) : NO_ATTRS
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
 * The row loop of the head (gateways, carriers; the rules have theirs, route-table.ts
 * compilePage): a repeated id, or a compile answering a string, discards the row.
 */
export function * compileRows<Row extends { id: string | number }, Out> (
  rows: readonly Row[], entity: CompileEntity, c: Collector, compile: (row: Row) => Out | string
): Steps<Map<Row['id'], Out>> {
  const out = new Map<Row['id'], Out>()
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row
    const compiled = out.has(row.id) ? 'duplicate id' : compile(row)
    if (typeof compiled !== 'string') out.set(row.id, compiled)
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
  /** What the stored tuples of one read (rule-pages.ts) resolved, by their text (compile-rule.ts `compileTuple`). */
  readonly texts: TupleTexts
  /** The partition's extra_prefix_chars: a rule whose prefix holds anything else is discarded, as drouting does. */
  readonly extraPrefixChars: string
  readonly alphabet: PrefixAlphabet
}

/** The rule store and what is interned into it: new per full read, kept by its incremental updates. */
export type Interned = Pick<RuleContext, 'windows' | 'windowSlots' | 'groups' | 'attrSlots' | 'store'>

/** `expectedRules`: how many rules the store is sized for at first (it grows past them). */
export function newInterned (expectedRules = 0): Interned {
  const store = createRuleStore(Math.max(1024, expectedRules))
  store.attrsList.push(NO_ATTRS)
  return { windows: new Map(), windowSlots: new Map(), groups: new Map(), attrSlots: new Map([[NO_ATTRS, 0]]), store }
}

/** Stored-tuple texts (rule-pages.ts) and what each resolved to: a store index, or why the rule is discarded. */
export interface TupleTexts {
  readonly groups: Map<string, number>
  /** By the time window's text and the timerec's, joined: the window's slot, ALWAYS, or why not. */
  readonly windows: Map<string, number | string>
  readonly targets: Map<string, number>
  /** One target (`g12:50`) by its row (id × 2, + 1 for a carrier), then its weight. */
  readonly items: Map<number, Map<number, CompiledTarget>>
  readonly attrs: Map<string, number>
}

const newTexts = (): TupleTexts => ({ groups: new Map(), windows: new Map(), targets: new Map(), items: new Map(), attrs: new Map() })

export function createRuleContext (gateways: ReadonlyMap<string, CompiledGateway>, carriers: ReadonlyMap<string, CompiledCarrier>, extraPrefixChars = '', interned = newInterned()): RuleContext {
  return {
    extraPrefixChars, alphabet: prefixAlphabet(extraPrefixChars), gateways, carriers, gatewayTargets: new Map(), carrierTargets: new Map(), lists: { next: new Map() }, texts: newTexts(), ...interned
  }
}

/**
 * The context for the next read: what is interned into the store is kept, what one read's values
 * and texts resolved to is not (at a million rules, hundreds of thousands of target lists that
 * the snapshot would otherwise keep alive).
 */
export const forNextRead = (ctx: RuleContext): RuleContext => ({ ...ctx, texts: newTexts() })
