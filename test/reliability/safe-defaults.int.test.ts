/**
 * Safe by default, against the real server (startTestServer): every route the proxies call is
 * guarded and nothing else is; with the defaults a client off the box gets 403 on the proxy paths
 * and changes no state (the figure in docs/reliability.md, printed); the startup log says what a
 * non-loopback listener opens; and the admin API behind a same-host reverse proxy: not loopback
 * unless RTROUTE_TRUST_PROXY names the proxy, rate limit keyed on the real client, a valid token
 * never refused.
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'
import { captureLogs } from './helpers/logs.js'
import { request, type HttpAnswer } from './helpers/load.js'

const DATA = {
  partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
  gateways: [{ id: 'a', address: '10.0.0.1:5060' }, { id: 'b', address: '10.0.0.2:5060' }, { id: 'c', address: '10.0.0.3:5060' }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }, { gateway: 'c' }] }],
  carriers: [],
  caller_groups: []
}
const TOKEN = 'admin-token-for-the-proxy-test-0123456789'
const ROUTE = { call_id: 'c1', request_uri: 'sip:4420@sbc', partition: 'p' }

/** This machine's first non-loopback IPv4 address (what `hostname -I` prints first). */
const OWN_ADDRESS = Object.values(os.networkInterfaces()).flat().find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address

/** One request from a given local address (the source rtroute sees). */
async function from (source: string | undefined, url: string, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const agent = new http.Agent({ keepAlive: false, ...(source === undefined ? {} : { localAddress: source }) })
  try {
    return await request(url, method, urlPath, body, { agent, headers })
  } finally {
    agent.destroy()
  }
}

/** A reverse proxy on the same host, as nginx with `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`. */
async function reverseProxy (target: string): Promise<{ url: string, close: () => Promise<void> }> {
  const upstream = new URL(target)
  const server = http.createServer((req, res) => {
    const client = req.socket.remoteAddress ?? ''
    const forwarded = req.headers['x-forwarded-for'] === undefined ? client : `${String(req.headers['x-forwarded-for'])}, ${client}`
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwarded } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => { res.writeHead(502).end() })
    req.pipe(out)
  })
  await new Promise<void>((resolve) => { server.listen(0, '0.0.0.0', resolve) })
  const address = server.address() as { port: number }
  return { url: `http://${OWN_ADDRESS ?? '127.0.0.1'}:${address.port}`, close: async () => { await new Promise((resolve) => { server.close(resolve) }) } }
}

let t: TestDatabase
beforeAll(async () => { t = await createTestDatabase() })
afterAll(async () => { await t?.drop() })

