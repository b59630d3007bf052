/** The routed answer written straight to JSON must be the bytes the response schema's serialiser writes for the object answer, in both envelopes. */
import { type RouteQuery } from '../../../src/routing/decide/decision.js'
import fc from 'fast-check'
import fastJson from 'fast-json-stringify'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { decideRoutes } from '../../../src/routing/decide/decide-routes.js'
import type { GatewayData } from '../../../src/routing/routing-data.schema.js'
import { WazoAnswerSchema } from '../../../src/routing/decide/routing.schema.js'
import { routedAnswer, RtjsonAnswerSchema } from '../../../src/routing/decide/rtjson.js'
import { writeRoutedRtjson, writeRoutedWazo } from '../../../src/routing/decide/rtjson-writer.js'
import { ALL_ACTIVE, carrier, gateway, health, NOON_WEDNESDAY, query, rule, table } from '../fixtures.js'

const serialise = fastJson(RtjsonAnswerSchema)
const serialiseWazo = fastJson(WazoAnswerSchema)

// Text that JSON must escape, or that a naive writer would get wrong.
const awkward = fc.constantFrom('', 'Alice', 'Zoë "Z" \\ Ünïcødé', 'tab\there', 'ctl\u0001\u001f', 'lone \ud800 surrogate', 'pair 😀', 'line\r\nbreak', '</script>', 'sep \u2028 \u2029 del \u007f')

const gatewayData = fc.record({
  strip: fc.integer({ min: 0, max: 3 }),
  prefix: fc.constantFrom('', '00', '+', '9'),
  socket: fc.constantFrom('', 'udp:10.0.0.10:5060', 'tcp:[2001:db8::1]:5061'),
  fr_timer: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: null }),
  fr_inv_timer: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: null }),
  flags: fc.option(fc.integer({ min: 0, max: 1 << 20 }), { nil: undefined }),
  address: fc.constantFrom('192.0.2.1:5060', 'sip:gw.example.com;transport=tcp', 'sips:[2001:db8::2]:5061', 'gw-"q".example.net')
})

function build (gws: Array<{ strip: number, prefix: string, socket: string, fr_timer: number | null, fr_inv_timer: number | null, flags: number | undefined, address: string }>) {
  const data: GatewayData[] = gws.map((g, i) => gateway(`gw${i + 1}`, g.address, {
    strip: g.strip, prefix: g.prefix, socket: g.socket, fr_timer: g.fr_timer, fr_inv_timer: g.fr_inv_timer, attrs: g.flags === undefined ? {} : { branch_flags: g.flags }
  }))
  const ids = data.map((g) => g.id)
  return table({
    gateways: data,
    carriers: [carrier('cr1', ids.slice(0, 3), { sort: 'weighted' }), carrier('cr2', ids.slice(1), { sort: 'hash' })],
    rules: [
      rule(7, '44', ids),
      rule(8, '4420', ['#cr1', ...ids.slice(2)], { sort: 'weighted' }),
      rule(9, '33', ['#cr2', '#cr1'], { sort: 'hash', max_targets: 3 }),
      rule(10, '', ids.slice().reverse())
    ]
  })
}

