/**
 * deploy/grafana/rtroute.json against a real rtroute: after traffic that touches every metric
 * family (routing, feedback, probes of a fake SIP gateway, capacity and call events, a reload, an
 * event-stream client, a failing webhook), every metric the dashboard queries is in the /metrics
 * scrape, with every label its queries match or group by. When a Prometheus binary is installed
 * (Debian's `prometheus`), a real Prometheus scrapes that server and every query of the dashboard
 * must be valid PromQL and return data; without one that part is skipped with a message.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/embedded-postgres.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { startGateway, type FakeGateway } from '../helpers/sip-gateway.js'
import { startTestServer, type TestServer } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'
import { openSse, type SseClient } from './sse-client.js'

interface Target { expr: string }
interface Panel { title: string, type: string, targets?: Target[] }
const dashboard = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'deploy', 'grafana', 'rtroute.json'), 'utf8')) as
  { panels: Panel[], templating: { list: Array<{ name: string, definition?: string }> } }
const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })))
const variableQueries = dashboard.templating.list.flatMap((v) => v.definition === undefined ? [] : [{ panel: `variable ${v.name}`, expr: v.definition }])

/** Labels Prometheus adds at scrape time, and the histogram bucket label. */
const ADDED = new Set(['instance', 'job', 'le'])
const METRIC = /\b((?:rtroute|process|nodejs)_[a-z0-9_]+)\b/g

/** Each `name{matchers}` of an expression, with the label names its matchers use. */
function selectors (expr: string): Array<{ name: string, labels: string[] }> {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({
    name: m[1] ?? '',
    labels: [...(m[2] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)].map((l) => l[1] ?? '')
  }))
}
/** Label names of `by (…)`, `without (…)` and `on (…)` clauses. */
const grouping = (expr: string): string[] => [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((l) => l.trim()).filter((l) => l !== ''))

/** Metric name → the label names its scraped series carry. */
function labelsByMetric (text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line)
    if (m === null) continue
    const labels = out.get(m[1] ?? '') ?? new Set<string>()
    for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) labels.add(l[1] ?? '')
    out.set(m[1] ?? '', labels)
  }
  return out
}

let running: TestServer
let gateway: FakeGateway
let sse: SseClient
let refusing: http.Server
let scraped: string

const call = async (method: string, url: string, body?: unknown): Promise<{ status: number, body: any }> => {
  const res = await fetch(`${running.server.url}${url}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

beforeAll(async () => {
  gateway = await startGateway('ok')
  running = await startTestServer({
    RTROUTE_PROBE_ADDRESS: '127.0.0.1',
    RTROUTE_LEADER_HEARTBEAT_MS: '200',
    RTROUTE_RELOAD_DEBOUNCE_MS: '10',
    RTROUTE_ALERT_INTERVAL_MS: '86400000',
    RTROUTE_ALERT_STARTUP_GRACE_MS: '0',
    RTROUTE_WEBHOOK_RETRY_MIN_MS: '50',
    // Every query is "slow": the threshold series exist.
    RTROUTE_DB_THRESHOLD_US: '1'
  })
  await until(async () => running.server.registry.readiness().ready, (ok) => ok)
  const put = await call('PUT', '/v1/partitions/p/data', {
    partition: { settings: { probe_interval_ms: 1000, probe_timeout_ms: 300 } },
    gateways: [{ id: 'a', address: gateway.uri, probe_mode: 'always', max_calls: 10, max_cps: 5 }, { id: 'b', address: '10.0.0.2:5060' }],
    carriers: [],
    rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }] }],
    caller_groups: []
  })
  expect(put.status, JSON.stringify(put.body)).toBe(201)
  const route = async (callId: string, number = '4420'): Promise<{ status: number, body: any }> =>
    await call('POST', '/kamailio/rtjson', { call_id: callId, request_uri: `sip:${number}@sbc`, partition: 'p' })
  await until(async () => (await route('warm-up')).body.rtjson.success as boolean, (ok) => ok)
  sse = await openSse(`${running.server.url}/v1/events`)
  for (let i = 0; i < 5; i++) await route(`d-${i}`)
  await route('d-none', '33')
  expect((await call('POST', '/kamailio/feedback', { call_id: 'd-1', partition: 'p', gateway: 'b', code: 503 })).status).toBe(202)
  expect((await call('POST', '/kamailio/calls', { event: 'start', call_id: 'd-2', partition: 'p', gateway: 'a', code: 200 })).status).toBe(202)
  expect((await call('POST', '/kamailio/calls', { event: 'end', call_id: 'd-3', partition: 'p' })).status).toBe(202)
  expect((await call('POST', '/v1/partitions/p/reload')).status).toBeLessThan(300)
  // A webhook receiver that refuses every delivery: a queued summary and retries.
  refusing = http.createServer((_req, res) => { res.writeHead(500).end() })
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
  const hook = `http://127.0.0.1:${(refusing.address() as { port: number }).port}/alerts`
  expect((await call('POST', '/v1/subscriptions', { url: hook, events: ['E_GATEWAY_STATUS'], secret: 'dashboard-test-secret-0123' })).status).toBe(201)
  await call('PUT', '/v1/partitions/p/gateways/b/state', { state: 'disabled', reason: 'dashboard test' })
  await running.server.observability.alerts?.check()
  scraped = await until(async () => await (await fetch(`${running.server.url}/metrics`)).text(),
    (text) => ['rtroute_gateway_probe_latency_seconds_bucket{', 'rtroute_event_deliveries_total{channel="webhook",result="retried"}', 'rtroute_webhook_queue_depth{'].every((s) => text.includes(s)), 15_000)
}, 60_000)
afterAll(async () => {
  sse?.close()
  await running?.close()
  gateway?.close()
  if (refusing !== undefined) await new Promise((resolve) => refusing.close(resolve))
})

