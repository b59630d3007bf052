/** The domain types of one routing decision (query, routes, outcome, trace, the answer and its observer) and the capacity arithmetic dispatcher/ shares. */
import type { FastifyBaseLogger } from 'fastify'
import type { CompiledCarrier, CompiledGateway } from '../snapshot/compiled.js'

export type GatewayState = 'active' | 'suspect' | 'down' | 'disabled'

/** Calls counted against a gateway or carrier now: offered or started and not ended, and new ones in the last second. */
export interface Usage {
  readonly calls: number
  readonly cps: number
}

/**
 * Runtime gateway health; `undefined` (never reported) counts as active. The decision reads these
 * live stores through the callbacks, so it is pure given their answers: the same table, answers,
 * query and time give the same decision.
 */
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
  | Matched & { readonly outcome: 'routed', readonly ruleId: number, readonly prefix: string, readonly routes: readonly Route[] }
  | Matched & { readonly outcome: 'no_destination', readonly ruleId: number, readonly prefix: string }
  /** Like no_destination, but some target was left out only because it was full: worth a retry soon. */
  | Matched & { readonly outcome: 'no_capacity', readonly ruleId: number, readonly prefix: string }
  | Matched & { readonly outcome: 'no_route' }
  | { readonly outcome: 'bad_request', readonly field: string, readonly message: string, readonly trace?: DecisionTrace | undefined }

/** What one routing query came to: the decision, or why none was made (found before deciding). */
export type Answer =
  | Decision
  | { readonly outcome: 'not_ready' }
  | { readonly outcome: 'unknown_partition', readonly partition: string }

/** The routing path's decision for a query at a given time (ms), without side effects: it can be run again. */
export type Redecide = (partition: string, query: RouteQuery, at: number) => Answer

/**
 * Told of every answer of the proxy path; `started` is performance.now() before the partition
 * lookup. With `query` and `at`, a decision that looked slow can be run again and timed by itself
 * (`decideWith` gave the observer the decision once).
 */
export interface RoutingObserver {
  answered: (partition: string, callId: string | undefined, answer: Answer, started: number, log: FastifyBaseLogger, query?: RouteQuery, at?: number) => void
  decideWith?: (decide: Redecide) => void
}
