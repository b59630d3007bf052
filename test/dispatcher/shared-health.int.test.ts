/**
 * Gateway health across instances: two real rtroute servers on one PostgreSQL. Feedback to A
 * takes a gateway down on A at once and on B through NOTIFY (the delay is measured); admin
 * state survives reloads and restarts; a restarted instance starts from the shared state;
 * feedback received while the database is away is written once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../../src/server.js'
import type { TestDatabase } from '../helpers/pg.js'
import type { TcpProxy } from '../helpers/tcp-proxy.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until as waitUntil } from '../helpers/until.js'

let t: TestDatabase
let proxy: TcpProxy
let a: Server
let b: Server
let closeA: () => Promise<void>
let closeB: () => Promise<void>

const ENV = {
  RTROUTE_DB_RETRY_MIN_MS: '50',
  RTROUTE_DB_RETRY_MAX_MS: '200',
  RTROUTE_DB_HEALTH_INTERVAL_MS: '200',
  RTROUTE_RELOAD_DEBOUNCE_MS: '10',
  RTROUTE_PROBING: 'false',
  RTROUTE_LEADER_HEARTBEAT_MS: '200',
  // The partition the tests route in: readiness (of the restarted instance too) waits for it.
  RTROUTE_PARTITION: 'p',
  RTROUTE_DB_QUERY_TIMEOUT_MS: '3000'
}

const until = async <T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> => await waitUntil(fn, ok, timeoutMs, 2)

const first = async (server: Server, callId = 'probe-call'): Promise<string | undefined> => {
  const res = await fetch(`${server.url}/kamailio/rtjson`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ call_id: callId, request_uri: 'sip:4420@sbc', partition: 'p' })
  })
  const body = await res.json() as { rtjson: { routes: Array<{ gateway: string }> } }
  return body.rtjson.routes[0]?.gateway
}
const post = async (server: Server, path: string, body: unknown, method = 'POST') => {
  const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, any> }
}
const feedback = async (server: Server, body: Record<string, unknown>) => await post(server, '/kamailio/feedback', { partition: 'p', ...body })
const stateOn = async (server: Server, gateway: string) => (await (await fetch(`${server.url}/v1/partitions/p/gateways/${gateway}/state`)).json()) as Record<string, any>

beforeAll(async () => {
  // A reaches the database through the proxy (the outage test cuts it off), B directly.
  ({ server: a, database: t, proxy, close: closeA } = await startTestServer(ENV, { proxy: 'open' }))
  ;({ server: b, close: closeB } = await startTestServer(ENV, { database: t }))
  await untilDatabaseReady(a, b)
  const put = await post(a, '/v1/partitions/p/data', {
    partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
    gateways: [{ id: 'a1', address: '10.0.0.1:5060' }, { id: 'b1', address: '10.0.0.2:5060' }],
    carriers: [],
    rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a1' }, { gateway: 'b1' }] }],
    caller_groups: []
  }, 'PUT')
  expect(put.status).toBe(201)
  await until(async () => [await first(a), await first(b)], (v) => v[0] === 'a1' && v[1] === 'a1')
})
afterAll(async () => {
  // b first: closing a drops the database.
  await closeB()
  await closeA()
})

describe('failover feedback', () => {
  it('counts failures by the partition codes: far-end 4xx and non-local 408 are ignored, a local 408 counts', async () => {
    expect((await feedback(a, { call_id: 'c1', gateway: 'a1', code: 486 })).body).toMatchObject({ accepted: true, counted: 'ignored', state: 'active' })
    expect((await feedback(a, { call_id: 'c2', gateway: 'a1', code: 408 })).body.counted).toBe('ignored')
    const local = await feedback(a, { call_id: 'c3', dst_uri: 'sip:10.0.0.1:5060', code: 408, local: true })
    expect(local.status).toBe(202)
    expect(local.body).toMatchObject({ counted: 'failure', gateway: 'a1', state: 'suspect' })
    // The same (call, gateway) twice counts once.
    expect((await feedback(a, { call_id: 'c3', gateway: 'a1', code: 503 })).body.counted).toBe('duplicate')
    expect((await feedback(a, { call_id: 'c4', gateway: 'a1', code: 200 })).body).toMatchObject({ counted: 'success', state: 'active' })
  })

  it('refuses reports it cannot place', async () => {
    expect((await feedback(a, { call_id: 'x', gateway: 'nope', code: 503 })).status).toBe(404)
    expect((await feedback(a, { call_id: 'x', code: 503 })).status).toBe(400)
    expect((await feedback(a, { call_id: 'x', gateway: 'a1', code: 99 })).status).toBe(400)
  })

  it('a gateway reported down on A is skipped by A at once and by B soon after (delay measured)', async () => {
    const delays: number[] = []
    for (let trial = 0; trial < 20; trial++) {
      expect((await post(a, '/v1/partitions/p/gateways/a1/state', { state: 'active', reason: `trial ${trial}` }, 'PUT')).status).toBe(200)
      await until(async () => await first(b), (g) => g === 'a1')
      for (let i = 0; i < 3; i++) await feedback(a, { call_id: `t${trial}-${i}`, gateway: 'a1', code: 503, reason: 'Service Unavailable' })
      const sent = performance.now()
      expect(await first(a)).toBe('b1')
      expect(await until(async () => await first(b), (g) => g === 'b1', 15_000), `trial ${trial}`).toBe('b1')
      delays.push(performance.now() - sent)
    }
    delays.sort((x, y) => x - y)
    const median = delays[Math.floor(delays.length / 2)] ?? 0
    const max = delays.at(-1) ?? 0
    console.log(`[propagation] feedback on A → B skips the gateway: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${delays.length} trials`)
    // The delay is reported, not asserted: the target (< 100 ms) is measured by `npm run bench`.
    expect(await stateOn(b, 'a1')).toMatchObject({ state: 'down', failures: 3, reason: expect.stringMatching(/failover feedback 503 Service Unavailable/) })
  })
})

describe('admin state', () => {
  it('disabled survives a reload and a restart; active brings it back', async () => {
    expect((await post(b, '/v1/partitions/p/gateways/b1/state', { state: 'disabled', reason: 'maintenance' }, 'PUT')).body).toMatchObject({ state: 'disabled', reason: 'admin: maintenance' })
    expect((await post(a, '/v1/partitions/p/reload', {})).status).toBe(200)
    await until(async () => (await stateOn(a, 'b1')).state, (s) => s === 'disabled')
    const { server: restarted, close } = await startTestServer(ENV, { database: t })
    try {
      await until(async () => restarted.registry.readiness().ready, (ok) => ok)
      expect(await stateOn(restarted, 'b1')).toMatchObject({ state: 'disabled' })
      // a1 is down cluster-wide since the propagation test: a restarted instance does not start from "all up".
      expect(await stateOn(restarted, 'a1')).toMatchObject({ state: 'down' })
      const reports = restarted.registry.requireIdentifier('routing', 'p;events').reports().map((r) => r.log)
      expect(reports).toEqual(expect.arrayContaining(['GW <a1>/sip:10.0.0.1:5060 initial state [down]', 'GW <b1>/sip:10.0.0.2:5060 initial state [disabled]']))
    } finally {
      await close()
    }
    await post(a, '/v1/partitions/p/gateways/b1/state', { state: 'active', reason: 'done' }, 'PUT')
    await post(a, '/v1/partitions/p/gateways/a1/state', { state: 'active', reason: 'done' }, 'PUT')
    await until(async () => await first(b), (g) => g === 'a1')
    const list = await (await fetch(`${b.url}/v1/partitions/p/gateways/state`)).json() as { items: Array<{ gateway: string, state: string, flaps: number }> }
    expect(list.items.map((i) => [i.gateway, i.state])).toEqual([['a1', 'active'], ['b1', 'active']])
    expect(list.items[0]?.flaps).toBeGreaterThanOrEqual(20)
  })

  it('a carrier switched off at run time is skipped, with its reason', async () => {
    await post(a, '/v1/partitions/p/data', {
      partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
      gateways: [{ id: 'a1', address: '10.0.0.1:5060' }, { id: 'b1', address: '10.0.0.2:5060' }],
      carriers: [{ id: 'c', gateways: [{ gateway: 'a1' }] }],
      rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ carrier: 'c' }, { gateway: 'b1' }] }],
      caller_groups: []
    }, 'PUT')
    await until(async () => (await (await fetch(`${a.url}/v1/partitions/p/carriers/state`)).json() as { items: unknown[] }).items.length, (n) => n === 1)
    expect((await post(a, '/v1/partitions/p/carriers/c/state', { enabled: false, reason: 'contract ended' }, 'PUT')).body).toMatchObject({ carrier: 'c', enabled: false, reason: 'admin: contract ended' })
    expect(await until(async () => await first(b), (g) => g === 'b1')).toBe('b1')
    await post(a, '/v1/partitions/p/carriers/c/state', { enabled: true, reason: 'renewed' }, 'PUT')
    expect(await until(async () => await first(b), (g) => g === 'a1')).toBe('a1')
  })
})

describe('a database outage', () => {
  it('feedback received meanwhile is applied locally at once and written when the database is back', async () => {
    await proxy.close()
    for (let i = 0; i < 3; i++) expect((await feedback(a, { call_id: `outage-${i}`, gateway: 'a1', code: 500 })).status).toBe(202)
    expect(await first(a)).toBe('b1')
    await proxy.open()
    const row = await until(async () => await t.db.kysely.selectFrom('gateway_state').select(['state']).where('partition', '=', 'p').where('gw_id', '=', 'a1').executeTakeFirst(), (r) => r?.state === 'down')
    expect(row?.state).toBe('down')
    expect(await until(async () => await first(b), (g) => g === 'b1')).toBe('b1')
  })
})

describe('probing', () => {
  it('exactly one instance holds the prober lock', async () => {
    const leaders = await until(async () => {
      const views = await Promise.all([a, b].map(async (s) => (await (await fetch(`${s.url}/v1/probing`)).json()) as { leader: boolean, enabled: boolean }))
      return views.filter((v) => v.leader).length
    }, (n) => n === 1)
    expect(leaders).toBe(1)
  })

  it('the probing switch is shared by every instance', async () => {
    expect((await post(a, '/v1/probing', { enabled: true }, 'PUT')).body.enabled).toBe(true)
    await until(async () => ((await (await fetch(`${b.url}/v1/probing`)).json()) as { enabled: boolean }).enabled, (e) => e)
    expect((await post(b, '/v1/probing', { enabled: false }, 'PUT')).body.enabled).toBe(false)
    expect(await until(async () => ((await (await fetch(`${a.url}/v1/probing`)).json()) as { enabled: boolean }).enabled, (e) => !e)).toBe(false)
  })
})