describe('the proxy paths', () => {
  it('are every route the proxies call, each guarded, and nothing else is', async () => {
    const { server, close } = await startTestServer({ RTROUTE_PROBING: 'false' }, { database: t })
    try {
      const access = server.app.routeAccess
      expect([...access.proxy].sort()).toEqual(['POST /1.0/kamailio/routing', 'POST /kamailio/calls', 'POST /kamailio/feedback', 'POST /kamailio/rtjson'])
      // What the shipped configs post to is in that list (OpenSIPS also polls GET /readyz with rest_get: a probe, open to anyone, changing nothing).
      const called = new Set<string>()
      for (const file of ['deploy/kamailio/kamailio.cfg', 'deploy/opensips/opensips.cfg']) {
        const text = readFileSync(path.join(PACKAGE_ROOT, file), 'utf8')
        for (const match of text.matchAll(/(?:http_client_query|http_async_query|rest_post)\("\$var\(url\)(\/[^"]+)"/g)) called.add(`POST ${match[1] ?? ''}`)
      }
      expect(called.size).toBeGreaterThanOrEqual(3)
      for (const route of called) expect(access.proxy, route).toContain(route)
      // Every route, from outside the allow-list: the guard answers on the proxy routes and nowhere else.
      expect(access.other.length).toBeGreaterThan(20)
      for (const name of [...access.proxy, ...access.other]) {
        const [method = 'GET', url = '/'] = name.split(' ')
        const concrete = url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*$/, 'x')
        const res = await server.app.inject({ method: method as 'GET', url: concrete, remoteAddress: '192.0.2.77', payload: method === 'GET' || method === 'DELETE' ? undefined : {} })
        const guarded = res.statusCode === 403 && res.body.includes('source address not allowed (RTROUTE_PROXY_ALLOW)')
        expect(guarded, `${name}: ${res.statusCode} ${res.body.slice(0, 120)}`).toBe(access.proxy.includes(name))
      }
      console.log(`[safe-defaults] ${access.proxy.length} proxy routes guarded, ${access.other.length} other routes not; the shipped configs call ${[...called].join(', ')}`)
    } finally {
      await close()
    }
  }, 60_000)

  it('with the defaults refuse a client off the box (403) and keep every gateway up; the startup log says what is open', async () => {
    if (OWN_ADDRESS === undefined) {
      console.log('[safe-defaults] no non-loopback IPv4 address on this machine: nothing to check')
      return
    }
    const logs = captureLogs('info')
    const { server, close } = await startTestServer({ HOST: '0.0.0.0', RTROUTE_PROBING: 'false', RTROUTE_RELOAD_DEBOUNCE_MS: '20' }, { database: t, log: logs.log })
    try {
      const port = new URL(server.url).port
      const local = `http://127.0.0.1:${port}`
      const outside = `http://${OWN_ADDRESS}:${port}`
      await untilDatabaseReady(server)
      expect((await request(local, 'PUT', '/v1/partitions/p/data', DATA)).status).toBe(201)
      await until(async () => (await request(local, 'POST', '/kamailio/rtjson', ROUTE)).body, (body) => body.includes('"success":true'), 10_000)
      const statuses: number[] = []
      for (const gateway of ['a', 'b', 'c']) {
        for (let i = 0; i < 3; i++) statuses.push((await from(OWN_ADDRESS, outside, 'POST', '/kamailio/feedback', { call_id: `x-${gateway}-${i}`, partition: 'p', gateway, code: 503 })).status)
      }
      const forged = await from(OWN_ADDRESS, outside, 'POST', '/kamailio/calls', { event: 'start', call_id: 'forged', partition: 'p', gateway: 'a' })
      const routing = await from(OWN_ADDRESS, outside, 'POST', '/kamailio/rtjson', ROUTE)
      const states = JSON.parse((await request(local, 'GET', '/v1/partitions/p/gateways/state')).body) as { items: Array<{ gateway: string, state: string }> }
      const routed = JSON.parse((await request(local, 'POST', '/kamailio/rtjson', ROUTE)).body) as { rtjson: { routes: unknown[] } }
      const stored = await t.db.kysely.selectFrom('gateway_state').selectAll().where('partition', '=', 'p').execute()
      const calls = await t.db.kysely.selectFrom('call_lease').selectAll().execute()
      const line = logs.lines.map((l) => JSON.parse(l) as { level: number, msg: string }).find((l) => l.msg.startsWith('listening on every interface'))
      console.log(`[safe-defaults] defaults, HOST=0.0.0.0, client ${OWN_ADDRESS}: 9 × feedback 503 → ${statuses.join(',')}; call start → ${forged.status}; rtjson → ${routing.status}; ` +
        `gateway states after: ${states.items.map((s) => `${s.gateway}=${s.state}`).join(', ')} (gateway_state rows for p: ${stored.length}, call_lease rows: ${calls.length}); loopback rtjson offers ${routed.rtjson.routes.length} routes`)
      expect(statuses).toEqual(Array(9).fill(403))
      expect(forged.status).toBe(403)
      expect(routing.status).toBe(403)
      expect(states.items.map((s) => s.state)).toEqual(['active', 'active', 'active'])
      expect(routed.rtjson.routes).toHaveLength(3)
      expect(stored.filter((row) => row.state !== 'active')).toEqual([])
      expect(calls).toEqual([])
      expect(line?.level).toBe(40)
      expect(line?.msg).toMatch(/proxy paths \(POST \/kamailio\/rtjson, POST \/1\.0\/kamailio\/routing, POST \/kamailio\/feedback, POST \/kamailio\/calls\) answer sources in RTROUTE_PROXY_ALLOW=127\.0\.0\.0\/8,::1\/128 only/)
      expect(line?.msg).toMatch(/admin API: loopback clients only/)
    } finally {
      await close()
    }
  }, 60_000)
})

