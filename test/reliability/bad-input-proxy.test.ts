/**
 * Property-based bad input on the proxy paths (app.inject, no database): the routing query on
 * both envelopes and the failover feedback. Whatever arrives, the app answers (no 5xx, no throw),
 * with a body the proxy script can parse: rtjson-shaped on /kamailio/rtjson, the Wazo envelope on
 * /1.0/kamailio/routing, {error, message} on the feedback path.
 */
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import type { GatewayStateRepository, StoredGatewayState, Transition } from '../../src/dispatcher/gateway-state.repository.js'
import { createHealthStore } from '../../src/dispatcher/health-store.js'
import { createRouteTables } from '../../src/routing/snapshot/route-tables.js'
import type { PartitionData } from '../../src/routing/routing-data.schema.js'
import { RING_SIZES } from '../../src/status/status-registry.js'
import { fakeDeps } from '../helpers/fake-deps.js'
import { carrier, gateway, rule } from '../routing/fixtures.js'
import { badInputs, KindCounter, mustBeRefused, oddString, type BadInput } from './helpers/bad-input.js'
import { memorySnapshot } from '../helpers/memory-snapshot.js'

const BODY_LIMIT = 16 * 1024
/** Per property; the CI budget allows a few thousand inputs in all. */
const RUNS = Number(process.env.RTROUTE_FUZZ_RUNS ?? 1000)
const quiet = pino({ level: 'silent' })

const DATA: PartitionData = {
  partition: { default_group: 'default', extra_prefix_chars: '', description: '', settings: {} },
  gateways: [gateway('a', '10.0.0.1:5060', { attrs: { branch_flags: 8 } }), gateway('b', 'sip:gw-b.example.com;transport=tcp', { strip: 1, prefix: '00' })],
  carriers: [carrier('c', ['a', 'b'], { sort: 'weighted' })],
  rules: [rule(1, '44', ['#c']), rule(2, '', ['b'])],
  caller_groups: []
}

let app: FastifyInstance
const found: string[] = []

beforeAll(async () => {
  const deps = fakeDeps()
  const group = deps.registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
  const tables = createRouteTables({
    repository: { ...memorySnapshot(async (name) => (name === 'p' ? { data: DATA, version: 1 } : undefined)), versions: async () => [{ name: 'p', version: 1 }] },
    group,
    log: quiet,
    debounceMs: 10
  })
  await tables.sweep('start')
  let version = 0
  const repository = {
    all: async () => [],
    carriers: async () => [],
    apply: async (partition: string, gatewayId: string, transition: Transition): Promise<StoredGatewayState | undefined> => {
      const next = transition(undefined)
      return next === undefined ? undefined : { partition, gatewayId, health: next.health, probe: undefined, version: ++version }
    }
  }
  const store = createHealthStore({ repository, bus: deps.bus, log: quiet, now: Date.now, eventsOf: () => undefined, queueMax: 1000, retryMinMs: 10, retryMaxMs: 100 })
  app = await buildApp({
    registry: deps.registry,
    externalGroups: deps.externalGroups,
    routing: { tables, health: store.view },
    dispatcher: { store, repository: repository as unknown as GatewayStateRepository, isLeader: () => false }
  }, { bodyLimit: BODY_LIMIT, defaultPartition: 'p', docs: false })
})
afterAll(async () => {
  await app?.close()
  console.log(`[bad-input] proxy paths: ${found.join('; ')}`)
})

async function send (url: string, input: BadInput) {
  return await app.inject({
    method: 'POST',
    url,
    payload: input.payload,
    headers: input.contentType === undefined ? {} : { 'content-type': input.contentType }
  })
}

const QUERY = { call_id: 'a84b4c76e66710@pbx.example.com', request_uri: 'sip:+442071838750@sbc.example.com', from_uri: 'sip:alice@pbx.example.com', from_name: 'Alice', to_uri: 'sip:+442071838750@example.com', source_ip: '10.0.0.5', source_port: 5060, partition: 'p', event: 'sip-routing', auth: 0 }
const QUERY_STRINGS = ['call_id', 'request_uri', 'to_uri', 'from_uri', 'from_name', 'source_ip', 'partition', 'group', 'event']
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/

