/**
 * Capacity limits on real servers and a real PostgreSQL: leases taken by routing answers, call
 * events over HTTP, counts shared by two instances through the call table, lease moves on
 * failover feedback, expiry of leases nobody reports, no_capacity answers, least_loaded order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../../src/server.js'
import type { TestDatabase } from '../helpers/pg.js'
import { wholePartition } from '../helpers/partition-document.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until as waitUntil } from '../helpers/until.js'

let t: TestDatabase
let a: Server
let b: Server
let closeA: () => Promise<void>
let closeB: () => Promise<void>

const SYNC_MS = 100
const ENV = {
  RTROUTE_RELOAD_DEBOUNCE_MS: '10',
  RTROUTE_PROBING: 'false',
  RTROUTE_LEADER_HEARTBEAT_MS: '200',
  RTROUTE_CAPACITY_SYNC_MS: String(SYNC_MS)
}
const until = async <T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> => await waitUntil(fn, ok, timeoutMs, 5)

interface Answer { status: number, reason?: string, sipCode?: number, gateways: string[] }
async function route (server: Server, callId: string, number = '4420', partition = 'cap'): Promise<Answer> {
  const res = await fetch(`${server.url}/kamailio/rtjson`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ call_id: callId, request_uri: `sip:${number}@sbc`, partition })
  })
  const body = await res.json() as { rtjson: { routes: Array<{ gateway: string }>, reason?: string, sip_code?: number } }
  return { status: res.status, reason: body.rtjson.reason, sipCode: body.rtjson.sip_code, gateways: body.rtjson.routes.map((r) => r.gateway) }
}
async function post (server: Server, path: string, body: unknown, method = 'POST') {
  const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, any> }
}
const call = async (server: Server, event: 'start' | 'end', callId: string, more: Record<string, unknown> = {}) =>
  await post(server, '/kamailio/calls', { event, call_id: callId, partition: 'cap', ...more })
const capacityOf = async (server: Server, gateway: string, partition = 'cap') =>
  ((await (await fetch(`${server.url}/v1/partitions/${partition}/gateways/${gateway}/state`)).json()) as { capacity: Record<string, number> | null }).capacity
const rows = async (): Promise<Array<{ call_id: string, gw_id: string, state: string, carrier_id: string | null }>> =>
  await t.db.kysely.selectFrom('call_lease').select(['call_id', 'gw_id', 'state', 'carrier_id']).where('state', '<>', 'ended').orderBy('call_id').execute()
const synced = async (...servers: Server[]): Promise<void> => {
  // Two sync rounds on every instance: each has written what it had and read the others'.
  await new Promise((resolve) => setTimeout(resolve, SYNC_MS * 3))
  void servers
}

async function load (partition: string, doc: Record<string, unknown>): Promise<void> {
  const put = await post(a, `/v1/partitions/${partition}/data`, wholePartition(doc), 'PUT')
  expect(put.status, JSON.stringify(put.body)).toBeLessThan(300)
  await until(async () => [await route(a, 'warm', '4420', partition), await route(b, 'warm', '4420', partition)], (v) => v.every((x) => x.status === 200))
  // The warm-up answers took a lease: ended, and every instance has seen it go.
  await call(a, 'end', 'warm', { partition })
  await synced(a, b)
}

beforeAll(async () => {
  ({ server: a, database: t, close: closeA } = await startTestServer(ENV))
  ;({ server: b, close: closeB } = await startTestServer(ENV, { database: t }))
  await untilDatabaseReady(a, b)
}, 60_000)
afterAll(async () => {
  // b first: closing a drops the database.
  await closeB?.()
  await closeA?.()
})

describe('max_calls', () => {
  beforeAll(async () => {
    await load('cap', {
      partition: { settings: { lease_ttl_ms: 60_000 } },
      gateways: [{ id: 'small', address: '10.0.0.1:5060', max_calls: 2 }, { id: 'big', address: '10.0.0.2:5060' }],
      rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'small' }, { gateway: 'big' }] }]
    })
  })

  it('offers a limited gateway until its leases fill it, then skips it; ends free it', async () => {
    expect((await route(a, 'm1')).gateways).toEqual(['small', 'big'])
    expect((await route(a, 'm2')).gateways).toEqual(['small', 'big'])
    // Full: skipped (not even listed as a later route), the next gateway is first.
    expect((await route(a, 'm3')).gateways).toEqual(['big'])
    expect(await capacityOf(a, 'small')).toMatchObject({ max_calls: 2, calls: 2, leases: 2, started: 0, free: 0 })
    expect(await capacityOf(a, 'big')).toBeNull()
    await synced(a, b)
    expect((await rows()).filter((r) => r.gw_id === 'small').map((r) => r.call_id)).toEqual(['m1', 'm2'])
    // The other instance counts the same calls once they are synced.
    expect((await route(b, 'm4')).gateways).toEqual(['big'])
    expect(await capacityOf(b, 'small')).toMatchObject({ calls: 2 })

    expect((await call(a, 'start', 'm1', { gateway: 'small', code: 200 })).status).toBe(202)
    expect(await capacityOf(a, 'small')).toMatchObject({ calls: 2, started: 1, leases: 1 })
    // The end goes to the other instance: it does not know the call, the database does.
    expect((await call(b, 'end', 'm1')).status).toBe(202)
    await until(async () => await capacityOf(a, 'small'), (c) => c?.calls === 1)
    expect((await route(a, 'm5')).gateways).toEqual(['small', 'big'])
    await call(a, 'end', 'm2')
    await call(a, 'end', 'm5')
    await until(async () => [await capacityOf(a, 'small'), await capacityOf(b, 'small')], (c) => c.every((x) => x?.calls === 0))
    expect(await rows()).toEqual([])
  })

  it('holds the limit under concurrent offers on one instance', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, async (_, i) => await route(a, `burst-${i}`)))
    expect(answers.filter((x) => x.gateways[0] === 'small')).toHaveLength(2)
    expect(answers.filter((x) => x.gateways[0] === 'big')).toHaveLength(38)
    for (let i = 0; i < 40; i++) await call(a, 'end', `burst-${i}`)
    await until(async () => await capacityOf(a, 'small'), (c) => c?.calls === 0)
  })

  it('across instances: a simultaneous burst stays within the documented bound, and both refuse once synced', async () => {
    // Both instances take offers at the same moment: neither has seen the other's yet, so each may
    // fill the gateway on its own. The bound: max_calls × instances for such a burst.
    const burst = async (server: Server, tag: string) => await Promise.all(Array.from({ length: 10 }, async (_, i) => await route(server, `${tag}-${i}`)))
    const [onA, onB] = await Promise.all([burst(a, 'xa'), burst(b, 'xb')])
    const admitted = [...onA, ...onB].filter((x) => x.gateways[0] === 'small').length
    console.log(`[capacity] simultaneous burst of 2 × 10 on 2 instances, max_calls 2: ${admitted} admitted (bound 4)`)
    expect(admitted).toBeGreaterThanOrEqual(2)
    expect(admitted).toBeLessThanOrEqual(4)
    await synced(a, b)
    expect((await capacityOf(a, 'small'))?.calls).toBe(admitted)
    expect((await capacityOf(b, 'small'))?.calls).toBe(admitted)
    expect((await route(a, 'after-a')).gateways).toEqual(['big'])
    expect((await route(b, 'after-b')).gateways).toEqual(['big'])
    for (const id of [...onA.keys()].map((i) => `xa-${i}`).concat([...onB.keys()].map((i) => `xb-${i}`), ['after-a', 'after-b'])) await call(a, 'end', id)
    await until(async () => [await capacityOf(a, 'small'), await capacityOf(b, 'small')], (c) => c.every((x) => x?.calls === 0))
  })

  it('moves the lease down the list on failover feedback, and ends it after the last route', async () => {
    expect((await route(a, 'f1')).gateways).toEqual(['small', 'big'])
    await post(a, '/kamailio/feedback', { call_id: 'f1', partition: 'cap', gateway: 'small', code: 503 })
    expect(await capacityOf(a, 'small')).toMatchObject({ calls: 0 })
    await synced(a)
    expect((await rows()).map((r) => [r.call_id, r.gw_id, r.state])).toEqual([['f1', 'big', 'lease']])
    await post(a, '/kamailio/feedback', { call_id: 'f1', partition: 'cap', gateway: 'big', code: 503 })
    await synced(a)
    expect(await rows()).toEqual([])
  })

  it('counts a start for an unknown call on a limited gateway, and answers no_capacity when every target is full', async () => {
    await load('full', {
      gateways: [{ id: 'one', address: '10.0.1.1:5060', max_calls: 1 }, { id: 'two', address: '10.0.1.2:5060', max_calls: 1 }],
      rules: [{ groups: ['default'], id: 1, prefix: '', targets: [{ gateway: 'one' }, { gateway: 'two' }] }]
    })
    // A proxy's start for a call rtroute never leased (e.g. its lease expired) still counts on the named gateway.
    expect((await post(a, '/kamailio/calls', { event: 'start', call_id: 'x1', partition: 'full', gateway: 'one' })).body).toMatchObject({ accepted: true, gateway: 'one' })
    await until(async () => await capacityOf(b, 'one', 'full'), (c) => c?.calls === 1)
    expect((await route(b, 'x2', '4420', 'full')).gateways).toEqual(['two'])
    const full = await route(b, 'x3', '4420', 'full')
    expect(full).toMatchObject({ status: 200, reason: 'no_capacity', sipCode: 503, gateways: [] })
    const metrics = await (await fetch(`${b.url}/metrics`)).text()
    expect(metrics).toMatch(/rtroute_routing_answers_total\{partition="full",result="no_capacity"\} 1/)
    expect(metrics).toMatch(/rtroute_capacity_limit\{partition="full",kind="gateway",name="one",limit="max_calls"\} 1/)
    expect(metrics).toMatch(/rtroute_capacity_calls\{partition="full",kind="gateway",name="two",state="lease"\} 1/)
    const explain = await (await fetch(`${b.url}/v1/partitions/full/route?number=4420&call_id=x4`)).json() as { outcome: string, trace: { targets: Array<{ gateway: string, verdict: string }> } }
    expect(explain.outcome).toBe('no_capacity')
    expect(explain.trace.targets.map((x) => [x.gateway, x.verdict])).toEqual([['one', 'at_capacity'], ['two', 'at_capacity']])
    await call(b, 'end', 'x1', { partition: 'full' })
    await call(b, 'end', 'x2', { partition: 'full' })
  })

  it('rejects events it cannot place with a clear 4xx', async () => {
    expect((await call(a, 'start', 'z', { gateway: 'nope' })).status).toBe(404)
    expect((await post(a, '/kamailio/calls', { event: 'begin', call_id: 'z' })).status).toBe(400)
    expect((await post(a, '/kamailio/calls', { event: 'end', call_id: 'z', partition: 'missing' })).status).toBe(404)
  })
})

describe('expiry', () => {
  it('a lease nobody reports stops counting after lease_ttl_ms, on every instance', async () => {
    await load('ttl', {
      partition: { settings: { lease_ttl_ms: 1000, max_call_duration_ms: 10_000 } },
      gateways: [{ id: 'g', address: '10.0.2.1:5060', max_calls: 5 }],
      rules: [{ groups: ['default'], id: 1, prefix: '', targets: [{ gateway: 'g' }] }]
    })
    await route(a, 'lost', '4420', 'ttl')
    const started = Date.now()
    expect(await capacityOf(a, 'g', 'ttl')).toMatchObject({ calls: 1, leases: 1 })
    await until(async () => await capacityOf(a, 'g', 'ttl'), (c) => c?.calls === 0, 5000)
    expect(Date.now() - started).toBeGreaterThan(500)
    // The other instance reads it at its next sync.
    await until(async () => await capacityOf(b, 'g', 'ttl'), (c) => c?.calls === 0, 2000)
  })
})

describe('least_loaded', () => {
  it('offers the gateway with the most relative free capacity first', async () => {
    await load('ll', {
      gateways: [
        { id: 'ten', address: '10.0.3.1:5060', max_calls: 10 },
        { id: 'four', address: '10.0.3.2:5060', max_calls: 4 }
      ],
      rules: [{ groups: ['default'], id: 1, prefix: '', sort: 'least_loaded', targets: [{ gateway: 'ten' }, { gateway: 'four' }] }]
    })
    const firsts: string[] = []
    for (let i = 0; i < 14; i++) firsts.push((await route(a, `ll-${i}`, '4420', 'll')).gateways[0] as string)
    // Filled in proportion to size: 10 and 4, never one full while the other has room.
    expect(firsts.filter((g) => g === 'ten')).toHaveLength(10)
    expect(firsts.filter((g) => g === 'four')).toHaveLength(4)
    expect((await route(a, 'll-over', '4420', 'll')).reason).toBe('no_capacity')
  })
})
