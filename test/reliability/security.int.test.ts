/**
 * Secrets against the real process: the built CLI at LOG_LEVEL=trace with an admin token, a proxy
 * secret and a password in DATABASE_URL, sent wrong and right tokens and secrets; its whole output
 * must hold none of them. And webhook secrets (when the subscriptions API exists) go in and never
 * come back out of the API or the logs.
 */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/embedded-postgres.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { CLI, runCli } from '../helpers/process.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { request } from './helpers/load.js'
import { captureLogs } from './helpers/logs.js'

const TOKEN = 'admin-token-for-the-log-test-0123456789'
const SECRET = 'proxy-secret-for-the-log-test-9876543210'
const WRONG = ['wrong-admin-token-aaaaaaaaaaaaaaaa', 'wrong-proxy-secret-bbbbbbbbbbbbbbbb']
let t: TestDatabase

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`)
  t = await createTestDatabase()
})
afterAll(async () => { await t?.drop() })

describe('the running process', () => {
  it('never writes a token, a proxy secret or the database password to its output, at trace level', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const password = decodeURIComponent(new URL(t.url).password)
    expect(password.length).toBeGreaterThan(8)
    const cli = runCli(['serve'], {
      DATABASE_URL: t.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'trace',
      RTROUTE_PROBING: 'false',
      RTROUTE_ADMIN_TOKEN: TOKEN,
      RTROUTE_PROXY_SECRET: SECRET,
      RTROUTE_PROXY_ALLOW: '127.0.0.0/8',
      RTROUTE_ADMIN_RATE_MAX: '12'
    })
    try {
      await cli.waitFor(/rtroute listening on/, 30_000)
      // The admin write below waits for the migrated database (503 db_unavailable before).
      await cli.waitFor(/connected to database/, 30_000)
      const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
      const statuses: number[] = []
      for (const token of [WRONG[0] ?? '', TOKEN, `${TOKEN}x`, TOKEN.slice(0, 20)]) statuses.push((await request(url, 'GET', '/v1/status', undefined, auth(token))).status)
      statuses.push((await request(url, 'PUT', '/v1/partitions/p/data', { partition: {}, gateways: [{ id: 'a', address: '10.0.0.1:5060' }], carriers: [], rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'a' }] }], caller_groups: [] }, auth(TOKEN))).status)
      for (const secret of [WRONG[1] ?? '', SECRET, '', TOKEN]) {
        statuses.push((await request(url, 'POST', '/kamailio/rtjson', { call_id: 'c', request_uri: 'sip:4420@x', partition: 'p' }, { headers: secret === '' ? {} : { 'x-rtroute-secret': secret } })).status)
        statuses.push((await request(url, 'POST', '/kamailio/feedback', { call_id: 'c', partition: 'p', gateway: 'a', code: 503 }, { headers: { 'x-rtroute-secret': secret } })).status)
      }
      for (let i = 0; i < 12; i++) statuses.push((await request(url, 'GET', '/v1/status', undefined, auth(WRONG[0] ?? ''))).status)
      expect(statuses.slice(0, 5)).toEqual([401, 200, 401, 401, 201])
      expect(statuses).toContain(403)
      expect(statuses).toContain(429)
    } finally {
      cli.child.kill('SIGTERM')
      await cli.exited
    }
    const output = cli.output()
    for (const value of [TOKEN, SECRET, password, ...WRONG]) expect(output.includes(value), 'a secret in the output').toBe(false)
    expect(output).toMatch(/proxy request refused: invalid x-rtroute-secret header/)
    console.log(`[security] process output: ${output.split('\n').length} lines at trace level, no token, secret or password in them`)
  }, 60_000)

  it('refuses a bad configuration naming the variables, never their values', async () => {
    const cli = runCli(['serve'], { DATABASE_URL: t.url, RTROUTE_ADMIN_TOKEN: 'short-token-1', RTROUTE_PROXY_SECRET: 'short-secret-2', RTROUTE_PROXY_ALLOW: '10.0.0.0/99' })
    expect(await cli.exited).toBe(78)
    expect(cli.output()).toMatch(/RTROUTE_ADMIN_TOKEN/)
    expect(cli.output()).toMatch(/RTROUTE_PROXY_SECRET/)
    expect(cli.output()).not.toMatch(/short-token-1|short-secret-2/)
  }, 30_000)
})

describe('webhook secrets', () => {
  it('go in with a subscription and never come back out of the API or the logs', async () => {
    const logs = captureLogs('trace')
    const { server, close } = await startTestServer({ RTROUTE_PROBING: 'false' }, { database: t, log: logs.log })
    try {
      if (!server.app.hasRoute({ method: 'POST', url: '/v1/subscriptions' })) {
        console.log('[security] webhooks: no POST /v1/subscriptions in this build, nothing to check')
        return
      }
      await untilDatabaseReady(server)
      const secret = 'webhook-secret-never-shown-0123456789'
      const created = await request(server.url, 'POST', '/v1/subscriptions', { url: 'http://127.0.0.1:9/hook', events: ['E_GATEWAY_STATUS'], secret, description: 'log test' })
      expect(created.status).toBe(201)
      const id = (JSON.parse(created.body) as { id: string }).id
      const reads = [created.body, (await request(server.url, 'GET', '/v1/subscriptions')).body, (await request(server.url, 'GET', `/v1/subscriptions/${id}`)).body]
      for (const body of reads) {
        expect(body).not.toContain(secret)
        expect(body).not.toMatch(/"secret"/)
      }
      expect(logs.lines.join('\n')).not.toContain(secret)
      console.log(`[security] webhooks: subscription created and read back 3 times, secret in none of the answers nor in ${logs.lines.length} log lines`)
    } finally {
      await close()
    }
  }, 60_000)
})
