/**
 * The answers Kamailio's rtjson module reads, as objects: the negative ones (frozen constants where
 * they can be), the routed one for explain and as the writer's test oracle, and the Wazo envelope.
 * The proxy path writes a routed answer with rtjson-writer.ts instead.
 */
import { Type, type Static } from 'typebox'
import type { Answer, Decision, Route, RouteQuery } from './decision.js'

export const RtjsonRouteSchema = Type.Object({
  uri: Type.String({ description: 'R-URI, with the gateway strip/prefix applied' }),
  dst_uri: Type.String({ description: 'next hop' }),
  path: Type.String(),
  socket: Type.String({ description: 'proto:ip:port of a local listener, or empty' }),
  headers: Type.Object({
    extra: Type.String({ description: 'CRLF-terminated header lines' })
  }, { description: 'never from/to: rtroute does not change them, so the caller\'s own From and To reach the gateway untouched' }),
  branch_flags: Type.Optional(Type.Integer({ description: 'first route only' })),
  fr_timer: Type.Optional(Type.Integer({ description: 'ms' })),
  fr_inv_timer: Type.Optional(Type.Integer({ description: 'ms' })),
  gateway: Type.String({ description: 'gateway id, for the failure route feedback' })
})
export type RtjsonRoute = Static<typeof RtjsonRouteSchema>

export const RtjsonReasonSchema = Type.Union([
  Type.Literal('not_ready'), Type.Literal('unknown_partition'), Type.Literal('no_route'), Type.Literal('no_destination'), Type.Literal('no_capacity'), Type.Literal('bad_request')
])
export type RtjsonReason = Static<typeof RtjsonReasonSchema>

/**
 * One flat object for both the routed and the negative answers rather than a union: a response
 * schema with anyOf makes fast-json-stringify validate each branch per answer, on the hot path.
 */
export const RtjsonAnswerSchema = Type.Object({
  rtjson: Type.Object({
    success: Type.Boolean(),
    version: Type.Optional(Type.Literal('1.0')),
    routing: Type.Literal('serial'),
    routes: Type.Array(RtjsonRouteSchema),
    partition: Type.Optional(Type.String()),
    rule_id: Type.Optional(Type.Integer()),
    prefix: Type.Optional(Type.String()),
    reason: Type.Optional(RtjsonReasonSchema),
    sip_code: Type.Optional(Type.Integer({ description: 'suggested SIP reply code' })),
    sip_reason: Type.Optional(Type.String()),
    field: Type.Optional(Type.String({ description: 'bad_request: the query field at fault' })),
    message: Type.Optional(Type.String())
  })
}, { description: 'Kamailio rtjson document; success false carries reason and a suggested SIP reply' })
export type RtjsonAnswer = Static<typeof RtjsonAnswerSchema>

/** A negative answer: the HTTP status and the rtjson document (success false, reason, suggested SIP reply). */
export interface NegativeAnswer {
  readonly statusCode: 200 | 400 | 404 | 503
  readonly body: RtjsonAnswer
}

function negative (statusCode: NegativeAnswer['statusCode'], reason: RtjsonReason, sipCode: number, sipReason: string, more: { field?: string, message?: string } = {}): NegativeAnswer {
  // Frozen all the way down: the constant answers are shared by every request.
  const routes = Object.freeze([]) as unknown as RtjsonRoute[]
  const rtjson = { success: false, reason, sip_code: sipCode, sip_reason: sipReason, routing: 'serial' as const, routes, ...more }
  return Object.freeze({ statusCode, body: Object.freeze({ rtjson: Object.freeze(rtjson) }) })
}

// Constant answers are built once: the hot path hands out the same frozen object.
/** 503: the partition has no data yet (the HTTP layer adds Retry-After). */
const NOT_READY = negative(503, 'not_ready', 503, 'Service Unavailable')
/** 200 + SIP 404: no rule matches the number. */
const NO_ROUTE = negative(200, 'no_route', 404, 'Not Found')
/** 200 + SIP 503: a rule matched but every destination is down or disabled. */
const NO_DESTINATION = negative(200, 'no_destination', 503, 'Service Unavailable')
/** 200 + SIP 503: a rule matched and some destination is usable but at its call or CPS limit. */
const NO_CAPACITY = negative(200, 'no_capacity', 503, 'Service Unavailable')

