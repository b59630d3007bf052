/** The pure per-call decision: caller group, longest prefix, priority and time window, target expansion, health. */
import { dialledNumber, type NumberField } from './dialled-number.js'
import { maskV4, maskV6, parseIpv4, parseIpv6, type CallerIndex } from './caller-index.js'
import {
  type CompiledCarrier, type CompiledGateway, type CompiledPartition, type CompiledRule, type CompiledTarget, type GroupIndex
} from './route-table.js'
import { callSeed, mixSeed, orderTargets } from './select.js'
import { sipUserHost } from './sip-uri.js'
import { isWindowOpen } from './time-window.js'

export type GatewayState = 'active' | 'suspect' | 'down' | 'disabled'

/** Calls counted against a gateway or carrier now: offered or started and not ended, and new ones in the last second. */
export interface Usage {
  readonly calls: number
  readonly cps: number
}

/** Runtime gateway health; `undefined` (never reported) counts as active. */
export interface GatewayHealthView {
  stateOf: (gatewayId: string) => GatewayState | undefined
  /** Carriers switched off at run time (drouting:carrier_status), besides the data's own flag. */
  carrierDisabled?: (carrierId: string) => boolean
  /** Call accounting of limited gateways and carriers; absent, nothing counts as loaded. */
  gatewayUsage?: (gatewayId: string) => Usage | undefined
  carrierUsage?: (carrierId: string) => Usage | undefined
}

interface Limits { readonly maxCalls: number, readonly maxCps: number }

/** Relative free capacity in [0, 1]: the tighter of the two limits; 1 without limits. Full is 0. */
export function freeCapacity (limits: Limits, usage: Usage | undefined): number {
  if (usage === undefined) return 1
  const calls = limits.maxCalls === Infinity ? 1 : (limits.maxCalls - usage.calls) / limits.maxCalls
  const cps = limits.maxCps === Infinity ? 1 : (limits.maxCps - usage.cps) / limits.maxCps
  return Math.max(0, Math.min(calls, cps))
}

/** Whether one more call would exceed a limit. */
export function atCapacity (limits: Limits, usage: Usage | undefined): boolean {
  return usage !== undefined && (usage.calls >= limits.maxCalls || usage.cps >= limits.maxCps)
}

export const limited = (limits: Limits): boolean => limits.maxCalls !== Infinity || limits.maxCps !== Infinity

/** The proxy's query, camelCase (the HTTP layer maps the snake_case body). */
export interface RouteQuery {
  callId: string
  requestUri?: string
  toUri?: string
  fromUri?: string
  fromName?: string
  fromTag?: string
  toName?: string
  toTag?: string
  sourceIp?: string
  sourcePort?: number
  group?: string
}

export type GroupSource = 'query' | 'from_uri' | 'from_domain' | 'source_ip' | 'default'

export interface Route {
  readonly gatewayId: string
  /** The R-URI: the number after the gateway's strip and prefix, at the gateway's host:port. */
  readonly uri: string
  /** The weight the gateway was listed with: the rule target's, or the carrier member's. */
  readonly weight: number
  /** Everything else of the route (dst_uri, socket, timers, attrs) is the gateway's own: not copied per call. */
  readonly gateway: CompiledGateway
  /** The carrier it was listed through, if any (its calls count against the carrier's limits too). */
  readonly carrier: CompiledCarrier | undefined
}

export type RuleVerdict = 'taken' | 'lower_priority' | 'window_closed' | 'disabled' | 'exhausted' | 'exhausted_fallback'
export type TargetVerdict = 'kept' | 'down' | 'disabled' | 'duplicate' | 'at_capacity' | 'cut_max_targets' | 'carrier_first_only' | 'carrier_disabled' | 'unknown'

export interface DecisionTrace {
  readonly seed: number
  number?: string
  group?: string
  groupSource?: GroupSource
  /** Every prefix probed, longest first, with how many rules the group has there. */
  readonly prefixes: Array<{ prefix: string, rules: number }>
  readonly rules: Array<{ ruleId: number, prefix: string, priority: number, verdict: RuleVerdict }>
  /** `gateway` and/or `carrier`: a carrier's own verdict has no gateway; `state` is the health seen. */
  readonly targets: Array<{ ruleId: number, gateway?: string, carrier?: string, state?: GatewayState, verdict: TargetVerdict }>
}

