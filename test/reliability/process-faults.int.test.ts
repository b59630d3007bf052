/**
 * Process faults with the built CLI as a real child process: SIGTERM under a keep-alive load
 * (readiness turns false first, the drain keeps answering, an in-flight request spanning the
 * listener's close still gets its answer, no connection is reset), and SIGKILL then restart
 * (gateway state and routing data come back from PostgreSQL).
 */
import { existsSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/embedded-postgres.js'
import { CLI, runCli, type RunningCli } from '../helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { until } from '../helpers/until.js'
import { describeTally, errorCode, request, startLoad, type HttpAnswer } from './helpers/load.js'

let t: TestDatabase
const children: RunningCli[] = []

const DRAIN_MS = 2000
/** How long our stand-in load balancer keeps sending after it saw readiness turn false. */
const LB_REACTION_MS = 500
const DATA = {
  partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
  gateways: [{ id: 'a', address: '10.0.0.1:5060' }, { id: 'b', address: '10.0.0.2:5060' }, { id: 'c', address: '10.0.0.3:5060' }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }, { gateway: 'c' }] }],
  carriers: [],
  caller_groups: []
}

async function serve (): Promise<{ cli: RunningCli, url: string }> {
  const port = await freePort()
  const cli = runCli(['serve'], {
    DATABASE_URL: t.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    // Readiness requires the default partition: `p` is it, so /readyz turns 200 once p is loaded.
    RTROUTE_PARTITION: 'p',
    RTROUTE_SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    RTROUTE_PROBING: 'false',
    RTROUTE_RELOAD_DEBOUNCE_MS: '20',
    RTROUTE_DB_RETRY_MIN_MS: '50',
    RTROUTE_DB_RETRY_MAX_MS: '400'
  })
  children.push(cli)
  await cli.waitFor(/rtroute listening on/, 30_000)
  return { cli, url: `http://127.0.0.1:${port}` }
}

const json = async (url: string, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> => {
  const answer = await request(url, method, path, body)
  return { status: answer.status, body: JSON.parse(answer.body) }
}
const firstRoutes = async (url: string): Promise<string[]> =>
  ((await json(url, 'POST', '/kamailio/rtjson', { call_id: 'probe', request_uri: 'sip:4420@sbc', partition: 'p' })).body.rtjson.routes as Array<{ gateway: string }>).map((r) => r.gateway)
const classify = (answer: HttpAnswer): string => {
  if (answer.status !== 200) return `${answer.status}`
  return (JSON.parse(answer.body) as { rtjson: { success: boolean } }).rtjson.success ? '200 routed' : '200 not routed'
}

/** Headers and half the body now; the rest when told. Resolves with the raw answer. */
function slowRequest (port: number, body: string): { finish: () => void, answer: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1')
  const half = Math.floor(body.length / 2)
  socket.write(`POST /kamailio/rtjson HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`)
  let text = ''
  const answer = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
      // One whole answer read: a client like curl would keep the connection open for the next one.
      const [head = '', rest = ''] = text.split('\r\n\r\n')
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN)
      if (rest.length >= length) resolve(text)
    })
    socket.on('error', reject)
    socket.on('close', () => { resolve(text) })
  })
  return { finish: () => { socket.write(body.slice(half)) }, answer }
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`)
  t = await createTestDatabase()
})
afterEach(() => {
  for (const child of children.splice(0)) if (child.child.exitCode === null) child.child.kill('SIGKILL')
})
afterAll(async () => { await t?.drop() })

describe('SIGTERM under a keep-alive load', () => {
  it('turns readiness false first, keeps answering through the drain, finishes in-flight requests and resets no connection', async () => {
    const { cli, url } = await serve()
    const port = Number(new URL(url).port)
    // Admin writes wait for the migrated database (503 db_unavailable before).
    await cli.waitFor(/connected to database/, 30_000)
    expect((await json(url, 'PUT', '/v1/partitions/p/data', DATA)).status).toBe(201)
    await until(async () => await firstRoutes(url).catch(() => []), (r) => r.length === 3, 10_000)
    // Ready before the signal, or "readiness turned false" would prove nothing.
    await until(async () => (await request(url, 'GET', '/readyz')).status, (s) => s === 200, 10_000)

    let notReadyAt: number | undefined
    let closedAt: number | undefined
    const readyz: Record<string, number> = {}
    const poller = (async () => {
      const agent = new http.Agent({ keepAlive: false })
      while (closedAt === undefined) {
        try {
          const status = (await request(url, 'GET', '/readyz', undefined, { agent })).status
          readyz[status] = (readyz[status] ?? 0) + 1
          if (status === 503) notReadyAt ??= Date.now()
        } catch (err) {
          const code = errorCode(err)
          readyz[code] = (readyz[code] ?? 0) + 1
          if (code === 'ECONNREFUSED') closedAt = Date.now()
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    })()
    // A load balancer: keeps sending until it has seen readiness false for its reaction time.
    const load = startLoad({
      url,
      path: '/kamailio/rtjson',
      workers: 6,
      maxRequests: 100_000,
      maxMs: 30_000,
      body: (n) => ({ call_id: `term-${n}`, request_uri: 'sip:4420718@sbc.example.com', partition: 'p' }),
      classify,
      shouldSend: () => notReadyAt === undefined || Date.now() - notReadyAt < LB_REACTION_MS
    })
    await until(async () => load.stats.sent, (n) => n >= 300, 10_000)
    const sentBeforeSignal = load.stats.sent
    const signalledAt = Date.now()
    cli.child.kill('SIGTERM')

    await until(async () => notReadyAt, (v) => v !== undefined, 5000)
    // A request that started during the drain and is still arriving when the listener closes.
    const slow = slowRequest(port, JSON.stringify({ call_id: 'slow-one', request_uri: 'sip:4420999@sbc.example.com', partition: 'p', from_name: 'x'.repeat(200) }))
    await until(async () => closedAt, (v) => v !== undefined, DRAIN_MS + 5000)
    slow.finish()
    const slowAnswer = await slow.answer
    const stats = await load.stop()
    await poller
    const code = await Promise.race([cli.exited, new Promise((resolve) => setTimeout(() => { resolve('still running') }, 15_000))])

    console.log(`[process-faults] SIGTERM: readiness false after ${(notReadyAt ?? 0) - signalledAt} ms, listener closed after ${(closedAt ?? 0) - signalledAt} ms (drain ${DRAIN_MS} ms); ` +
      `${stats.sent} keep-alive queries (${stats.sent - sentBeforeSignal} after the signal): answers ${describeTally(stats.answers)}; errors ${describeTally(stats.errors)}; ` +
      `/readyz ${describeTally(readyz)}; slow in-flight request: ${slowAnswer.split('\r\n')[0] ?? 'nothing'}; exit code ${String(code)}`)
    if (code !== 0) console.log(`[process-faults] the CLI's last lines:\n${cli.output().split('\n').slice(-15).join('\n')}`)
    expect((notReadyAt ?? Infinity) - signalledAt).toBeLessThan(1000)
    expect((closedAt ?? 0) - (notReadyAt ?? 0)).toBeGreaterThanOrEqual(DRAIN_MS - 200)
    expect(stats.errors).toEqual({})
    expect(stats.answers).toEqual({ '200 routed': stats.sent })
    expect(stats.sent - sentBeforeSignal).toBeGreaterThan(0)
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 200 /)
    expect(slowAnswer).toContain('"success":true')
    expect(code).toBe(0)
    expect(cli.output()).toMatch(/"msg":"stopped"/)
    expect(readyz['200'] ?? 0).toBeGreaterThan(0)
    expect(readyz['503'] ?? 0).toBeGreaterThan(0)
  }, 60_000)
})

