/**
 * Database faults under load: a dedicated embedded PostgreSQL that this file really stops and
 * starts (plus a forwarder to cut rtroute off while the database is up and changed behind its
 * back), while the test keeps a bounded load of concurrent rtjson queries on rtroute. Routing
 * must answer from memory throughout, feedback must not be lost, and everything must resume
 * without restarting rtroute.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '../../src/db.js'
import { freePort, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded-postgres.js'
import type { Server } from '../../src/server.js'
import type { TcpProxy } from '../helpers/tcp-proxy.js'
import { startTestServer } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'
import { describeTally, request, startLoad, total, type HttpAnswer, type Load } from './helpers/load.js'
import { captureLogs, type CapturedLogs } from './helpers/logs.js'

let dir: string
let pgPort: number
let pg: EmbeddedPostgres
let forwarder: TcpProxy
let direct: Db
let server: Server
let close: () => Promise<void>
let logs: CapturedLogs
let load: Load
const routingStatuses: number[] = []
const readyz: Record<string, number> = {}
let pollReadyz = true
let stoppedAt = 0
let reconnectedAt = 0
let answeredAtStop = 0
let answeredAtReconnect = 0
/** How long PostgreSQL stays stopped at least: long enough for several backoff rounds. */
const OUTAGE_MS = 3000
let readyzPoller: Promise<void>

const startPg = async (): Promise<EmbeddedPostgres> => await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'rtroute' })

interface Rtjson { rtjson: { success: boolean, reason?: string, routes: Array<{ gateway: string, uri: string }> } }
const route = async (number: string, callId = 'probe'): Promise<Rtjson> =>
  JSON.parse((await request(server.url, 'POST', '/kamailio/rtjson', { call_id: callId, request_uri: `sip:${number}@sbc.example.com`, partition: 'p' })).body) as Rtjson
const admin = async (method: string, url: string, body?: unknown): Promise<{ status: number, body: Record<string, any> }> => {
  const answer = await request(server.url, method, url, body)
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, any> }
}
const feedback = async (gateway: string, callId: string) => await admin('POST', '/kamailio/feedback', { call_id: callId, partition: 'p', gateway, code: 503, reason: 'Service Unavailable' })
const stateRow = async (gateway: string) => await direct.kysely.selectFrom('gateway_state').select(['state', 'failures'])
  .where('partition', '=', 'p').where('gw_id', '=', gateway).executeTakeFirst().catch(() => undefined)
const classify = (answer: HttpAnswer): string => {
  if (answer.status >= 500) return `${answer.status} server error`
  const body = JSON.parse(answer.body) as Rtjson
  return `${answer.status} ${body.rtjson.success ? 'routed' : body.rtjson.reason ?? '?'}`
}

