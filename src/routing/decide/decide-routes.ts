/** The pure per-call decision: caller group, longest prefix, priority and time window, target expansion, health. */
import { ruleAt, ruleCount, type CarrierMember, type CompiledCarrier, type CompiledGateway, type CompiledPartition, type CompiledRule, type CompiledTarget, type GroupIndex, type PrefixRules } from '../snapshot/compiled.js'
import { mixSeed } from '../snapshot/hash.js'
import { dialledNumber, type NumberField } from './dialled-number.js'
import { parseIpv4, parseIpv6, type CallerIndex, type CidrLevel } from '../snapshot/caller-index.js'
import { callSeed, orderTargets } from './select.js'
import { scanSipUri, type SipSpans } from './sip-uri.js'
import { isWindowOpen } from '../snapshot/time-window.js'

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

/**
 * The decision being made. One, reused: a decision runs start to end synchronously and nothing
 * it calls decides, and this state as new objects per call was a measurable share of a routing
 * answer's garbage.
 */
interface Context {
  health: GatewayHealthView
  number: string
  seed: number
  nowMs: number
  trace: DecisionTrace | undefined
  group: string
  groupSource: GroupSource
  /** Targets of the rule being expanded that were skipped only for being full. */
  full: number
  /** Routes of the rule being expanded: the first `count` of `offered` (copied out when the rule is taken). */
  count: number
  /**
   * The rule taken, with its prefix and routes; else the first rule that matched and gave no route
   * (the one the number was meant for), `routes` empty and `firstFull` whether only capacity stopped it.
   */
  rule: CompiledRule | undefined
  prefix: string
  routes: readonly Route[]
  firstFull: boolean
}

const NO_ROUTES: readonly Route[] = Object.freeze([])
const NO_HEALTH: GatewayHealthView = { stateOf: () => undefined }

const ctx: Context = {
  health: NO_HEALTH,
  number: '',
  seed: 0,
  nowMs: 0,
  trace: undefined,
  group: '',
  groupSource: 'default',
  full: 0,
  count: 0,
  rule: undefined,
  prefix: '',
  routes: NO_ROUTES,
  firstFull: false
}

// Scratch of one decision, overwritten by the next: the routes being collected, and the orders of
// a rule's targets and of a carrier's members (one each: a carrier is ordered while its rule's
// order is being walked). What they still hold after a decision is never read: taken routes are
// copied out, and the orders never leave it.
const offered: Route[] = []
const targetOrder: CompiledTarget[] = []
const memberOrder: CarrierMember[] = []
const from: SipSpans = { userStart: -1, userEnd: -1, hostStart: 0, hostEnd: 0 }

/** What a caller lookup found. */
interface CallerFound { group: string, groupSource: GroupSource }

/** Whether [start, end) of `text` has an ASCII capital: a host (`[\w.-]`) without one is its own lower case. */
function hasCapital (text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c >= 65 && c <= 90) return true
  }
  return false
}

/** The From URI's exact user@domain, then its domain (lower-cased); false when neither is listed or it does not parse. */
function matchFrom (callers: CallerIndex, fromUri: string, into: CallerFound): boolean {
  const trimmed = fromUri.trim()
  // A name-addr (`<sip:…>`) is accepted as well as a bare URI.
  const uri = trimmed.charCodeAt(0) === 60 ? trimmed.replace(/^<([^>]*)>.*$/, '$1') : trimmed
  if (!scanSipUri(uri, from)) return false
  const lower = !hasCapital(uri, from.hostStart, from.hostEnd)
  if (from.userStart >= 0 && callers.fromUri.size > 0) {
    // With a lower-case host and no password, user@domain is a slice of the URI.
    const key = lower && from.userEnd + 1 === from.hostStart
      ? uri.slice(from.userStart, from.hostEnd)
      : `${uri.slice(from.userStart, from.userEnd)}@${uri.slice(from.hostStart, from.hostEnd).toLowerCase()}`
    const group = callers.fromUri.get(key)
    if (group !== undefined) {
      into.group = group
      into.groupSource = 'from_uri'
      return true
    }
  }
  if (callers.fromDomain.size === 0) return false
  const host = uri.slice(from.hostStart, from.hostEnd)
  const group = callers.fromDomain.get(lower ? host : host.toLowerCase())
  if (group === undefined) return false
  into.group = group
  into.groupSource = 'from_domain'
  return true
}

