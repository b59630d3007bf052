// Scratch: the decision being made (ctx), its route and order lists and its prefix walk, reused by every decision.
/** The pure per-call decision: caller group, longest prefix, priority and time window, target expansion, health. */
import {
  ruleCount, slotAt, type CarrierMember, type CompiledCarrier, type CompiledGateway, type CompiledPartition,
  type CompiledTarget, type GroupIndex, type PrefixRules
} from '../snapshot/compiled.js'
import {
  createRuleStore, isEnabled, isFallback, maxTargetsOf, sortOf, targetsInto, windowOf, type RuleStore
} from '../snapshot/rule-store.js'
import { mixSeed } from '../snapshot/hash.js'
import { isWindowOpen } from '../snapshot/time-window.js'
import {
  atCapacity, freeCapacity, limited, type Decision, type DecisionTrace, type GatewayHealthView, type GatewayState, type GroupSource,
  type Route, type RouteQuery, type RuleVerdict, type TargetVerdict
} from './decision.js'
import { dialledNumber } from './dialled-number.js'
import { matchCaller } from './match-caller.js'
import { callSeed, orderTargets } from './select.js'

/**
 * The decision being made. One, reused: a decision runs start to end synchronously and nothing
 * it calls decides, and this state as new objects per call was a measurable share of a routing
 * answer's garbage.
 */
interface Context {
  /** The table's rules. */
  store: RuleStore
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
  /** The id and max_targets of the rule being expanded. */
  ruleId: number
  maxTargets: number
  /**
   * The rule taken, with its prefix and routes; else the first rule that matched and gave no route
   * (the one the number was meant for), `routes` empty and `firstFull` whether only capacity stopped it.
   */
  rule: number
  prefix: string
  routes: readonly Route[]
  firstFull: boolean
}

const NO_ROUTES: readonly Route[] = Object.freeze([])
const NO_HEALTH: GatewayHealthView = { stateOf: () => undefined }
const NO_RULES = createRuleStore(0)
/** ctx.rule when none was taken or matched. */
const NONE = -1

const ctx: Context = {
  store: NO_RULES,
  health: NO_HEALTH,
  number: '',
  seed: 0,
  nowMs: 0,
  trace: undefined,
  group: '',
  groupSource: 'default',
  full: 0,
  count: 0,
  ruleId: 0,
  maxTargets: 0,
  rule: NONE,
  prefix: '',
  routes: NO_ROUTES,
  firstFull: false
}

// Scratch of one decision, overwritten by the next: the routes being collected, a rule's targets
// (rule-store.ts keeps every list end to end in one array), and the orders of a rule's targets
// and of a carrier's members (one each: a carrier is ordered while its rule's order is being
// walked). What they still hold after a decision is never read: taken routes are copied out, and
// the lists and orders never leave it.
const offered: Route[] = []
const ruleTargets: CompiledTarget[] = []
const targetOrder: CompiledTarget[] = []
const memberOrder: CarrierMember[] = []
/** The rules at each length of the number's prefixes (prefix-trie.ts `matches`), overwritten by each walk. */
const found: Array<PrefixRules | undefined> = []

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

function offer (gateway: CompiledGateway, weight: number, carrier?: CompiledCarrier): TargetVerdict {
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
  ctx.trace?.targets.push({ ruleId: ctx.ruleId, gateway: gateway.id, ...(carrier === undefined ? {} : { carrier: carrier.id }), state: state ?? 'active', verdict })
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
function expandCarrier (carrier: CompiledCarrier): void {
  if (!carrier.enabled || ctx.health.carrierDisabled?.(carrier.id) === true) {
    ctx.trace?.targets.push({ ruleId: ctx.ruleId, carrier: carrier.id, verdict: 'carrier_disabled' })
    return
  }
  if (limited(carrier) && atCapacity(carrier, ctx.health.carrierUsage?.(carrier.id))) {
    ctx.full++
    ctx.trace?.targets.push({ ruleId: ctx.ruleId, carrier: carrier.id, verdict: 'at_capacity' })
    return
  }
  let taken = false
  const members = orderTargets(carrier.members, carrier.sort, mixSeed(ctx.seed, carrier.hashKey), memberFree, memberOrder)
  for (let i = 0; i < members.length; i++) {
    const member = members[i] as CarrierMember
    const passed: TargetVerdict | undefined = taken ? 'carrier_first_only' : ctx.count >= ctx.maxTargets ? 'cut_max_targets' : undefined
    if (passed === undefined) {
      taken = offer(member.gateway, member.weight, carrier) === 'kept' && carrier.firstOnly
      continue
    }
    if (ctx.trace === undefined) return
    ctx.trace.targets.push({ ruleId: ctx.ruleId, gateway: member.gateway.id, carrier: carrier.id, verdict: passed })
  }
}

/**
 * The rule's targets ordered by the rule's sort, carriers expanded, unusable and repeated gateways
 * skipped, cut at max_targets: into the first ctx.count of `offered`.
 */
function expandRule (slot: number): void {
  const { store } = ctx
  ctx.count = 0
  ctx.full = 0
  ctx.ruleId = store.id[slot] as number
  ctx.maxTargets = maxTargetsOf(store, slot)
  const targets = orderTargets(targetsInto(store, slot, ruleTargets), sortOf(store, slot), mixSeed(ctx.seed, store.hashKey[slot] as number), targetFree, targetOrder)
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i] as CompiledTarget
    if (ctx.count >= ctx.maxTargets) {
      if (ctx.trace === undefined) break
      ctx.trace.targets.push({ ruleId: ctx.ruleId, [target.kind === 'unknown' ? target.of : target.kind]: target.id, verdict: 'cut_max_targets' })
    } else if (target.kind === 'gateway') {
      offer(target.gateway, target.weight)
    } else if (target.kind === 'carrier') {
      expandCarrier(target.carrier)
    } else {
      ctx.trace?.targets.push({ ruleId: ctx.ruleId, [target.of]: target.id, verdict: 'unknown' })
    }
  }
}

