/**
 * The proxy paths carry only what they need: whatever the app turns on app-wide (logger, admin
 * tokens and rate limit, the OpenAPI document, the proxy guard), a routing query runs the guard's
 * onRequest hook and nothing else around its handler, and logs through the app's logger itself
 * (no per-request child); every other route keeps a child with the request id.
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppOptions } from '../../../src/app.js'
import type { PartitionData } from '../../../src/routing/routing-data.schema.js'
import { buildProxyApp } from '../../helpers/proxy-app.js'
import { captureLogs } from '../../reliability/helpers/logs.js'
import { gateway, rule } from '../fixtures.js'

const DATA: PartitionData = {
  partition: { default_group: 'default', description: '', settings: {} },
  gateways: [gateway('a', '10.0.0.1:5060')],
  carriers: [],
  rules: [rule(1, '44', ['a'])],
  caller_groups: []
}
const QUERY = { call_id: 'c1', request_uri: 'sip:4420@sbc', partition: 'p' }
const PROXY_PATHS = ['/kamailio/rtjson', '/1.0/kamailio/routing']

let apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.map(async (app) => { await app.close() }))
  apps = []
})

async function appWith (options: AppOptions): Promise<FastifyInstance> {
  const { app } = await buildProxyApp(DATA, options)
  apps.push(app)
  return app
}

/** The hook lines fastify prints under one route (`• (onRequest) ["guard()"]`), by method. */
function hooksOf (app: FastifyInstance, path: string, method: string): string[] {
  const lines = app.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n')
  const at = lines.findIndex((line) => line.includes(`── ${path} (`) && new RegExp(`[(, ]${method}[,)]`).test(line))
  if (at < 0) throw new Error(`no ${method} ${path} in the route tree`)
  const hooks: string[] = []
  for (let i = at + 1; i < lines.length && (lines[i] as string).includes('• ('); i++) hooks.push((lines[i] as string).slice((lines[i] as string).indexOf('•')))
  return hooks
}

const everything: AppOptions = {
  adminTokens: ['admin-token-0123456789-abcdef'],
  adminRateLimit: { max: 100, windowMs: 60_000 },
  proxyGuard: { allow: ['127.0.0.0/8'], secrets: [] }
}

describe('the proxy paths', () => {
  it('run the proxy guard and no other hook, whatever the app turns on for its other routes', async () => {
    const logs = captureLogs('info')
    const app = await appWith({ ...everything, logger: logs.log })
    await app.ready()
    // One hook, the guard's (one function, whatever it is called: guard, proxyGuard…).
    for (const path of PROXY_PATHS) {
      const hooks = hooksOf(app, path, 'POST')
      expect(hooks).toHaveLength(1)
      expect(hooks[0]).toMatch(/^• \(onRequest\) \["\w*guard\w*\(\)"\]$/i)
    }
    // The admin scope's hook (authentication, with its failed-login limit) is on the admin routes.
    expect(hooksOf(app, '/v1/status', 'GET').join(' ')).toMatch(/^• \(onRequest\) \[("\w+\(\)",)*"\w+\(\)"\]$/)
    for (const path of PROXY_PATHS) {
      const res = await app.inject({ method: 'POST', url: path, payload: QUERY })
      expect(res.statusCode).toBe(200)
      expect(res.body).toContain('"success":true')
    }
  })

  it('log through the app logger itself; every other route logs through a child with the request id', async () => {
    const logs = captureLogs('info')
    const app = await appWith({ ...everything, logger: logs.log })
    app.get('/probe-log', async (request) => {
      request.log.info('from another route')
      return { ok: true }
    })
    expect((await app.inject({ method: 'POST', url: '/kamailio/rtjson', payload: QUERY, remoteAddress: '10.9.9.9' })).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: '/probe-log' })).statusCode).toBe(200)
    const lines = logs.lines.map((line) => JSON.parse(line) as { msg: string, reqId?: string })
    const refused = lines.find((line) => line.msg.startsWith('proxy request refused'))
    const other = lines.find((line) => line.msg === 'from another route')
    expect(refused).toBeDefined()
    expect(refused?.reqId).toBeUndefined()
    expect(other?.reqId).toMatch(/^req-/)
    // Request logging stays off: a logger-less fastify still logs no line per request.
    expect(lines.map((line) => line.msg)).toEqual([refused?.msg, other?.msg])
  })
})
