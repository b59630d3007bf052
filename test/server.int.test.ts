import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../src/server.js'
import { wholePartition } from './helpers/partition-document.js'
import type { TcpProxy } from './helpers/tcp-proxy.js'
import { startTestServer } from './helpers/test-server.js'
import { until as waitUntil } from './helpers/until.js'

let proxy: TcpProxy
let server: Server
let close: () => Promise<void>

const until = async <T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> => await waitUntil(fn, ok, timeoutMs, 50)

beforeAll(async () => {
  ({ server, proxy, close } = await startTestServer({
    RTROUTE_DB_RETRY_MIN_MS: '50',
    RTROUTE_DB_RETRY_MAX_MS: '200',
    RTROUTE_DB_HEALTH_INTERVAL_MS: '100',
    RTROUTE_SHUTDOWN_DRAIN_MS: '400'
  }, { proxy: 'closed' }))
})
afterAll(async () => { await close() })

const readyz = async () => {
  const res = await fetch(`${server.url}/readyz`)
  return { status: res.status, body: await res.json() as { ready: boolean, not_ready: Array<{ group: string, status: number, details: string }> } }
}

describe('a database outage', () => {
  it('at start is not a crash: /readyz names db until the database answers, then the default partition until it is loaded', async () => {
    const down = await until(readyz, (r) => r.body.not_ready.some((n) => n.group === 'db' && n.status === -2))
    expect(down.status).toBe(503)
    expect(down.body.not_ready).toEqual([
      { group: 'db', identifier: 'main', status: -2, details: expect.stringMatching(/^unreachable: .*ECONNREFUSED/) },
      { group: 'routing', identifier: 'default', status: -2, details: 'no data loaded' }
    ])
    expect((await fetch(`${server.url}/livez`)).status).toBe(200)

    await proxy.open()
    // Connected, and nothing to route yet: ready means "can route".
    const connected = await until(readyz, (r) => r.body.not_ready.every((n) => n.group !== 'db'))
    expect(connected).toEqual({ status: 503, body: { ready: false, not_ready: [{ group: 'routing', identifier: 'default', status: -2, details: 'no data loaded: partition "default" does not exist (required for readiness)' }] } })
    const put = await fetch(`${server.url}/v1/partitions/default/data`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(wholePartition({ gateways: [{ id: 'a', address: '10.0.0.1' }], rules: [{ groups: ['default'], prefix: '', targets: [{ gateway: 'a' }] }] })) })
    expect(put.status).toBe(201)
    const up = await until(readyz, (r) => r.status === 200)
    expect(up).toEqual({ status: 200, body: { ready: true, not_ready: [] } })
    const reports = server.registry.requireIdentifier('db', 'main').reports().map((r) => r.log)
    expect(reports[0]).toMatch(/unreachable/)
    expect(reports.at(-1)).toMatch(/^connected to database .* after \d+ failed attempts$/)
  })

  it('while serving degrades the db identifier but keeps the instance ready', async () => {
    await proxy.close()
    const db = server.registry.requireIdentifier('db', 'main')
    await until(async () => db.status, (s) => s === 2)
    expect(db.details).toMatch(/^connection lost, serving from memory/)
    expect((await readyz()).status).toBe(200)
    await proxy.open()
    await until(async () => db.status, (s) => s === 1)
    expect(db.reports().map((r) => r.log).slice(-2)).toEqual([
      expect.stringMatching(/^database connection lost/),
      expect.stringMatching(/^database connection restored after [\d.]+ s$/)
    ])
  })
})

describe('graceful shutdown', () => {
  it('turns readiness false before the listener closes', async () => {
    const closing = server.close('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const during = await readyz()
    expect(during.status).toBe(503)
    expect(during.body.not_ready).toContainEqual({ group: 'core', identifier: 'main', status: -2, details: 'terminating' })
    await closing
    await expect(fetch(`${server.url}/livez`)).rejects.toThrow()
  })
})