interface Matched {
  readonly number: string
  readonly group: string
  readonly groupSource: GroupSource
  readonly trace?: DecisionTrace | undefined
}

export type Decision =
  | Matched & { readonly outcome: 'routed', readonly rule: CompiledRule, readonly ruleId: number, readonly prefix: string, readonly routes: readonly Route[] }
  | Matched & { readonly outcome: 'no_destination', readonly rule: CompiledRule, readonly ruleId: number, readonly prefix: string }
  /** Like no_destination, but some target was left out only because it was full: worth a retry soon. */
  | Matched & { readonly outcome: 'no_capacity', readonly rule: CompiledRule, readonly ruleId: number, readonly prefix: string }
  | Matched & { readonly outcome: 'no_route' }
  | { readonly outcome: 'bad_request', readonly field: NumberField, readonly message: string, readonly trace?: DecisionTrace | undefined }

interface Context {
  readonly health: GatewayHealthView
  readonly number: string
  readonly seed: number
  readonly nowMs: number
  readonly trace: DecisionTrace | undefined
  /** Targets of the rule being expanded that were skipped only for being full. */
  full: number
}

/** The user@domain and domain of a From URI; undefined when it does not parse. */
function fromParts (fromUri: string): { user: string | undefined, domain: string } | undefined {
  const trimmed = fromUri.trim()
  // A name-addr (`<sip:…>`) is accepted as well as a bare URI.
  const uri = trimmed.charCodeAt(0) === 60 ? trimmed.replace(/^<([^>]*)>.*$/, '$1') : trimmed
  const parsed = sipUserHost(uri)
  return parsed === undefined ? undefined : { user: parsed.user, domain: parsed.host.toLowerCase() }
}

function matchV4 (callers: CallerIndex, ip: number): string | undefined {
  for (const level of callers.v4) {
    const group = level.networks.get((ip & level.mask) >>> 0)
    if (group !== undefined) return group
  }
  return undefined
}

/** Longest matching network; an IPv4-mapped IPv6 source also matches IPv4 networks. */
function matchIp (callers: CallerIndex, sourceIp: string): string | undefined {
  const v4 = parseIpv4(sourceIp)
  if (v4 !== undefined) return matchV4(callers, v4)
  const v6 = parseIpv6(sourceIp)
  if (v6 === undefined) return undefined
  const mapped = (v6 >> 32n) === 0xffffn ? matchV4(callers, Number(v6 & 0xffffffffn)) : undefined
  if (mapped !== undefined) return mapped
  for (const level of callers.v6) {
    const group = level.networks.get(v6 & level.mask)
    if (group !== undefined) return group
  }
  return undefined
}

/** Caller lookup: exact From user@domain, then From domain, then the longest CIDR holding the source. */
export function findCallerGroup (callers: CallerIndex, fromUri: string | undefined, sourceIp: string | undefined): { group: string, source: GroupSource } | undefined {
  if (fromUri !== undefined && fromUri !== '' && (callers.fromUri.size > 0 || callers.fromDomain.size > 0)) {
    const from = fromParts(fromUri)
    const byUri = from?.user === undefined ? undefined : callers.fromUri.get(`${from.user}@${from.domain}`)
    if (byUri !== undefined) return { group: byUri, source: 'from_uri' }
    const byDomain = from === undefined ? undefined : callers.fromDomain.get(from.domain)
    if (byDomain !== undefined) return { group: byDomain, source: 'from_domain' }
  }
  if (sourceIp !== undefined && sourceIp !== '' && (callers.v4.length > 0 || callers.v6.length > 0)) {
    const group = matchIp(callers, sourceIp)
    if (group !== undefined) return { group, source: 'source_ip' }
  }
  return undefined
}

function resolveGroup (table: CompiledPartition, query: RouteQuery): { group: string, source: GroupSource } {
  if (query.group !== undefined && query.group !== '') return { group: query.group, source: 'query' }
  return findCallerGroup(table.callers, query.fromUri, query.sourceIp) ?? { group: table.defaultGroup, source: 'default' }
}

function verdictFor (routes: readonly Route[], gateway: CompiledGateway, state: GatewayState | undefined, health: GatewayHealthView): TargetVerdict {
  if (!gateway.enabled || state === 'disabled') return 'disabled'
  if (state === 'down') return 'down'
  for (const route of routes) if (route.gateway === gateway) return 'duplicate'
  if (limited(gateway) && atCapacity(gateway, health.gatewayUsage?.(gateway.id))) return 'at_capacity'
  return 'kept'
}