describe('SIGTERM during start-up', () => {
  it('stops what start-up began and exits 0 at once, instead of hanging until the hard limit', async () => {
    const { cli } = await serve()
    // Right after listening, the database work of start-up (migrations, state, LISTEN, first load) is still running.
    cli.child.kill('SIGTERM')
    const started = Date.now()
    const code = await Promise.race([cli.exited, new Promise((resolve) => setTimeout(() => { resolve('still running') }, 8000))])
    const output = cli.output()
    const racing = output.indexOf('"msg":"shutting down"') < output.indexOf('connected to database')
    console.log(`[process-faults] SIGTERM during start-up (${racing ? 'while' : 'after'} the database work ran): exit code ${String(code)} after ${Date.now() - started} ms`)
    expect(code).toBe(0)
    expect(output).toMatch(/"msg":"stopped"/)
  }, 30_000)
})

describe('SIGKILL and restart', () => {
  it('brings gateway state and routing data back from PostgreSQL', async () => {
    const first = await serve()
    await until(async () => await firstRoutes(first.url).catch(() => []), (r) => r.length > 0, 10_000)
    for (const gateway of ['a', 'b', 'c']) {
      await json(first.url, 'PUT', `/v1/partitions/p/gateways/${gateway}/state`, { state: 'active', reason: 'test start' })
    }
    for (let i = 0; i < 3; i++) {
      expect((await json(first.url, 'POST', '/kamailio/feedback', { call_id: `kill-${i}`, partition: 'p', gateway: 'a', code: 503 })).status).toBe(202)
    }
    expect((await json(first.url, 'PUT', '/v1/partitions/p/gateways/b/state', { state: 'disabled', reason: 'maintenance' })).status).toBe(200)
    // Feedback answers 202 before its write: wait for it, as a crash loses what is still queued.
    await until(async () => await t.db.kysely.selectFrom('gateway_state').select('state').where('partition', '=', 'p').where('gw_id', '=', 'a').executeTakeFirst(), (r) => r?.state === 'down', 10_000)
    const exported = (await json(first.url, 'GET', '/v1/partitions/p/data')).body
    expect(await firstRoutes(first.url)).toEqual(['c'])

    first.cli.child.kill('SIGKILL')
    expect(await first.cli.exited).toBe(null)
    expect(first.cli.output()).not.toMatch(/"msg":"stopped"/)

    const second = await serve()
    const routes = await until(async () => await firstRoutes(second.url).catch(() => []), (r) => r.length > 0, 15_000)
    expect(routes).toEqual(['c'])
    const states = (await json(second.url, 'GET', '/v1/partitions/p/gateways/state')).body.items as Array<{ gateway: string, state: string, reason: string }>
    expect(states.map((s) => [s.gateway, s.state])).toEqual([['a', 'down'], ['b', 'disabled'], ['c', 'active']])
    expect((await json(second.url, 'GET', '/v1/partitions/p/data')).body).toEqual(exported)
    console.log(`[process-faults] SIGKILL: after restart gateway states ${states.map((s) => `${s.gateway}=${s.state}`).join(', ')}; exported data identical; first route ${routes.join(',')}`)
  }, 60_000)
})
