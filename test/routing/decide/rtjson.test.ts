import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { decideRoutes } from '../../../src/routing/decide/decide-routes.js'
import type { Answer, Decision, RouteQuery } from '../../../src/routing/decide/decision.js'
import { negativeAnswer, routedAnswer, RtjsonAnswerSchema, type RtjsonAnswer } from '../../../src/routing/decide/rtjson.js'
import { ALL_ACTIVE, gateway, health, NOON_WEDNESDAY, query, rule, table } from '../fixtures.js'

const t = table({
  gateways: [
    gateway('gw1', '10.0.0.1:5060', { prefix: '00', socket: 'udp:10.0.0.10:5060', fr_timer: 5000, fr_inv_timer: 30000, attrs: { branch_flags: 8 } }),
    gateway('gw2', 'sip:gw2.example.com;transport=tcp', { strip: 2, prefix: '0' })
  ],
  rules: [rule(12, '44', ['gw1', 'gw2'])]
})

const decideFor = (q: Partial<RouteQuery>, states = ALL_ACTIVE): { decision: Decision, q: RouteQuery } => {
  const full = query(q)
  return { decision: decideRoutes(t, states, full, NOON_WEDNESDAY), q: full }
}

interface RtjsonReply { readonly statusCode: 200 | 400 | 404 | 503, readonly body: RtjsonAnswer }

/** A decision's status and document, as the proxy path sends them. */
function toRtjson (decision: Decision, q: RouteQuery, partition: string): RtjsonReply {
  return decision.outcome === 'routed' ? { statusCode: 200, body: routedAnswer(decision, q, partition) } : negativeAnswer(decision)
}
// Only the outcome and its own fields matter to negativeAnswer.
const negativeOf = (answer: Partial<Answer>): RtjsonReply => negativeAnswer(answer as Exclude<Answer, { outcome: 'routed' }>)
const notReadyAnswer = (): RtjsonReply => negativeOf({ outcome: 'not_ready' })
const unknownPartitionAnswer = (partition: string): RtjsonReply => negativeOf({ outcome: 'unknown_partition', partition })
const noRouteAnswer = (): RtjsonReply => negativeOf({ outcome: 'no_route' })
const noDestinationAnswer = (): RtjsonReply => negativeOf({ outcome: 'no_destination' })
const badRequestAnswer = (field: string, message: string): RtjsonReply => negativeOf({ outcome: 'bad_request', field, message })

function answer (q: Partial<RouteQuery>, states = ALL_ACTIVE): RtjsonReply {
  const { decision, q: full } = decideFor(q, states)
  return toRtjson(decision, full, 'default')
}

describe('routedAnswer', () => {
  it('builds the DESIGN.md document, without From/To headers even when the query carried them (rtroute changes neither)', () => {
    const reply = answer({ requestUri: 'sip:44201234@sbc', fromUri: 'sip:alice@example.com', fromName: 'Alice', toUri: 'sip:44201234@example.com' })
    expect(reply.statusCode).toBe(200)
    expect(reply.body).toStrictEqual({
      rtjson: {
        success: true,
        version: '1.0',
        routing: 'serial',
        routes: [
          {
            uri: 'sip:0044201234@10.0.0.1:5060',
            dst_uri: 'sip:10.0.0.1:5060',
            path: '',
            socket: 'udp:10.0.0.10:5060',
            headers: { extra: 'X-Rtroute-Gw: gw1\r\n' },
            branch_flags: 8,
            fr_timer: 5000,
            fr_inv_timer: 30000,
            gateway: 'gw1'
          },
          {
            uri: 'sip:0201234@gw2.example.com;transport=tcp',
            dst_uri: 'sip:gw2.example.com;transport=tcp',
            path: '',
            socket: '',
            headers: { extra: 'X-Rtroute-Gw: gw2\r\n' },
            gateway: 'gw2'
          }
        ],
        partition: 'default',
        rule_id: 12,
        prefix: '44'
      }
    })
  })

  it('gives branch_flags to the first route only', () => {
    const reply = answer({ requestUri: 'sip:44201234@sbc' }, health({ gw1: 'down' }))
    expect(reply.body).toStrictEqual({
      rtjson: {
        success: true,
        version: '1.0',
        routing: 'serial',
        routes: [{ uri: 'sip:0201234@gw2.example.com;transport=tcp', dst_uri: 'sip:gw2.example.com;transport=tcp', path: '', socket: '', headers: { extra: 'X-Rtroute-Gw: gw2\r\n' }, gateway: 'gw2' }],
        partition: 'default',
        rule_id: 12,
        prefix: '44'
      }
    })
  })

  it('never puts branch_flags on a later route', () => {
    const swapped = table({
      gateways: [gateway('gw1', '10.0.0.1', { attrs: { branch_flags: 8 } }), gateway('gw2', '10.0.0.2')],
      rules: [rule(1, '', ['gw2', 'gw1'])]
    })
    const q = query()
    const reply = toRtjson(decideRoutes(swapped, ALL_ACTIVE, q, NOON_WEDNESDAY), q, 'default')
    expect(reply.body.rtjson.routes.map((r) => r.branch_flags)).toEqual([undefined, undefined])
  })
})