function matchV4 (callers: CallerIndex, ip: number): string | undefined {
  for (let i = 0; i < callers.v4.length; i++) {
    const level = callers.v4[i] as CidrLevel<number>
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

/** Caller lookup into `into`: exact From user@domain, then From domain, then the longest CIDR holding the source. */
function matchCaller (callers: CallerIndex, fromUri: string | undefined, sourceIp: string | undefined, into: CallerFound): boolean {
  if (fromUri !== undefined && fromUri !== '' && (callers.fromUri.size > 0 || callers.fromDomain.size > 0) && matchFrom(callers, fromUri, into)) return true
  if (sourceIp !== undefined && sourceIp !== '' && (callers.v4.length > 0 || callers.v6.length > 0)) {
    const group = matchIp(callers, sourceIp)
    if (group !== undefined) {
      into.group = group
      into.groupSource = 'source_ip'
      return true
    }
  }
  return false
}

/** Caller lookup: exact From user@domain, then From domain, then the longest CIDR holding the source. */
export function findCallerGroup (callers: CallerIndex, fromUri: string | undefined, sourceIp: string | undefined): { group: string, source: GroupSource } | undefined {
  const found: CallerFound = { group: '', groupSource: 'default' }
  return matchCaller(callers, fromUri, sourceIp, found) ? { group: found.group, source: found.groupSource } : undefined
}

function resolveGroup (table: CompiledPartition, query: RouteQuery): void {
  if (query.group !== undefined && query.group !== '') {
    ctx.group = query.group
    ctx.groupSource = 'query'
  } else if (!matchCaller(table.callers, query.fromUri, query.sourceIp, ctx)) {
    ctx.group = table.defaultGroup
    ctx.groupSource = 'default'
  }
}

function verdictFor (gateway: CompiledGateway, state: GatewayState | undefined, health: GatewayHealthView): TargetVerdict {
  if (!gateway.enabled || state === 'disabled') return 'disabled'
  if (state === 'down') return 'down'
  for (let i = 0; i < ctx.count; i++) if ((offered[i] as Route).gateway === gateway) return 'duplicate'
  if (limited(gateway) && atCapacity(gateway, health.gatewayUsage?.(gateway.id))) return 'at_capacity'
  return 'kept'
}

function offer (gateway: CompiledGateway, weight: number, rule: CompiledRule, carrier?: CompiledCarrier): TargetVerdict {
  const state = ctx.health.stateOf(gateway.id)
  const verdict = verdictFor(gateway, state, ctx.health)
  if (verdict === 'at_capacity') ctx.full++
  if (verdict === 'kept') {
    const number = gateway.strip > 0 ? ctx.number.slice(gateway.strip) : ctx.number
    offered[ctx.count++] = {
      gatewayId: gateway.id,
      uri: gateway.uriScheme + gateway.prefix + number + gateway.uriSuffix,
      weight,
      gateway,
      carrier
    }
  }
  ctx.trace?.targets.push({ ruleId: rule.id, gateway: gateway.id, ...(carrier === undefined ? {} : { carrier: carrier.id }), state: state ?? 'active', verdict })
  return verdict
}

const gatewayFree = (health: GatewayHealthView, gateway: CompiledGateway): number =>
  limited(gateway) ? freeCapacity(gateway, health.gatewayUsage?.(gateway.id)) : 1

const carrierFree = (health: GatewayHealthView, carrier: CompiledCarrier): number =>
  limited(carrier) ? freeCapacity(carrier, health.carrierUsage?.(carrier.id)) : 1

/** least_loaded's measure of a rule target: a gateway's own, a carrier's own (its members are ordered inside it). */
const targetFree = (target: CompiledTarget): number =>
  target.kind === 'gateway' ? gatewayFree(ctx.health, target.gateway) : target.kind === 'carrier' ? carrierFree(ctx.health, target.carrier) : 0

const memberFree = (member: CarrierMember): number => gatewayFree(ctx.health, member.gateway)

/** A carrier's gateways in the carrier's own order; with first_only, only its first usable one that is not already listed. */
function expandCarrier (carrier: CompiledCarrier, rule: CompiledRule): void {
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
  const members = orderTargets(carrier.members, carrier.sort, mixSeed(ctx.seed, carrier.hashKey), memberFree, memberOrder)
  for (let i = 0; i < members.length; i++) {
    const member = members[i] as CarrierMember
    const passed: TargetVerdict | undefined = taken ? 'carrier_first_only' : ctx.count >= rule.maxTargets ? 'cut_max_targets' : undefined
    if (passed === undefined) {
      taken = offer(member.gateway, member.weight, rule, carrier) === 'kept' && carrier.firstOnly
      continue
    }
    if (ctx.trace === undefined) return
    ctx.trace.targets.push({ ruleId: rule.id, gateway: member.gateway.id, carrier: carrier.id, verdict: passed })
  }
}

/**
 * The rule's targets ordered by the rule's sort, carriers expanded, unusable and repeated gateways
 * skipped, cut at max_targets: into the first ctx.count of `offered`.
 */
function expandRule (rule: CompiledRule): void {
  ctx.count = 0
  ctx.full = 0
  const targets = orderTargets(rule.targets, rule.sort, mixSeed(ctx.seed, rule.hashKey), targetFree, targetOrder)
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i] as CompiledTarget
    if (ctx.count >= rule.maxTargets) {
      if (ctx.trace === undefined) break
      ctx.trace.targets.push({ ruleId: rule.id, [target.kind === 'unknown' ? target.of : target.kind]: target.id, verdict: 'cut_max_targets' })
    } else if (target.kind === 'gateway') {
      offer(target.gateway, target.weight, rule)
    } else if (target.kind === 'carrier') {
      expandCarrier(target.carrier, rule)
    } else {
      ctx.trace?.targets.push({ ruleId: rule.id, [target.of]: target.id, verdict: 'unknown' })
    }
  }
}

