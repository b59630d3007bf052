/** The observability routes through buildApp (no database): /metrics open or admin-only, the event stream admin-only, the status page served from the package. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createObservability } from '../../src/observability/observability.js'
import { createThresholds, thresholdLimits } from '../../src/observability/thresholds.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { fakeDeps } from '../helpers/fake-deps.js'

const TOKEN = 'admin-token-0123456789'
const apps: Array<{ close: () => Promise<unknown> }> = []
afterEach(async () => { for (const app of apps.splice(0)) await app.close() })

async function app (env: Record<string, string> = {}, adminTokens = [TOKEN]) {
  const deps = fakeDeps()
  const log = pino({ level: 'silent' })
  const config = loadConfig(env).observability
  const metrics = createMetrics(new Registry())
  const thresholds = createThresholds({ bus: deps.bus, metrics, log, limits: thresholdLimits(config) })
  const tables = { lookup: () => ({ state: 'unknown' as const }), identifier: () => undefined, partitions: () => [] }
  const observability = createObservability({ bus: deps.bus, log, config, metrics, thresholds, statusRegistry: deps.registry, instance: 'unit', tables })
  const built = await buildApp({ ...deps, observability }, { adminTokens, docs: false })
  apps.push({ close: async () => { await built.close(); observability.stop() } })
  return built
}

describe('GET /metrics', () => {
  it('is open like /readyz by default, in the Prometheus text format', async () => {
    const res = await (await app()).inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(res.body).toContain('# TYPE rtroute_routing_answers_total counter')
    expect(res.body).toContain('# TYPE rtroute_routing_decision_seconds histogram')
  })

  it('needs the admin token with RTROUTE_METRICS_AUTH=true', async () => {
    const a = await app({ RTROUTE_METRICS_AUTH: 'true' })
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401)
    expect((await a.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200)
  })
})

describe('admin-only routes', () => {
  it.each(['/v1/events', '/v1/overview'])('%s needs the admin token', async (url) => {
    const res = await (await app()).inject({ method: 'GET', url })
    expect(res.statusCode).toBe(401)
  })

  it('the overview answers without routing data', async () => {
    const res = await (await app()).inject({ method: 'GET', url: '/v1/overview', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ instance: 'unit', ready: true, partitions: [], probing: null })
  })

  it('subscriptions are not mounted without a database', async () => {
    const res = await (await app()).inject({ method: 'GET', url: '/v1/subscriptions', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(404)
  })
})

describe('status page', () => {
  it('is served from the package, public, with no external resource', async () => {
    const a = await app()
    const page = await a.inject({ method: 'GET', url: '/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('<script src="/status/status.js" defer></script>')
    const script = await a.inject({ method: 'GET', url: '/status/status.js' })
    const style = await a.inject({ method: 'GET', url: '/status/status.css' })
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8')
    for (const body of [page.body, script.body, style.body]) expect(body).not.toMatch(/(src|href)=["']?(https?:)?\/\/|@import|url\(\s*["']?https?:/)
  })

  it('ships with the package and the image', () => {
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { files: string[] }
    expect(pkg.files).toContain('public')
    expect(readFileSync(path.join(PACKAGE_ROOT, 'Dockerfile'), 'utf8')).toContain('COPY public ./public')
  })
})