describe('the admin API behind a reverse proxy on the same host', () => {
  it('is not loopback to a proxy RTROUTE_TRUST_PROXY does not name; a trusted one names the real client', async () => {
    const { server, close } = await startTestServer({ RTROUTE_PROBING: 'false' }, { database: t })
    const proxy = await reverseProxy(server.url)
    try {
      await untilDatabaseReady(server)
      const through = await from(OWN_ADDRESS, proxy.url, 'PUT', '/v1/partitions/q/data', DATA)
      expect(through.status).toBe(403)
      expect(through.body).toMatch(/RTROUTE_TRUST_PROXY does not name/)
      // Straight from loopback, no forwarding header: the exemption holds.
      expect((await request(server.url, 'GET', '/v1/status')).status).toBe(200)
    } finally {
      await proxy.close()
      await close()
    }
    const trusting = await startTestServer({ RTROUTE_PROBING: 'false', RTROUTE_TRUST_PROXY: '127.0.0.1' }, { database: t })
    const trustedProxy = await reverseProxy(trusting.server.url)
    try {
      await untilDatabaseReady(trusting.server)
      expect((await from(OWN_ADDRESS, trustedProxy.url, 'GET', '/v1/status')).status).toBe(OWN_ADDRESS === undefined ? 200 : 403)
      expect((await from('127.0.0.1', trustedProxy.url.replace(OWN_ADDRESS ?? '127.0.0.1', '127.0.0.1'), 'GET', '/v1/status')).status).toBe(200)
    } finally {
      await trustedProxy.close()
      await trusting.close()
    }
  }, 60_000)

  it('counts failed logins per real client, and 22 wrong tokens never lock out the right one', async () => {
    const logs = captureLogs('warn')
    const { server, close } = await startTestServer({ RTROUTE_PROBING: 'false', RTROUTE_TRUST_PROXY: '127.0.0.1', RTROUTE_ADMIN_TOKEN: TOKEN, RTROUTE_ADMIN_RATE_MAX: '10' }, { database: t, log: logs.log })
    const proxy = await reverseProxy(server.url)
    try {
      await untilDatabaseReady(server)
      const auth = (token: string) => ({ authorization: `Bearer ${token}` })
      const statuses: number[] = []
      for (let i = 0; i < 22; i++) statuses.push((await from(OWN_ADDRESS, proxy.url, 'GET', '/v1/status', undefined, auth(`wrong-token-${i}`))).status)
      const right = await from(OWN_ADDRESS, proxy.url, 'PUT', '/v1/partitions/r/data', DATA, auth(TOKEN))
      // Another client behind the same proxy is not locked out by the first one's guesses.
      const other = await from('127.0.0.1', proxy.url.replace(OWN_ADDRESS ?? '127.0.0.1', '127.0.0.1'), 'GET', '/v1/status', undefined, auth('wrong-token-other'))
      console.log(`[safe-defaults] 22 wrong tokens through a trusted proxy: ${statuses.join(',')}; then the right token → ${right.status}; another client's wrong token → ${other.status}`)
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401))
      expect(statuses.slice(10)).toEqual(Array(12).fill(429))
      expect(right.status).toBe(201)
      expect(other.status).toBe(OWN_ADDRESS === undefined ? 429 : 401)
      const warned = logs.lines.map((l) => JSON.parse(l) as { level: number, msg: string, source?: string })
      expect(warned.filter((l) => l.msg.startsWith('admin authentication failed'))).toHaveLength(11)
      expect(warned.filter((l) => l.msg.startsWith('admin request refused (429)'))).toHaveLength(1)
      if (OWN_ADDRESS !== undefined) expect(warned.find((l) => l.msg.startsWith('admin request refused'))?.source).toBe(OWN_ADDRESS)
      expect(logs.lines.join('\n')).not.toMatch(/wrong-token|admin-token-for/)
    } finally {
      await proxy.close()
      await close()
    }
  }, 60_000)
})