function offer (routes: Route[], gateway: CompiledGateway, weight: number, rule: CompiledRule, ctx: Context, carrier?: CompiledCarrier): TargetVerdict {
  const state = ctx.health.stateOf(gateway.id)
  const verdict = verdictFor(routes, gateway, state, ctx.health)
  if (verdict === 'at_capacity') ctx.full++
  if (verdict === 'kept') {
    const number = gateway.strip > 0 ? ctx.number.slice(gateway.strip) : ctx.number
    routes.push({
      gatewayId: gateway.id,
      uri: gateway.uriScheme + gateway.prefix + number + gateway.uriSuffix,
      weight,
      gateway,
      carrier
    })
  }
  ctx.trace?.targets.push({ ruleId: rule.id, gateway: gateway.id, ...(carrier === undefined ? {} : { carrier: carrier.id }), state: state ?? 'active', verdict })
  return verdict
}

const gatewayFree = (health: GatewayHealthView, gateway: CompiledGateway): number =>
  limited(gateway) ? freeCapacity(gateway, health.gatewayUsage?.(gateway.id)) : 1

const carrierFree = (health: GatewayHealthView, carrier: CompiledCarrier): number =>
  limited(carrier) ? freeCapacity(carrier, health.carrierUsage?.(carrier.id)) : 1

/** least_loaded's measure of a rule target: a gateway's own, a carrier's own (its members are ordered inside it). */
const targetFree = (health: GatewayHealthView) => (target: CompiledTarget): number =>
  target.kind === 'gateway' ? gatewayFree(health, target.gateway) : target.kind === 'carrier' ? carrierFree(health, target.carrier) : 0

/** A carrier's gateways in the carrier's own order; with first_only, only its first usable one that is not already listed. */
function expandCarrier (routes: Route[], carrier: CompiledCarrier, rule: CompiledRule, ctx: Context): void {
  if (!carrier.enabled || ctx.health.carrierDisabled?.(carrier.id) === true) {
    ctx.trace?.targets.push({ ruleId: rule.id, carrier: carrier.id, verdict: 'carrier_disabled' })
    return
  }
  if (limited(carrier) && atCapacity(carrier, ctx.health.carrierUsage?.(carrier.id))) {
    ctx.full++
    ctx.trace?.targets.push({ ruleId: rule.id, carrier: carrier.id, verdict: 'at_capacity' })
    return
  }
  let taken = false
  const seed = mixSeed(ctx.seed, carrier.hashKey)
  const members = carrier.sort === 'least_loaded'
    ? orderTargets(carrier.members, carrier.sort, seed, (member) => gatewayFree(ctx.health, member.gateway))
    : orderTargets(carrier.members, carrier.sort, seed)
  for (const member of members) {
    const passed: TargetVerdict | undefined = taken ? 'carrier_first_only' : routes.length >= rule.maxTargets ? 'cut_max_targets' : undefined
    if (passed === undefined) {
      taken = offer(routes, member.gateway, member.weight, rule, ctx, carrier) === 'kept' && carrier.firstOnly
      continue
    }
    if (ctx.trace === undefined) return
    ctx.trace.targets.push({ ruleId: rule.id, gateway: member.gateway.id, carrier: carrier.id, verdict: passed })
  }
}

/** The rule's targets ordered by the rule's sort, carriers expanded, unusable and repeated gateways skipped, cut at max_targets. */
function expandRule (rule: CompiledRule, ctx: Context): Route[] {
  const routes: Route[] = []
  ctx.full = 0
  const seed = mixSeed(ctx.seed, rule.hashKey)
  const targets = rule.sort === 'least_loaded' ? orderTargets(rule.targets, rule.sort, seed, targetFree(ctx.health)) : orderTargets(rule.targets, rule.sort, seed)
  for (const target of targets) {
    if (routes.length >= rule.maxTargets) {
      if (ctx.trace === undefined) break
      ctx.trace.targets.push({ ruleId: rule.id, [target.kind === 'unknown' ? target.of : target.kind]: target.id, verdict: 'cut_max_targets' })
    } else if (target.kind === 'gateway') {
      offer(routes, target.gateway, target.weight, rule, ctx)
    } else if (target.kind === 'carrier') {
      expandCarrier(routes, target.carrier, rule, ctx)
    } else {
      ctx.trace?.targets.push({ ruleId: rule.id, [target.of]: target.id, verdict: 'unknown' })
    }
  }
  return routes
}

