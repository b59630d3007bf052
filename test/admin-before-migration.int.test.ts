/**
 * The first seconds of `serve`: the database answers but migrations have not run yet (here: held
 * back by another holder of the migrator's advisory lock, as when a second instance migrates).
 * Admin calls that need the database answer 503 db_unavailable with Retry-After, not a 500.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../src/server.js'
import { createTestDatabase, type TestDatabase } from './helpers/pg.js'
import { wholePartition } from './helpers/partition-document.js'
import { startTestServer } from './helpers/test-server.js'
import { until } from './helpers/until.js'

/** kysely's PostgresAdapter takes this advisory lock for a migration run. */
const MIGRATION_LOCK = '3853314791062309107'
const DOC = wholePartition({ gateways: [{ id: 'a', address: '10.0.0.1:5060' }], rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'a' }] }] })

let t: TestDatabase
let holder: pg.Client
let server: Server
let close: () => Promise<void>

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as Record<string, unknown> }
}

beforeAll(async () => {
  t = await createTestDatabase({ migrate: false })
  holder = new pg.Client({ connectionString: t.url })
  await holder.connect()
  await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK])
  ;({ server, close } = await startTestServer({ RTROUTE_RETRY_AFTER_S: '2', RTROUTE_DB_RETRY_MIN_MS: '50', RTROUTE_DB_RETRY_MAX_MS: '200' }, { database: t }))
  // Connected, and its migration run waits for the lock.
  await until(async () => (await holder.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]?.n, (n) => n === 1, 20_000, 50)
}, 60_000)
afterAll(async () => {
  await holder?.end().catch(() => {})
  await close?.()
  await t?.drop()
})

describe('admin calls before the database is migrated', () => {
  it('answer 503 db_unavailable with Retry-After, while memory reads and probes answer', async () => {
    for (const [method, path, body] of [
      ['PUT', '/v1/partitions/p/data', DOC],
      ['POST', '/v1/partitions', { name: 'p' }],
      ['GET', '/v1/partitions', undefined],
      ['GET', '/v1/partitions/p/data', undefined],
      ['PUT', '/v1/status/ext', { required: false }]
    ] as const) {
      const res = await call(method, path, body)
      expect([method, path, res.status, res.body.error, res.retryAfter]).toEqual([method, path, 503, 'db_unavailable', '2'])
    }
    expect((await call('GET', '/v1/status')).status).toBe(200)
    expect((await fetch(`${server.url}/livez`)).status).toBe(200)
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503)
  })

  it('are served once the migrations ran', async () => {
    await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK])
    const put = await until(async () => await call('PUT', '/v1/partitions/p/data', DOC), (r) => r.status !== 503, 20_000, 50)
    expect(put.status).toBe(201)
    expect((await call('GET', '/v1/partitions')).status).toBe(200)
  })
})