/** 404 + SIP 500: the query named a partition that does not exist. */
function unknownPartition (partition: string): NegativeAnswer {
  return negative(404, 'unknown_partition', 500, 'Server Internal Error', { message: `unknown partition "${partition}"` })
}

/** 400 + SIP 500: the query cannot be routed as sent; `field` names the culprit. */
function badRequest (field: string, message: string): NegativeAnswer {
  return negative(400, 'bad_request', 500, 'Server Internal Error', { field, message })
}

/** The document and HTTP status of every answer but a routed one. */
export function negativeAnswer (answer: Exclude<Answer, { outcome: 'routed' }>): NegativeAnswer {
  switch (answer.outcome) {
    case 'not_ready': return NOT_READY
    case 'unknown_partition': return unknownPartition(answer.partition)
    case 'no_route': return NO_ROUTE
    case 'no_destination': return NO_DESTINATION
    case 'no_capacity': return NO_CAPACITY
    case 'bad_request': return badRequest(answer.field, answer.message)
  }
}

function rtjsonRoute (route: Route, first: boolean): RtjsonRoute {
  const gw = route.gateway
  const out: RtjsonRoute = { uri: route.uri, dst_uri: gw.dstUri, path: '', socket: gw.socket, headers: { extra: `X-Rtroute-Gw: ${route.gatewayId}\r\n` }, gateway: route.gatewayId }
  // Kamailio applies branch_flags from route 0 only; sending it on later routes would mislead.
  if (first && route.gateway.branchFlags !== undefined) out.branch_flags = route.gateway.branchFlags
  if (gw.frTimer !== null) out.fr_timer = gw.frTimer
  if (gw.frInvTimer !== null) out.fr_inv_timer = gw.frInvTimer
  return out
}

export type Routed = Extract<Decision, { outcome: 'routed' }>

/**
 * 200: the serial route list as an object. No headers.from/headers.to: rtroute changes neither, and
 * echoing them is not a no-op. With uac loaded, Kamailio's rtjson hands them to uac_replace_from/_to,
 * which deletes the header's display name and inserts the answer's `display` verbatim (no quoting),
 * and, for the URI, sets up its restore machinery (a Record-Route parameter or dialog variables)
 * for a URI that did not change. The query's from_name is what the proxy's script made of the
 * header (`$(fn{s.unquote})`: quotes gone, quoted-pairs kept, or a bare token), so no quoting on
 * this side can restore every header byte for byte; leaving the header alone does. A feature
 * that does change From or To must write `display` as an RFC 3261 quoted-string.
 */
export function routedAnswer (decision: Routed, _query: RouteQuery, partition: string): RtjsonAnswer {
  const routes = decision.routes.map((route, i) => rtjsonRoute(route, i === 0))
  return { rtjson: { success: true, version: '1.0', routing: 'serial', routes, partition, rule_id: decision.ruleId, prefix: decision.prefix } }
}

/** A decision's answer as an object (explain shows it). */
export function rtjsonOf (decision: Decision, query: RouteQuery, partition: string): RtjsonAnswer {
  return decision.outcome === 'routed' ? routedAnswer(decision, query, partition) : negativeAnswer(decision).body
}

/** The Wazo C4 router's envelope of a negative answer (its routed one is written by rtjson-writer.ts). */
export function wazoNegative (answer: NegativeAnswer): { success: false, rtjson: null, reason?: string, sip_code?: number, sip_reason?: string } {
  const { rtjson } = answer.body
  return { success: false, rtjson: null, reason: rtjson.reason, sip_code: rtjson.sip_code, sip_reason: rtjson.sip_reason }
}