function passOver (rules: PrefixRules, from: number, prefix: string, trace: DecisionTrace | undefined): void {
  if (trace === undefined) return
  for (let i = from; i < ruleCount(rules); i++) {
    const rule = ruleAt(rules, i)
    trace.rules.push({ ruleId: rule.id, prefix, priority: rule.priority, verdict: 'lower_priority' })
  }
}

function note (trace: DecisionTrace | undefined, rule: CompiledRule, prefix: string, verdict: RuleVerdict): void {
  trace?.rules.push({ ruleId: rule.id, prefix, priority: rule.priority, verdict })
}

/** Tries the enabled, open rules of one prefix by priority; false when the walk must go on. */
function tryPrefix (rules: PrefixRules, prefix: string): boolean {
  const n = ruleCount(rules)
  for (let i = 0; i < n; i++) {
    const rule = ruleAt(rules, i)
    if (!rule.enabled) {
      note(ctx.trace, rule, prefix, 'disabled')
      continue
    }
    if (rule.window !== null && !isWindowOpen(rule.window, ctx.nowMs)) {
      note(ctx.trace, rule, prefix, 'window_closed')
      continue
    }
    expandRule(rule)
    if (ctx.count === 0) {
      if (ctx.rule === undefined) {
        ctx.rule = rule
        ctx.prefix = prefix
        ctx.firstFull = ctx.full > 0
      }
      note(ctx.trace, rule, prefix, rule.fallback ? 'exhausted_fallback' : 'exhausted')
      if (rule.fallback) continue
    } else {
      ctx.rule = rule
      ctx.prefix = prefix
      ctx.routes = offered.slice(0, ctx.count)
      note(ctx.trace, rule, prefix, 'taken')
    }
    passOver(rules, i + 1, prefix, ctx.trace)
    return true
  }
  return false
}

/**
 * Longest prefix first, down to the prefixless ('') rules. A rule that yields no usable gateway
 * ends the search unless it has `fallback`; an answer with no destination names the first rule
 * that matched, since that is the one the number was meant for. That rule is returned, its
 * prefix and routes are left in ctx.
 */
function findRoutes (index: GroupIndex | undefined): CompiledRule | undefined {
  ctx.rule = undefined
  ctx.routes = NO_ROUTES
  if (index === undefined) return undefined
  for (let n = Math.min(ctx.number.length, index.maxPrefixLength); n >= 0; n--) {
    const prefix = ctx.number.slice(0, n)
    const rules = index.byPrefix.get(prefix)
    ctx.trace?.prefixes.push({ prefix, rules: rules === undefined ? 0 : ruleCount(rules) })
    if (rules !== undefined && tryPrefix(rules, prefix)) break
  }
  return ctx.rule
}

/** Where to send one call. Pure: the same table, health, query and time give the same decision. */
export function decideRoutes (table: CompiledPartition, health: GatewayHealthView, query: RouteQuery, nowMs: number, options?: { trace?: boolean }): Decision {
  const seed = callSeed(query.callId)
  const trace: DecisionTrace | undefined = options?.trace === true ? { seed, prefixes: [], rules: [], targets: [] } : undefined
  const dialled = dialledNumber(query.requestUri, query.toUri)
  if (!dialled.ok) return { outcome: 'bad_request', field: dialled.field, message: dialled.message, trace }
  const number = dialled.number
  resolveGroup(table, query)
  const { group, groupSource } = ctx
  if (trace !== undefined) Object.assign(trace, { number, group, groupSource })
  ctx.health = health
  ctx.number = number
  ctx.seed = seed
  ctx.nowMs = nowMs
  ctx.trace = trace
  const rule = findRoutes(table.groups.get(group))
  const { prefix, routes } = ctx
  // The caller's objects are not kept past the decision.
  ctx.health = NO_HEALTH
  ctx.trace = undefined
  // Written out rather than spread from a shared object: a spread costs more than the rest of this function.
  if (rule === undefined) return { outcome: 'no_route', number, group, groupSource, trace }
  if (routes.length === 0) return { outcome: ctx.firstFull ? 'no_capacity' : 'no_destination', number, group, groupSource, trace, rule, ruleId: rule.id, prefix }
  return { outcome: 'routed', number, group, groupSource, trace, rule, ruleId: rule.id, prefix, routes }
}