describe('POST /kamailio/rtjson with bad input', () => {
  it('always answers an rtjson document: 200 routed or not, 400 bad_request naming the field, 404 unknown_partition', async () => {
    const counter = new KindCounter()
    await fc.assert(fc.asyncProperty(badInputs(QUERY, { bodyLimit: BODY_LIMIT, stringFields: QUERY_STRINGS }), async (input) => {
      counter.add(input.kind)
      const res = await send('/kamailio/rtjson', input)
      expect([200, 400, 404]).toContain(res.statusCode)
      if (mustBeRefused(input)) expect(res.statusCode).toBe(400)
      const { rtjson } = res.json<{ rtjson: Record<string, any> }>()
      expect(rtjson).toMatchObject({ success: expect.any(Boolean), routing: 'serial', routes: expect.any(Array) })
      if (res.statusCode !== 200) expect(rtjson).toMatchObject({ success: false, reason: expect.any(String), sip_code: expect.any(Number), message: expect.any(String) })
      if (res.statusCode === 400) expect(rtjson).toMatchObject({ reason: 'bad_request', sip_code: 500, field: expect.any(String) })
      for (const route of rtjson.routes as Array<Record<string, any>>) {
        // What rtroute builds itself never carries a control character a SIP message could be split at.
        expect(route.uri).not.toMatch(CONTROL)
        expect(route.dst_uri).not.toMatch(CONTROL)
        expect(route.headers.extra).toMatch(/^X-Rtroute-Gw: [A-Za-z0-9_.:-]+\r\n$/)
      }
    }), { numRuns: RUNS })
    found.push(`rtjson ${counter.toString()}`)
  }, 120_000)

  it('answers the Wazo envelope on /1.0/kamailio/routing', async () => {
    const counter = new KindCounter()
    await fc.assert(fc.asyncProperty(badInputs(QUERY, { bodyLimit: BODY_LIMIT, stringFields: QUERY_STRINGS }), async (input) => {
      counter.add(input.kind)
      const res = await send('/1.0/kamailio/routing', input)
      expect([200, 400, 404]).toContain(res.statusCode)
      if (mustBeRefused(input)) expect(res.statusCode).toBe(400)
      const body = res.json<Record<string, any>>()
      expect(typeof body.success).toBe('boolean')
      if (!body.success) expect(body).toMatchObject({ rtjson: null, reason: expect.any(String), sip_code: expect.any(Number) })
    }), { numRuns: Math.ceil(RUNS / 2) })
    found.push(`Wazo ${counter.toString()}`)
  }, 120_000)

  it('routes SIP URIs with odd characters without crashing and without echoing them into what it builds', async () => {
    const counter = new KindCounter()
    await fc.assert(fc.asyncProperty(oddString, oddString, async (requestUri, fromUri) => {
      counter.add('odd request/from URI')
      const res = await app.inject({ method: 'POST', url: '/kamailio/rtjson', payload: { call_id: 'x', request_uri: requestUri, from_uri: fromUri, partition: 'p' } })
      expect([200, 400]).toContain(res.statusCode)
      const { rtjson } = res.json<{ rtjson: { routes: Array<{ uri: string }> } }>()
      for (const route of rtjson.routes) expect(route.uri).toMatch(/^sips?:[A-Za-z0-9_.!~*'()&=+$,?/#-]*@[^\s]+$/)
    }), { numRuns: RUNS })
    found.push(`rtjson URIs ${counter.toString()}`)
  }, 120_000)
})

describe('POST /kamailio/feedback with bad input', () => {
  it('answers 202, or a 4xx with {error, message}; never a 5xx', async () => {
    const counter = new KindCounter()
    const valid = { call_id: 'c1', partition: 'p', gateway: 'a', code: 503, reason: 'Service Unavailable', local: false }
    await fc.assert(fc.asyncProperty(badInputs(valid, { bodyLimit: BODY_LIMIT, stringFields: ['call_id', 'partition', 'gateway', 'reason', 'dst_uri'] }), async (input) => {
      counter.add(input.kind)
      const res = await send('/kamailio/feedback', input)
      expect([202, 400, 404, 413, 415]).toContain(res.statusCode)
      if (mustBeRefused(input)) expect(res.statusCode).toBeGreaterThanOrEqual(400)
      const body = res.json<Record<string, unknown>>()
      if (res.statusCode === 202) expect(body).toMatchObject({ accepted: true })
      else expect(body).toEqual({ error: expect.any(String), message: expect.any(String) })
    }), { numRuns: RUNS })
    found.push(`feedback ${counter.toString()}`)
  }, 120_000)
})

describe('the body limit', () => {
  it('refuses a body past the limit on the rtjson path with a 400 rtjson answer', async () => {
    const res = await app.inject({ method: 'POST', url: '/kamailio/rtjson', payload: { ...QUERY, from_name: 'x'.repeat(BODY_LIMIT) } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ rtjson: { reason: 'bad_request', field: 'body' } })
  })
})