const DATA = {
  partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
  gateways: [{ id: 'a', address: '10.0.0.1:5060' }, { id: 'b', address: '10.0.0.2:5060' }, { id: 'c', address: '10.0.0.3:5060' }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }, { gateway: 'c' }] }],
  carriers: [],
  caller_groups: []
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-dbfault-'))
  // As root PostgreSQL runs as user postgres, which must reach into the folder.
  await chmod(dir, 0o755)
  pgPort = await freePort()
  pg = await startPg()
  direct = createDb({ url: pg.url, poolMax: 2, onPoolError: () => {} })
  logs = captureLogs('info')
  ;({ server, proxy: forwarder, close } = await startTestServer({
    RTROUTE_DB_RETRY_MIN_MS: '50',
    RTROUTE_DB_RETRY_MAX_MS: '400',
    RTROUTE_DB_HEALTH_INTERVAL_MS: '200',
    RTROUTE_DB_QUERY_TIMEOUT_MS: '3000',
    RTROUTE_RELOAD_DEBOUNCE_MS: '20',
    // The periodic sweep is kept out of the way: what is picked up after the outage is picked up by the reconnect.
    RTROUTE_RELOAD_INTERVAL_MS: '3600000',
    RTROUTE_PROBING: 'false',
    // The partition the load routes in: readiness waits for it, and must then hold through the outage.
    RTROUTE_PARTITION: 'p',
    RTROUTE_LEADER_HEARTBEAT_MS: '500'
  }, { database: pg, proxy: 'open', log: logs.log }))
  await until(async () => server.registry.readiness().ready, (ok) => ok, 30_000)
  expect((await admin('PUT', '/v1/partitions/p/data', DATA)).status).toBe(201)
  expect((await until(async () => await route('4420'), (r) => r.rtjson.success)).rtjson.routes.map((r) => r.gateway)).toEqual(['a', 'b', 'c'])
  server.bus.on('E_CORE_SR_STATUS_CHANGED', (event) => { if (event.group === 'routing' && event.identifier === 'p') routingStatuses.push(event.status) })
  readyzPoller = (async () => {
    while (pollReadyz) {
      const status = await request(server.url, 'GET', '/readyz').then((r) => String(r.status), () => 'no answer')
      readyz[status] = (readyz[status] ?? 0) + 1
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
}, 90_000)

afterAll(async () => {
  pollReadyz = false
  await load?.stop()
  await readyzPoller
  await close?.()
  await direct?.close()
  await pg?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('PostgreSQL stopped and started under routing load', () => {
  it('keeps answering from memory while the server is down; readiness holds, db reports the loss, writes fail cleanly', async () => {
    load = startLoad({
      url: server.url,
      path: '/kamailio/rtjson',
      workers: 6,
      maxRequests: 200_000,
      maxMs: 120_000,
      body: (n) => ({ call_id: `load-${n}`, request_uri: 'sip:4420718@sbc.example.com', partition: 'p' }),
      classify
    })
    await until(async () => load.stats.sent, (n) => n >= 200)

    answeredAtStop = total(load.stats.answers)
    await pg.stop()
    stoppedAt = Date.now()
    const db = server.registry.requireIdentifier('db', 'main')
    expect(await until(async () => db.status, (s) => s === 2, 15_000)).toBe(2)
    expect(db.details).toMatch(/^connection lost, serving from memory/)
    expect((await request(server.url, 'GET', '/readyz')).status).toBe(200)

    // Feedback while the database is away: accepted, applied here at once, queued for later.
    for (let i = 0; i < 3; i++) expect((await feedback('a', `outage-a-${i}`)).status).toBe(202)
    expect((await feedback('b', 'outage-b-0')).body).toMatchObject({ counted: 'failure', state: 'suspect' })
    expect((await route('4420')).rtjson.routes.map((r) => r.gateway)).toEqual(['b', 'c'])

    // Writes and reloads fail with a clear answer and change nothing in memory.
    const write = await admin('POST', '/v1/partitions/p/gateways', { id: 'd', address: '10.0.0.4:5060' })
    expect(write).toMatchObject({ status: 503, body: { error: 'db_unavailable' } })
    const reload = await admin('POST', '/v1/partitions/p/reload')
    expect(reload).toMatchObject({ status: 503, body: { ok: false } })
    const partition = server.registry.requireIdentifier('routing', 'p')
    expect(partition.status).toBe(1)
    expect(partition.details).toMatch(/\(last reload failed: /)

    // Retries go on, with backoff: connection attempts keep coming, but not in a hot loop.
    const before = forwarder.attempts.filter((t) => t >= stoppedAt).length
    await until(async () => forwarder.attempts.filter((t) => t >= stoppedAt).length, (n) => n >= before + 5, 15_000)
    // The fault window itself, not an assertion: the database stays away a while longer.
    await until(async () => Date.now() - stoppedAt, (ms) => ms >= OUTAGE_MS, OUTAGE_MS + 1000, 100)
    const outageMs = Date.now() - stoppedAt
    const attempts = forwarder.attempts.filter((t) => t >= stoppedAt).length
    console.log(`[db-faults] PostgreSQL stopped ${outageMs} ms so far: ${attempts} connection attempts reached it (${(attempts / (outageMs / 1000)).toFixed(1)}/s; backoff 50–400 ms), ${total(load.stats.answers) - answeredAtStop} queries answered meanwhile`)
    expect(attempts / (outageMs / 1000)).toBeLessThan(100)
    expect(logs.messages()).toContain('gateway state write failed; events are kept and retried')
  }, 60_000)

  it('picks up a change made while it was cut off, through LISTEN reconnect and a full reload', async () => {
    // rtroute stays cut off while PostgreSQL comes back and is changed behind its back.
    await forwarder.close()
    pg = await startPg()
    await direct.kysely.updateTable('gateway').set({ address: '10.0.0.33:5070' }).where('gw_id', '=', 'c').execute()
    const pid = (await direct.kysely.selectFrom('partition').select('id').where('name', '=', 'p').executeTakeFirstOrThrow()).id
    const c = (await direct.kysely.selectFrom('gateway').select('id').where('gw_id', '=', 'c').executeTakeFirstOrThrow()).id
    await direct.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('rule').values({ partition_id: pid, id: '2', groups: ['default'], prefix: '33' }).execute()
      await trx.insertInto('rule_target').values({ partition_id: pid, rule_id: '2', position: 0, gateway_id: c }).execute()
    })
    expect((await route('3312345')).rtjson.reason).toBe('no_route')

    answeredAtReconnect = total(load.stats.answers)
    await forwarder.open()
    reconnectedAt = Date.now()
    const picked = await until(async () => await route('3312345'), (r) => r.rtjson.success, 20_000)
    expect(picked.rtjson.routes).toEqual([expect.objectContaining({ gateway: 'c', uri: 'sip:3312345@10.0.0.33:5070' })])
    console.log(`[db-faults] database away ${reconnectedAt - stoppedAt} ms (stopped, restarted, changed while rtroute was cut off); the change was routed ${Date.now() - reconnectedAt} ms after the connection came back`)

    const db = server.registry.requireIdentifier('db', 'main')
    expect(await until(async () => db.status, (s) => s === 1, 15_000)).toBe(1)
    const reports = db.reports().map((r) => r.log)
    expect(reports).toEqual(expect.arrayContaining([expect.stringMatching(/^database connection lost/), expect.stringMatching(/^database connection restored after [\d.]+ s$/)]))
    // The LISTEN connection reconnects on its own backoff, maybe after the pool did.
    const restored = await until(async () => logs.messages(), (m) => m.includes('LISTEN connection restored'), 15_000)
    expect(restored).toEqual(expect.arrayContaining(['LISTEN connection lost, reconnecting', 'LISTEN connection restored']))
  }, 60_000)

  it('writes the feedback received during the outage to gateway_state: nothing lost', async () => {
    const a = await until(async () => await stateRow('a'), (r) => r?.state === 'down', 15_000)
    const b = await until(async () => await stateRow('b'), (r) => r?.state === 'suspect', 15_000)
    expect(a).toMatchObject({ state: 'down' })
    expect(a?.failures).toHaveLength(3)
    expect(b).toMatchObject({ state: 'suspect' })
    expect(b?.failures).toHaveLength(1)
  }, 30_000)

  it('resumes everything without a restart: NOTIFY delivers changes again, admin writes work', async () => {
    await direct.kysely.updateTable('gateway').set({ address: '10.0.0.22:5080' }).where('gw_id', '=', 'b').execute()
    const started = Date.now()
    const changed = await until(async () => await route('4420'), (r) => r.rtjson.routes[0]?.uri === 'sip:4420@10.0.0.22:5080', 5000)
    expect(changed.rtjson.routes[0]?.uri).toBe('sip:4420@10.0.0.22:5080')
    // The periodic sweep is an hour away: only a live LISTEN explains a change seen this fast.
    expect(Date.now() - started).toBeLessThan(5000)
    expect((await admin('POST', '/v1/partitions/p/gateways', { id: 'd', address: '10.0.0.4:5060' })).status).toBe(201)

    const stats = await load.stop()
    pollReadyz = false
    await readyzPoller
    console.log(`[db-faults] load: ${stats.sent} rtjson queries in ${stats.durationMs} ms, ${answeredAtReconnect - answeredAtStop} of them answered while the database was away (${reconnectedAt - stoppedAt} ms); answers ${describeTally(stats.answers)}; errors ${describeTally(stats.errors)}; /readyz ${describeTally(readyz)}; routing/p statuses seen ${JSON.stringify([...new Set(routingStatuses)])}`)
    expect(stats.errors).toEqual({})
    expect(Object.keys(stats.answers)).toEqual(['200 routed'])
    expect(total(stats.answers)).toBe(stats.sent)
    expect(Object.keys(readyz)).toEqual(['200'])
    expect(routingStatuses.every((status) => status > 0)).toBe(true)
  }, 30_000)
})