describe('writeRoutedRtjson and writeRoutedWazo', () => {
  it('writes the same bytes as fast-json-stringify over the object answer, for many decisions', () => {
    let routed = 0
    fc.assert(fc.property(
      fc.array(gatewayData, { minLength: 3, maxLength: 6 }),
      fc.constantFrom('sip:442071838750@sbc', 'sip:+4420718@sbc', 'sip:3312345678@sbc;user=phone', 'tel:+15551234', 'sip:99@sbc'),
      fc.option(awkward, { nil: undefined }), fc.option(awkward, { nil: undefined }),
      fc.option(fc.constantFrom('', 'sip:alice@example.com', 'sip:"x"@example.com'), { nil: undefined }),
      fc.option(fc.constantFrom('', 'sip:bob@example.com', '<sip:bob\\@example.com>'), { nil: undefined }),
      fc.string(), fc.constantFrom('default', 'p-"1"', 'ü'), fc.subarray(['gw1', 'gw2', 'gw3']),
      (gws, requestUri, fromName, toName, fromUri, toUri, callId, partition, down) => {
        const t = build(gws)
        const q: RouteQuery = query({ callId, requestUri, fromName, toName, fromUri, toUri })
        const states = health(Object.fromEntries(down.map((id) => [id, 'down' as const])))
        const decision = decideRoutes(t, states, q, NOON_WEDNESDAY)
        if (decision.outcome !== 'routed') return
        routed++
        const body = routedAnswer(decision, q, partition)
        expect(writeRoutedRtjson(decision, q, partition)).toBe(serialise(body))
        expect(writeRoutedWazo(decision, q, partition)).toBe(serialiseWazo({ success: true, rtjson: body.rtjson }))
      }
    ), { numRuns: 2000 })
    expect(routed).toBeGreaterThan(1000)
  })

  it('writes no headers.from/to, byte for byte, whatever From/To the query carried (the caller\'s own headers reach the gateway)', () => {
    const t = table({ gateways: [gateway('gw1', '192.0.2.1:5060', { fr_timer: 5000 })], rules: [rule(7, '44', ['gw1'])] })
    const bare = query({ requestUri: 'sip:442071838750@sbc' })
    const echoed = query({
      requestUri: 'sip:442071838750@sbc',
      fromUri: 'sip:alice@pbx.example.com',
      fromName: 'Smith, \\"JJ\\", John (Sales)',
      toUri: 'sip:442071838750@example.com',
      toName: 'Bob \\\\ Sales'
    })
    const expected = '{"rtjson":{"success":true,"routing":"serial","routes":[{"uri":"sip:442071838750@192.0.2.1:5060","dst_uri":"sip:192.0.2.1:5060",' +
      '"path":"","socket":"","headers":{"extra":"X-Rtroute-Gw: gw1\\r\\n"},"gateway":"gw1","fr_timer":5000}],"version":"1.0","partition":"default","rule_id":7,"prefix":"44"}}'
    for (const q of [bare, echoed]) {
      const decision = decideRoutes(t, ALL_ACTIVE, q, NOON_WEDNESDAY)
      if (decision.outcome !== 'routed') throw new Error('expected a route')
      expect(writeRoutedRtjson(decision, q, 'default')).toBe(expected)
      expect(writeRoutedWazo(decision, q, 'default')).toBe(`{"success":true,${expected.slice(1)}`)
    }
  })

  it('writes a route that differs from its gateway\'s prepared parts from the route itself', () => {
    const t = build([{ strip: 0, prefix: '', socket: '', fr_timer: 5000, fr_inv_timer: null, flags: 8, address: '192.0.2.1' }, { strip: 1, prefix: '0', socket: 's', fr_timer: null, fr_inv_timer: 1, flags: undefined, address: '192.0.2.2' }, { strip: 0, prefix: '', socket: '', fr_timer: null, fr_inv_timer: null, flags: undefined, address: '192.0.2.3' }])
    const q = query({ requestUri: 'sip:4412345@sbc' })
    const decision = decideRoutes(t, ALL_ACTIVE, q, NOON_WEDNESDAY)
    if (decision.outcome !== 'routed') throw new Error('expected a route')
    expect(writeRoutedRtjson(decision, q, 'default')).toBe(serialise(routedAnswer(decision, q, 'default')))
    const changed = { ...decision, routes: decision.routes.map((r) => ({ ...r, socket: 'udp:changed:5060', frTimer: 1234 })) }
    expect(writeRoutedRtjson(changed, q, 'default')).toBe(serialise(routedAnswer(changed, q, 'default')))
    expect(writeRoutedRtjson(decision, q, 'default')).toBe(serialise(routedAnswer(decision, q, 'default')))
  })

  it('is what POST /kamailio/rtjson sends, with the content type of a serialised object', async () => {
    const t = build([{ strip: 0, prefix: '', socket: '', fr_timer: 5000, fr_inv_timer: null, flags: 8, address: '192.0.2.1' }, { strip: 1, prefix: '0', socket: 's', fr_timer: null, fr_inv_timer: 1, flags: undefined, address: '192.0.2.2' }, { strip: 0, prefix: '', socket: '', fr_timer: null, fr_inv_timer: null, flags: undefined, address: '192.0.2.3' }])
    const q = query({ requestUri: 'sip:4412345@sbc', fromUri: 'sip:a@b', fromName: 'A "b"' })
    const decision = decideRoutes(t, ALL_ACTIVE, q, NOON_WEDNESDAY)
    if (decision.outcome !== 'routed') throw new Error('expected a route')
    const body = routedAnswer(decision, q, 'default')
    const written = writeRoutedRtjson(decision, q, 'default')
    const app = Fastify()
    app.get('/object', { schema: { response: { 200: RtjsonAnswerSchema } } }, async () => body)
    app.get('/json', { schema: { response: { 200: RtjsonAnswerSchema } } }, async (_request, res) => await res.header('content-type', 'application/json; charset=utf-8').send(written))
    try {
      const [object, json] = [await app.inject({ url: '/object' }), await app.inject({ url: '/json' })]
      expect(json.body).toBe(object.body)
      expect(json.headers['content-type']).toBe(object.headers['content-type'])
    } finally {
      await app.close()
    }
  })
})