describe('negative answers', () => {
  const negative = (reason: string, sipCode: number, sipReason: string, more = {}) => ({
    rtjson: { success: false, reason, sip_code: sipCode, sip_reason: sipReason, routing: 'serial', routes: [], ...more }
  })

  it.each<[string, () => RtjsonReply, number, object]>([
    ['not_ready', notReadyAnswer, 503, negative('not_ready', 503, 'Service Unavailable')],
    ['unknown_partition', () => unknownPartitionAnswer('nope'), 404, negative('unknown_partition', 500, 'Server Internal Error', { message: 'unknown partition "nope"' })],
    ['no_route', noRouteAnswer, 200, negative('no_route', 404, 'Not Found')],
    ['no_destination', noDestinationAnswer, 200, negative('no_destination', 503, 'Service Unavailable')],
    ['bad_request', () => badRequestAnswer('call_id', 'call_id is required'), 400, negative('bad_request', 500, 'Server Internal Error', { field: 'call_id', message: 'call_id is required' })]
  ])('%s → HTTP %i with a parseable body', (_, make, statusCode, body) => {
    const reply = make()
    expect(reply.statusCode).toBe(statusCode)
    expect(reply.body).toStrictEqual(body)
  })

  it.each<[string, Partial<RouteQuery>, typeof ALL_ACTIVE, number, object]>([
    ['no_route', { requestUri: 'sip:3312345@sbc' }, ALL_ACTIVE, 200, negative('no_route', 404, 'Not Found')],
    ['no_destination', {}, health({ gw1: 'down', gw2: 'disabled' }), 200, negative('no_destination', 503, 'Service Unavailable')],
    ['bad_request', { requestUri: 'sip:sbc' }, ALL_ACTIVE, 400, negative('bad_request', 500, 'Server Internal Error', { field: 'request_uri', message: 'request_uri has no number to route' })]
  ])('maps a %s decision', (_, q, states, statusCode, body) => {
    const reply = answer(q, states)
    expect(reply.statusCode).toBe(statusCode)
    expect(reply.body).toStrictEqual(body)
  })

  it('hands out the same frozen object for constant answers', () => {
    expect(noRouteAnswer()).toBe(noRouteAnswer())
    expect(Object.isFrozen(noRouteAnswer().body.rtjson.routes)).toBe(true)
    expect(answer({ requestUri: 'sip:3312345@sbc' })).toBe(noRouteAnswer())
  })
})

describe('RtjsonAnswerSchema as a Fastify response schema', () => {
  it('serialises every answer unchanged', async () => {
    const replies: Record<string, RtjsonReply> = {
      routed: answer({ requestUri: 'sip:44201234@sbc', fromUri: 'sip:alice@example.com', toUri: 'sip:bob@example.com' }),
      not_ready: notReadyAnswer(),
      unknown_partition: unknownPartitionAnswer('x'),
      no_route: noRouteAnswer(),
      bad_request: badRequestAnswer('request_uri', 'bad')
    }
    const app = Fastify()
    app.get('/:kind', { schema: { response: { 200: RtjsonAnswerSchema, 400: RtjsonAnswerSchema, 404: RtjsonAnswerSchema, 503: RtjsonAnswerSchema } } }, async (request, reply) => {
      const { statusCode, body } = replies[(request.params as { kind: string }).kind] as RtjsonReply
      return reply.code(statusCode).send(body)
    })
    try {
      for (const [kind, expected] of Object.entries(replies)) {
        const res = await app.inject({ method: 'GET', url: `/${kind}` })
        expect(res.statusCode).toBe(expected.statusCode)
        expect(res.json()).toStrictEqual(JSON.parse(JSON.stringify(expected.body)))
      }
      const routed = await app.inject({ method: 'GET', url: '/routed' })
      expect(routed.body).toContain('"extra":"X-Rtroute-Gw: gw1\\r\\n"')
    } finally {
      await app.close()
    }
  })
})
