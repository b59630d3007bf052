/** Compiles one partition's routing data into the immutable lookup structures the per-call decision reads. */
import { compileCallerIndex, type CallerIndex } from './caller-index.js'
import { dataChecksum } from './data-checksum.js'
import type { CarrierData, GatewayData, PartitionData, RuleData } from './routing-data.schema.js'
import { fmix32, hashString, type SortMode } from './select.js'
import { compileTimeWindow, type CompiledWindow } from './time-window.js'
import { parseGatewayAddress } from './validate-data.js'

export type { CallerIndex } from './caller-index.js'

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

/** The rules of one caller group: prefix → rules by priority desc, then id asc. */
export interface GroupIndex {
  readonly byPrefix: ReadonlyMap<string, readonly CompiledRule[]>
  readonly maxPrefixLength: number
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

/** Problems listed per compile; counts stay exact beyond it, a closing entry says how many were left out. */
export const MAX_LISTED_PROBLEMS = 1000
const RULE_PREFIX = /^\+?[0-9]{0,64}$/

// The schema bounds these, but a row that slipped past it must not make the weighted draw loop or
// `slice` count from the end: clamp to what the schema allows.
const weightOf = (w: number | undefined): number => (w === undefined ? 1 : Number.isFinite(w) ? Math.min(65535, Math.max(0, Math.floor(w))) : 0)
const countOf = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0)

const PLURAL = { gateway: 'gateways', carrier: 'carriers', rule: 'rules', caller_group: 'caller_groups' } as const

interface Collector {
  readonly counts: LoadCounts
  readonly list: CompileProblem[]
  unlisted: number
}

function problem (c: Collector, entity: CompileEntity, id: string | number, message: string): void {
  if (c.list.length < MAX_LISTED_PROBLEMS) c.list.push({ entity, id: String(id), message })
  else c.unlisted++
}

/** Counts a row as loaded (no message) or discarded (with why). */
function account (c: Collector, entity: CompileEntity, id: string | number, discarded?: string): void {
  if (discarded === undefined) {
    c.counts[PLURAL[entity]].loaded++
  } else {
    c.counts[PLURAL[entity]].discarded++
    problem(c, entity, id, `discarded: ${discarded}`)
  }
}

/** The shared row loop: a repeated id, or a compile answering a string, discards the row. */
function compileRows<Row extends { id: string | number }, Out extends object> (rows: readonly Row[], entity: CompileEntity, c: Collector, compile: (row: Row) => Out | string): Map<Row['id'], Out> {
  const out = new Map<Row['id'], Out>()
  for (const row of rows) {
    const compiled = out.has(row.id) ? 'duplicate id' : compile(row)
    if (typeof compiled !== 'string') out.set(row.id, compiled)
    account(c, entity, row.id, typeof compiled === 'string' ? compiled : undefined)
  }
  return out
}

function compileGateway (data: GatewayData): CompiledGateway | string {
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
    branchFlags: Number.isSafeInteger(flags) && (flags as number) >= 0 ? flags as number : undefined
  })
}

/**
 * Unknown or repeated members are dropped (each a problem); the carrier itself is discarded only
 * when it listed members and none is left. An empty carrier by design stays, expanding to nothing.
 */
function compileCarrier (row: CarrierData, gateways: ReadonlyMap<string, CompiledGateway>, c: Collector): CompiledCarrier | string {
  const members: CarrierMember[] = []
  for (const m of row.gateways) {
    const gateway = gateways.get(m.gateway)
    if (gateway === undefined) problem(c, 'carrier', row.id, `member "${m.gateway}" dropped: unknown or discarded gateway`)
    else if (members.some((x) => x.gateway === gateway)) problem(c, 'carrier', row.id, `member "${m.gateway}" dropped: listed twice`)
    else members.push(Object.freeze({ gateway, weight: weightOf(m.weight), hashKey: gateway.hashKey }))
  }
  if (row.gateways.length > 0 && members.length === 0) return 'none of its gateways is usable'
  return Object.freeze({
    id: row.id, hashKey: hashString(`#${row.id}`), sort: row.sort, firstOnly: row.first_only, enabled: row.enabled, attrs: row.attrs, members: Object.freeze(members)
  })
}

interface RuleContext {
  readonly gateways: ReadonlyMap<string, CompiledGateway>
  readonly carriers: ReadonlyMap<string, CompiledCarrier>
  // Many rules share targets, target lists and windows: interning keeps 1M rules small.
  readonly targets: Map<string, CompiledTarget>
  readonly lists: Map<string, readonly CompiledTarget[]>
  readonly windows: Map<string, CompiledWindow | string>
  readonly groups: Map<string, readonly string[]>
}

function compileTarget (target: RuleData['targets'][number], ctx: RuleContext): CompiledTarget {
  const weight = weightOf(target.weight)
  const key = targetKey(target)
  let compiled = ctx.targets.get(key)
  if (compiled === undefined) {
    if ('gateway' in target) {
      const gateway = ctx.gateways.get(target.gateway)
      compiled = gateway === undefined
        ? { kind: 'unknown', id: target.gateway, weight, hashKey: hashString(target.gateway), of: 'gateway' }
        : { kind: 'gateway', id: target.gateway, weight, hashKey: gateway.hashKey, gateway }
    } else {
      const carrier = ctx.carriers.get(target.carrier)
      compiled = carrier === undefined
        ? { kind: 'unknown', id: target.carrier, weight, hashKey: hashString(`#${target.carrier}`), of: 'carrier' }
        : { kind: 'carrier', id: target.carrier, weight, hashKey: carrier.hashKey, carrier }
    }
    ctx.targets.set(key, Object.freeze(compiled))
  }
  return compiled
}