function passOver (rules: PrefixRules, from: number, prefix: string, trace: DecisionTrace | undefined): void {
  if (trace === undefined) return
  for (let i = from; i < ruleCount(rules); i++) note(trace, slotAt(rules, i), prefix, 'lower_priority')
}

function note (trace: DecisionTrace | undefined, slot: number, prefix: string, verdict: RuleVerdict): void {
  trace?.rules.push({ ruleId: ctx.store.id[slot] as number, prefix, priority: ctx.store.priority[slot] as number, verdict })
}

/** Tries the enabled, open rules of one prefix by priority; false when the walk must go on. */
function tryPrefix (rules: PrefixRules, prefix: string): boolean {
  const { store } = ctx
  const n = ruleCount(rules)
  for (let i = 0; i < n; i++) {
    const rule = slotAt(rules, i)
    if (!isEnabled(store, rule)) {
      note(ctx.trace, rule, prefix, 'disabled')
      continue
    }
    const window = windowOf(store, rule)
    if (window !== null && !isWindowOpen(window, ctx.nowMs)) {
      note(ctx.trace, rule, prefix, 'window_closed')
      continue
    }
    expandRule(rule)
    if (ctx.count === 0) {
      if (ctx.rule === NONE) {
        ctx.rule = rule
        ctx.prefix = prefix
        ctx.firstFull = ctx.full > 0
      }
      const fallback = isFallback(store, rule)
      note(ctx.trace, rule, prefix, fallback ? 'exhausted_fallback' : 'exhausted')
      if (fallback) continue
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
 * Longest prefix first, down to the prefixless ('') rules (only those for a number that is not `matchable`). A rule that yields no usable gateway
 * ends the search unless it has `fallback`; an answer with no destination names the first rule
 * that matched, since that is the one the number was meant for. That rule's slot is returned
 * (NONE when no rule matched), its prefix and routes are left in ctx.
 */
function findRoutes (index: GroupIndex | undefined, matchable: boolean): number {
  ctx.rule = NONE
  ctx.routes = NO_ROUTES
  if (index === undefined) return NONE
  // A number outside the partition's alphabet matches no prefix: only the prefixless rules ('').
  const upTo = matchable ? Math.min(ctx.number.length, index.maxPrefixLength) : 0
  index.byPrefix.matches(ctx.number, upTo, found)
  for (let n = upTo; n >= 0; n--) {
    const rules = found[n]
    // The prefix as a string only where it is needed: a rule at it, or a trace.
    if (rules === undefined && ctx.trace === undefined) continue
    const prefix = ctx.number.slice(0, n)
    ctx.trace?.prefixes.push({ prefix, rules: rules === undefined ? 0 : ruleCount(rules) })
    if (rules !== undefined && tryPrefix(rules, prefix)) break
  }
  return ctx.rule
}

/** Where to send one call. Pure: the same table, health, query and time give the same decision. */
export function decideRoutes (table: CompiledPartition, health: GatewayHealthView, query: RouteQuery, nowMs: number, options?: { trace?: boolean }): Decision {
  const seed = callSeed(query.callId)
  const trace: DecisionTrace | undefined = options?.trace === true ? { seed, prefixes: [], rules: [], targets: [] } : undefined
  const dialled = dialledNumber(query.requestUri, query.toUri, table.prefixChars)
  if (!dialled.ok) return { outcome: 'bad_request', field: dialled.field, message: dialled.message, trace }
  const number = dialled.number
  resolveGroup(table, query)
  const { group, groupSource } = ctx
  if (trace !== undefined) Object.assign(trace, { number, group, groupSource })
  ctx.store = table.store
  ctx.health = health
  ctx.number = number
  ctx.seed = seed
  ctx.nowMs = nowMs
  ctx.trace = trace
  const rule = findRoutes(table.groups.get(group), dialled.matchable)
  const { prefix, routes } = ctx
  const ruleId = rule === NONE ? 0 : table.store.id[rule] as number
  // The caller's objects are not kept past the decision.
  ctx.store = NO_RULES
  ctx.health = NO_HEALTH
  ctx.trace = undefined
  // Written out rather than spread from a shared object: a spread costs more than the rest of this function.
  if (rule === NONE) return { outcome: 'no_route', number, group, groupSource, trace }
  if (routes.length === 0) return { outcome: ctx.firstFull ? 'no_capacity' : 'no_destination', number, group, groupSource, trace, ruleId, prefix }
  return { outcome: 'routed', number, group, groupSource, trace, ruleId, prefix, routes }
}
