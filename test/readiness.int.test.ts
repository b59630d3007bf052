/**
 * /readyz means "can route": the default partition (RTROUTE_PARTITION) and every partition of
 * RTROUTE_REQUIRED_PARTITIONS must exist and be loaded, not merely the database be connected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../src/server.js'
import { wholePartition } from './helpers/partition-document.js'
import { startTestServer } from './helpers/test-server.js'
import { until } from './helpers/until.js'

let server: Server
let close: () => Promise<void>

const DOC = wholePartition({ gateways: [{ id: 'a', address: '10.0.0.1:5060' }], rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'a' }] }] })
const readyz = async () => {
  const res = await fetch(`${server.url}/readyz`)
  return { status: res.status, body: await res.json() as { ready: boolean, not_ready: Array<{ group: string, identifier: string, status: number, details: string }> } }
}
const call = async (method: string, path: string, body?: unknown) => await fetch(`${server.url}${path}`, {
  method,
  headers: body === undefined ? {} : { 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body)
})
const missing = (name: string) => ({ group: 'routing', identifier: name, status: -2, details: `no data loaded: partition "${name}" does not exist (required for readiness)` })

beforeAll(async () => {
  ({ server, close } = await startTestServer({ RTROUTE_REQUIRED_PARTITIONS: 'eu, default', RTROUTE_RELOAD_DEBOUNCE_MS: '10' }))
  await until(async () => server.registry.requireIdentifier('db', 'main').ready, (ok) => ok, 20_000, 50)
}, 60_000)
afterAll(async () => { await close?.() })

describe('/readyz on an empty database', () => {
  it('is 503 naming the default partition and the required ones, while calls get unknown_partition', async () => {
    const r = await readyz()
    expect(r).toEqual({ status: 503, body: { ready: false, not_ready: [missing('default'), missing('eu')] } })
    const routed = await call('POST', '/kamailio/rtjson', { call_id: 'c1', request_uri: 'sip:4420@x' })
    expect(routed.status).toBe(404)
    expect(((await routed.json()) as { rtjson: { reason: string } }).rtjson.reason).toBe('unknown_partition')
  })

  it('turns 200 once every required partition exists and is loaded, and 503 again when one is deleted', async () => {
    expect((await call('PUT', '/v1/partitions/default/data', DOC)).status).toBe(201)
    const one = await until(readyz, (r) => r.body.not_ready.length === 1)
    expect(one.body.not_ready).toEqual([missing('eu')])
    expect((await call('PUT', '/v1/partitions/eu/data', DOC)).status).toBe(201)
    expect(await until(readyz, (r) => r.status === 200)).toEqual({ status: 200, body: { ready: true, not_ready: [] } })
    expect((await call('DELETE', '/v1/partitions/eu?force=true')).status).toBe(204)
    expect((await until(readyz, (r) => r.status === 503)).body.not_ready).toEqual([missing('eu')])
  })
})