const targetKey = (t: RuleData['targets'][number]): string => ('gateway' in t ? `g${t.weight ?? 1}:${t.gateway}` : `c${t.weight ?? 1}:${t.carrier}`)

function compileTargets (row: RuleData, ctx: RuleContext): readonly CompiledTarget[] {
  let key = ''
  for (const t of row.targets) key += `${targetKey(t)},`
  let list = ctx.lists.get(key)
  if (list === undefined) {
    list = Object.freeze(row.targets.map((t) => compileTarget(t, ctx)))
    ctx.lists.set(key, list)
  }
  return list
}

function internGroups (groups: readonly string[], ctx: RuleContext): readonly string[] {
  const key = groups.join(',')
  let interned = ctx.groups.get(key)
  if (interned === undefined) ctx.groups.set(key, interned = Object.freeze(groups.slice()))
  return interned
}

function compileWindow (row: RuleData, ctx: RuleContext): CompiledWindow | string | null {
  if (row.time_window === null) return null
  const key = JSON.stringify(row.time_window)
  let window = ctx.windows.get(key)
  if (window === undefined) {
    window = compileTimeWindow(row.time_window)
    ctx.windows.set(key, window)
  }
  return window
}

function compileRule (row: RuleData, ctx: RuleContext, c: Collector): CompiledRule | string {
  if (!RULE_PREFIX.test(row.prefix)) return `prefix "${row.prefix}" is not digits after an optional +`
  if (row.groups.length === 0) return 'names no caller group'
  const window = compileWindow(row, ctx)
  if (typeof window === 'string') return window
  const targets = compileTargets(row, ctx)
  const unknown = targets.filter((t) => t.kind === 'unknown')
  if (unknown.length > 0 && unknown.length === targets.length) return 'every target is unknown or discarded'
  for (const t of unknown) problem(c, 'rule', row.id, `target ${t.kind === 'unknown' ? t.of : ''} "${t.id}" is unknown or discarded; never routed`)
  return Object.freeze({
    id: row.id,
    hashKey: fmix32(row.id),
    groups: internGroups(row.groups, ctx),
    prefix: row.prefix,
    priority: row.priority,
    window,
    targets,
    sort: row.sort,
    maxTargets: row.max_targets === null ? Infinity : countOf(row.max_targets),
    fallback: row.fallback,
    enabled: row.enabled,
    attrs: row.attrs
  })
}

const byPriority = (a: CompiledRule, b: CompiledRule): number => (b.priority - a.priority) || (a.id - b.id)

function indexRules (rules: Iterable<CompiledRule>): Map<string, GroupIndex> {
  const building = new Map<string, { byPrefix: Map<string, CompiledRule[]>, maxPrefixLength: number }>()
  for (const rule of rules) {
    for (const group of rule.groups) {
      let index = building.get(group)
      if (index === undefined) building.set(group, index = { byPrefix: new Map(), maxPrefixLength: 0 })
      const list = index.byPrefix.get(rule.prefix)
      if (list === undefined) index.byPrefix.set(rule.prefix, [rule])
      else list.push(rule)
      if (rule.prefix.length > index.maxPrefixLength) index.maxPrefixLength = rule.prefix.length
    }
  }
  for (const index of building.values()) {
    for (const list of index.byPrefix.values()) Object.freeze(list.length > 1 ? list.sort(byPriority) : list)
    Object.freeze(index)
  }
  return building
}

/** The drouting-style report line: "3 gateways loaded (0 discarded), 1 carriers loaded (0 discarded), …". */
export function formatLoadCounts (counts: LoadCounts): string {
  return (Object.keys(PLURAL) as CompileEntity[])
    .map((entity) => `${counts[PLURAL[entity]].loaded} ${PLURAL[entity].replace('_', ' ')} loaded (${counts[PLURAL[entity]].discarded} discarded)`).join(', ')
}

/**
 * Builds a partition's table; unusable rows are discarded and counted, each with a problem saying
 * why. `meta.checksum` skips hashing when the caller already has the data's sum (it is about a
 * third of the compile time at 1M rules).
 */
export function compileRouteTable (data: PartitionData, meta: { partition: string, version: number, checksum?: string }): CompileResult {
  const counts: LoadCounts = { gateways: { loaded: 0, discarded: 0 }, carriers: { loaded: 0, discarded: 0 }, rules: { loaded: 0, discarded: 0 }, caller_groups: { loaded: 0, discarded: 0 } }
  const c: Collector = { counts, list: [], unlisted: 0 }
  const gateways = compileRows(data.gateways, 'gateway', c, compileGateway)
  const carriers = compileRows(data.carriers, 'carrier', c, (row) => compileCarrier(row, gateways, c))
  const ctx: RuleContext = { gateways, carriers, targets: new Map(), lists: new Map(), windows: new Map(), groups: new Map() }
  const rules = compileRows(data.rules, 'rule', c, (row) => compileRule(row, ctx, c))
  const callers = compileCallerIndex(data.caller_groups, (id, discarded) => { account(c, 'caller_group', id, discarded) })
  if (c.unlisted > 0) c.list.push({ entity: 'partition', id: meta.partition, message: `${c.unlisted} more problems not listed` })
  const table: CompiledPartition = Object.freeze({
    partition: meta.partition,
    version: meta.version,
    checksum: meta.checksum ?? dataChecksum(data),
    defaultGroup: data.partition.default_group,
    gateways,
    carriers,
    rules,
    groups: indexRules(rules.values()),
    callers
  })
  return { table, counts, problems: c.list }
}
