/**
 * Probing through the whole service: the instance holding the prober lock sends real SIP OPTIONS
 * to fake gateways (UDP on 127.0.0.1); a gateway answering 503 goes down after the configured
 * failed probes and comes back after the good ones; a round in which every gateway is silent
 * freezes state and says so, instead of taking the partition down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProberBlindEvent } from '../../src/events.js'
import type { Server } from '../../src/server.js'
import { startGateway, type FakeGateway } from '../helpers/sip-gateway.js'
import { startTestServer } from '../helpers/test-server.js'
import { until as waitUntil } from '../helpers/until.js'

let server: Server
let close: () => Promise<void>
const gateways: FakeGateway[] = []

const until = async <T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> => await waitUntil(fn, ok, timeoutMs, 50)
const state = async (gateway: string): Promise<Record<string, any>> => await (await fetch(`${server.url}/v1/partitions/probe/gateways/${gateway}/state`)).json() as Record<string, any>

beforeAll(async () => {
  for (const mode of ['busy', 'ok', 'ok'] as const) gateways.push(await startGateway(mode))
  ;({ server, close } = await startTestServer({
    RTROUTE_PROBE_ADDRESS: '127.0.0.1',
    RTROUTE_LEADER_HEARTBEAT_MS: '200',
    RTROUTE_RELOAD_DEBOUNCE_MS: '10'
  }, { migrate: true }))
  // Admin writes wait for the database to be connected and migrated (503 db_unavailable before).
  await until(async () => server.registry.requireIdentifier('db', 'main').ready, (ok) => ok)
  const res = await fetch(`${server.url}/v1/partitions/probe/data`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      partition: { settings: { probe_interval_ms: 1000, probe_timeout_ms: 300, down_after_failures: 2, up_after_probes: 2, hold_down_ms: 0 } },
      gateways: gateways.map((g, i) => ({ id: `g${i}`, address: g.uri, probe_mode: 'always' })),
      carriers: [],
      rules: [{ groups: ['default'], id: 1, prefix: '', targets: gateways.map((_g, i) => ({ gateway: `g${i}` })) }],
      caller_groups: []
    })
  })
  expect(res.status).toBe(201)
})
afterAll(async () => {
  await close()
  for (const g of gateways) g.close()
})

describe('SIP OPTIONS probing', () => {
  it('a gateway answering 503 goes down after two failed probes; answering 200 again, it comes back after two good ones', async () => {
    const down = await until(async () => await state('g0'), (s) => s.state === 'down')
    expect(down).toMatchObject({ state: 'down', probed: true, reason: expect.stringMatching(/503 Service Unavailable/) })
    expect((await state('g1')).state).toBe('active')
    expect(down.probe).toMatchObject({ count: expect.any(Number), timeouts: 0 })
    expect(gateways[0]?.requests.some((r) => r.method === 'OPTIONS')).toBe(true)
    const answer = await (await fetch(`${server.url}/kamailio/rtjson`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call_id: 'x', request_uri: 'sip:1@x', partition: 'probe' }) })).json() as { rtjson: { routes: Array<{ gateway: string }> } }
    expect(answer.rtjson.routes.map((r) => r.gateway)).toEqual(['g1', 'g2'])

    if (gateways[0] !== undefined) gateways[0].mode = 'ok'
    const up = await until(async () => await state('g0'), (s) => s.state === 'active')
    expect(up).toMatchObject({ state: 'active', reason: expect.stringMatching(/2 good probes/) })
    const reports = server.registry.requireIdentifier('routing', 'probe;events').reports().map((r) => r.log)
    expect(reports).toEqual(expect.arrayContaining([
      expect.stringMatching(/^GW <g0>\/sip:127\.0\.0\.1:\d+;transport=udp switched to \[down\] due to /),
      expect.stringMatching(/^GW <g0>\/.* switched to \[active\] due to 2 good probes/)
    ]))
  })

  it('a round in which every gateway is silent freezes state instead of taking the partition down', async () => {
    const blind: ProberBlindEvent[] = []
    server.bus.on('E_PROBER_BLIND', (event) => { blind.push(event) })
    for (const g of gateways) g.mode = 'silent'
    await until(async () => blind.length, (n) => n >= 3)
    for (const id of ['g0', 'g1', 'g2']) expect((await state(id)).state).toBe('active')
    expect(blind[0]).toMatchObject({ partition: 'probe', failed: 3, reason: expect.stringMatching(/prober's own network is suspected/) })
    expect(server.registry.requireIdentifier('routing', 'probe;events').reports().map((r) => r.log)).toContainEqual(expect.stringMatching(/^probing frozen: /))
    for (const g of gateways) g.mode = 'ok'
  })

  it('switched off, probing stops', async () => {
    await fetch(`${server.url}/v1/probing`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const before = gateways.map((g) => g.requests.length)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(gateways.map((g) => g.requests.length)).toEqual(before)
  })
})