/** `full`: no route, and some target was left out only for being at capacity. */
interface Found { rule: CompiledRule, prefix: string, routes: Route[], full: boolean }

function passOver (rules: readonly CompiledRule[], from: number, prefix: string, trace: DecisionTrace | undefined): void {
  if (trace === undefined) return
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule
    trace.rules.push({ ruleId: rule.id, prefix, priority: rule.priority, verdict: 'lower_priority' })
  }
}

function note (trace: DecisionTrace | undefined, rule: CompiledRule, prefix: string, verdict: RuleVerdict): void {
  trace?.rules.push({ ruleId: rule.id, prefix, priority: rule.priority, verdict })
}

/** Tries the enabled, open rules of one prefix by priority; undefined when the walk must go on. */
function tryPrefix (rules: readonly CompiledRule[], prefix: string, ctx: Context, state: { first?: Found }): Found | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule
    if (!rule.enabled) {
      note(ctx.trace, rule, prefix, 'disabled')
      continue
    }
    if (rule.window !== null && !isWindowOpen(rule.window, ctx.nowMs)) {
      note(ctx.trace, rule, prefix, 'window_closed')
      continue
    }
    const routes = expandRule(rule, ctx)
    if (routes.length === 0) {
      state.first ??= { rule, prefix, routes, full: ctx.full > 0 }
      note(ctx.trace, rule, prefix, rule.fallback ? 'exhausted_fallback' : 'exhausted')
      if (rule.fallback) continue
    } else {
      note(ctx.trace, rule, prefix, 'taken')
    }
    passOver(rules, i + 1, prefix, ctx.trace)
    return routes.length === 0 ? state.first : { rule, prefix, routes, full: false }
  }
  return undefined
}

/**
 * Longest prefix first, down to the prefixless ('') rules. A rule that yields no usable gateway
 * ends the search unless it has `fallback`; an answer with no destination names the first rule
 * that matched, since that is the one the number was meant for.
 */
function findRoutes (index: GroupIndex | undefined, ctx: Context): Found | undefined {
  if (index === undefined) return undefined
  const state: { first?: Found } = {}
  for (let n = Math.min(ctx.number.length, index.maxPrefixLength); n >= 0; n--) {
    const prefix = ctx.number.slice(0, n)
    const rules = index.byPrefix.get(prefix)
    ctx.trace?.prefixes.push({ prefix, rules: rules?.length ?? 0 })
    if (rules === undefined) continue
    const found = tryPrefix(rules, prefix, ctx, state)
    if (found !== undefined) return found
  }
  return state.first
}

/** Where to send one call. Pure: the same table, health, query and time give the same decision. */
export function decideRoutes (table: CompiledPartition, health: GatewayHealthView, query: RouteQuery, nowMs: number, options?: { trace?: boolean }): Decision {
  const seed = callSeed(query.callId)
  const trace: DecisionTrace | undefined = options?.trace === true ? { seed, prefixes: [], rules: [], targets: [] } : undefined
  const dialled = dialledNumber(query.requestUri, query.toUri)
  if (!dialled.ok) return { outcome: 'bad_request', field: dialled.field, message: dialled.message, trace }
  const { group, source } = resolveGroup(table, query)
  if (trace !== undefined) Object.assign(trace, { number: dialled.number, group, groupSource: source })
  const ctx: Context = { health, number: dialled.number, seed, nowMs, trace, full: 0 }
  const found = findRoutes(table.groups.get(group), ctx)
  // Written out rather than spread from a shared object: a spread costs more than the rest of this function.
  const number = dialled.number
  if (found === undefined) return { outcome: 'no_route', number, group, groupSource: source, trace }
  const { rule, prefix, routes } = found
  if (routes.length === 0) return { outcome: found.full ? 'no_capacity' : 'no_destination', number, group, groupSource: source, trace, rule, ruleId: rule.id, prefix }
  return { outcome: 'routed', number, group, groupSource: source, trace, rule, ruleId: rule.id, prefix, routes }
}