describe('deploy/grafana/rtroute.json', () => {
  it('queries only metrics in a real scrape, with the labels they carry', () => {
    const known = labelsByMetric(scraped)
    const problems: string[] = []
    expect(queries.length).toBeGreaterThan(30)
    for (const { panel, expr } of [...queries, ...variableQueries]) {
      const found = selectors(expr)
      for (const name of new Set([...expr.match(METRIC) ?? [], ...found.map((s) => s.name)])) if (!known.has(name)) problems.push(`${panel}: ${name} is not in the scrape`)
      for (const { name, labels } of found) {
        for (const label of labels) if (!ADDED.has(label) && known.get(name)?.has(label) === false) problems.push(`${panel}: ${name} has no label ${label}`)
      }
      const anyHas = (label: string): boolean => found.some((s) => known.get(s.name)?.has(label) === true)
      for (const label of grouping(expr)) if (!ADDED.has(label) && !anyHas(label)) problems.push(`${panel}: no metric of the query has label ${label}`)
    }
    expect(problems).toEqual([])
  })
})

const PROMETHEUS = process.env.RTROUTE_PROMETHEUS ?? '/usr/bin/prometheus'
const havePrometheus = existsSync(PROMETHEUS)
if (!havePrometheus) console.log(`[dashboard] ${PROMETHEUS} not found: the PromQL of the dashboard is not evaluated (apt-get install prometheus, or set RTROUTE_PROMETHEUS)`)

describe.skipIf(!havePrometheus)('deploy/grafana/rtroute.json in a real Prometheus', () => {
  let dir: string
  let prometheus: ChildProcess
  let api: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-prometheus-'))
    const target = new URL(running.server.url).host
    await writeFile(path.join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: rtroute\n    static_configs: [{ targets: ["${target}"] }]\n`)
    const port = await freePort()
    api = `http://127.0.0.1:${port}/api/v1`
    prometheus = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' })
    // Enough scrapes for rate() over the test's window, with traffic in between.
    const samples = async (): Promise<number> => {
      try {
        const body = await (await fetch(`${api}/query?query=${encodeURIComponent('count_over_time(up{job="rtroute"}[1m])')}`)).json() as { data: { result: Array<{ value: [number, string] }> } }
        return Number(body.data.result[0]?.value[1] ?? 0)
      } catch {
        return 0
      }
    }
    await until(samples, (n) => n >= 2, 20_000, 200)
    for (let i = 0; i < 5; i++) await call('POST', '/kamailio/rtjson', { call_id: `p-${i}`, request_uri: 'sip:4420@sbc', partition: 'p' })
    await call('POST', '/kamailio/feedback', { call_id: 'p-1', partition: 'p', gateway: 'a', code: 503 })
    await call('POST', '/v1/partitions/p/reload')
    await until(samples, (n) => n >= 5, 20_000, 200)
  }, 60_000)
  afterAll(async () => {
    prometheus?.kill('SIGTERM')
    if (prometheus !== undefined && prometheus.exitCode === null) await new Promise((resolve) => prometheus.once('exit', resolve))
    await rm(dir, { recursive: true, force: true })
  })

  it('answers every query of the dashboard with data', async () => {
    const problems: string[] = []
    for (const { panel, expr } of queries) {
      const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$partition', '.*')
      const res = await fetch(`${api}/query?query=${encodeURIComponent(promql)}`)
      const body = await res.json() as { status: string, error?: string, data?: { result: unknown[] } }
      if (body.status !== 'success') problems.push(`${panel}: ${body.error ?? res.status}`)
      else if ((body.data?.result.length ?? 0) === 0) problems.push(`${panel}: no data for ${promql}`)
    }
    expect(problems).toEqual([])
  })
})
