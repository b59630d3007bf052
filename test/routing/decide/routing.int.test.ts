import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../../../src/server.js'
import type { TestDatabase } from '../../helpers/pg.js'
import type { TcpProxy } from '../../helpers/tcp-proxy.js'
import { startTestServer } from '../../helpers/test-server.js'
import { until as waitUntil } from '../../helpers/until.js'

let t: TestDatabase
let proxy: TcpProxy
let server: Server
let close: () => Promise<void>

const until = async <T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> => await waitUntil(fn, ok, timeoutMs, 20)

const call = async (number: string, partition = 'p1', callId = 'call-1') => {
  const res = await fetch(`${server.url}/kamailio/rtjson`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ call_id: callId, request_uri: `sip:${number}@sbc.example.com`, partition })
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as { rtjson: { success: boolean, reason?: string, routes: Array<{ gateway: string, uri: string }> } } }
}
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, any> }
}

const DATA = {
  partition: {},
  gateways: [{ id: 'a', address: '10.0.0.1:5060' }, { id: 'b', address: '10.0.0.2:5060' }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }] }],
  carriers: [],
  caller_groups: []
}

beforeAll(async () => {
  ({ server, database: t, proxy, close } = await startTestServer({
    RTROUTE_DB_RETRY_MIN_MS: '50',
    RTROUTE_DB_RETRY_MAX_MS: '200',
    RTROUTE_DB_HEALTH_INTERVAL_MS: '200',
    RTROUTE_RELOAD_DEBOUNCE_MS: '20',
    RTROUTE_RETRY_AFTER_S: '7',
    // The partition the tests route in: /readyz waits for it.
    RTROUTE_PARTITION: 'p1'
  }, { proxy: 'closed' }))
})
afterAll(async () => { await close() })

describe('refusing to route until ready', () => {
  it('answers 503 not_ready with Retry-After while no data was ever loaded, and /readyz agrees', async () => {
    const res = await call('4420')
    expect(res.status).toBe(503)
    expect(res.retryAfter).toBe('7')
    expect(res.body.rtjson).toEqual({ success: false, reason: 'not_ready', sip_code: 503, sip_reason: 'Service Unavailable', routing: 'serial', routes: [] })
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503)
  })

  it('once the database answers: an unknown partition is a 404, a new one routes without a manual reload', async () => {
    await proxy.open()
    const unknown = await until(async () => await call('4420'), (r) => r.status !== 503)
    expect(unknown.status).toBe(404)
    expect(unknown.body.rtjson.reason).toBe('unknown_partition')
    expect((await admin('PUT', '/v1/partitions/p1/data', DATA)).status).toBe(201)
    const started = Date.now()
    const routed = await until(async () => await call('4420'), (r) => r.body.rtjson.success)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(routed.body.rtjson.routes.map((r) => r.gateway)).toEqual(['a', 'b'])
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
  })
})

describe('reloading', () => {
  it('a rule changed through the admin API shows in the next answers within a second', async () => {
    const changed = await admin('PATCH', '/v1/partitions/p1/rules/1', { groups: ['default'], targets: [{ gateway: 'b' }] })
    expect(changed.status).toBe(200)
    const started = Date.now()
    const after = await until(async () => await call('4420'), (r) => r.body.rtjson.routes.length === 1)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(after.body.rtjson.routes.map((r) => r.gateway)).toEqual(['b'])
  })

  it('coalesces reloads asked for at once: at most one more run after the running one', async () => {
    const identifier = server.registry.requireIdentifier('routing', 'p1')
    const starts = (): number => identifier.reports().filter((r) => r.log === 'starting DB data loading').length
    const before = starts()
    const results = await Promise.all(Array.from({ length: 10 }, async () => await admin('POST', '/v1/partitions/p1/reload')))
    expect(results.every((r) => r.status === 200 && r.body.ok === true)).toBe(true)
    expect(starts() - before).toBeLessThanOrEqual(2)
  })

  it('a reload compares every row with the snapshot (drouting dr_reload); ?full=true reads and compiles it whole', async () => {
    const identifier = server.registry.requireIdentifier('routing', 'p1')
    const verified = await admin('POST', '/v1/partitions/p1/reload')
    expect(verified.status).toBe(200)
    expect(verified.body).toMatchObject({ partition: 'p1', ok: true, mode: 'verified' })
    // Reported as a drouting reload is: started, completed, then the counts.
    expect(identifier.reports().slice(-3).map((r) => r.log)).toEqual([
      'starting DB data verification',
      'DB data verification successfully completed: 0 rules read again',
      expect.stringMatching(/^\d+ gateways loaded \(0 discarded\), \d+ carriers loaded \(0 discarded\), \d+ rules loaded \(\d+ discarded\), \d+ caller groups loaded \(0 discarded\)$/)
    ])
    expect(identifier.status).toBe(1)
    const full = await admin('POST', '/v1/partitions/p1/reload?full=true')
    expect(full.body).toMatchObject({ partition: 'p1', ok: true, mode: 'full', checksum: verified.body.checksum })
    expect((await admin('POST', '/v1/partitions/p1/reload?full=maybe')).status).toBe(400)
  })

  it('a failed reload keeps answering from the previous snapshot and reports why', async () => {
    await proxy.close()
    const reload = await admin('POST', '/v1/partitions/p1/reload')
    expect(reload.status).toBe(503)
    expect(reload.body).toMatchObject({ partition: 'p1', ok: false })
    const answer = await call('4420')
    expect(answer.status).toBe(200)
    expect(answer.body.rtjson.routes.map((r) => r.gateway)).toEqual(['b'])
    const identifier = server.registry.requireIdentifier('routing', 'p1')
    expect(identifier.status).toBe(1)
    expect(identifier.details).toMatch(/^data available [0-9a-f]{64} \(last reload failed: /)
    expect(identifier.reports().at(-1)?.log).toMatch(/^DB data loading failed, discarding: /)
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
    await proxy.open()
  })

  it('after the outage, a change made meanwhile is found without a manual reload', async () => {
    await until(async () => server.registry.requireIdentifier('db', 'main').status, (s) => s === 1)
    await t.db.kysely.updateTable('gateway').set({ address: '10.0.0.22:5070' }).where('gw_id', '=', 'b').execute()
    const after = await until(async () => await call('4420'), (r) => r.body.rtjson.routes[0]?.uri === 'sip:4420@10.0.0.22:5070')
    expect(after.body.rtjson.routes[0]?.uri).toBe('sip:4420@10.0.0.22:5070')
  })

  it('drops a partition deleted from the database; the default one stays listed, not ready', async () => {
    expect((await admin('PUT', '/v1/partitions/p2/data', DATA)).status).toBe(201)
    await until(async () => await call('4420', 'p2'), (r) => r.body.rtjson.success)
    await t.db.kysely.deleteFrom('partition').where('name', 'in', ['p1', 'p2']).execute()
    for (const name of ['p1', 'p2']) {
      const gone = await until(async () => await call('4420', name), (r) => r.status === 404)
      expect(gone.body.rtjson.reason).toBe('unknown_partition')
    }
    const routing = server.registry.requireGroup('routing')
    expect(routing.get('p2')).toBeUndefined()
    expect(routing.get('p1;events')).toBeUndefined()
    expect(routing.get('p1')?.state()).toMatchObject({ status: -2, details: 'no data loaded: partition "p1" does not exist (required for readiness)' })
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503)
  })
})
