/**
 * Observability against a real rtroute on a real PostgreSQL: /metrics after real traffic (rtjson
 * calls, feedback, a reload), the SSE stream, webhook subscriptions and a signed alert summary
 * delivered to a real receiver.
 */
import { createHmac } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../../src/server.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'
import { samples } from './scrape.js'
import { openSse } from './sse-client.js'

let server: Server
let close: () => Promise<void>

const json = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, text, body: text === '' ? undefined : JSON.parse(text) as any }
}
const route = async (callId: string, number = '4420', partition = 'p') => await json('POST', '/kamailio/rtjson', { call_id: callId, request_uri: `sip:${number}@sbc`, partition })
const feedback = async (callId: string, gateway: string, code: number) => await json('POST', '/kamailio/feedback', { call_id: callId, partition: 'p', gateway, code })
const scrape = async () => {
  const res = await fetch(`${server.url}/metrics`)
  return { status: res.status, type: res.headers.get('content-type'), s: samples(await res.text()) }
}

const DATA = {
  partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
  gateways: [{ id: 'a', address: '10.0.0.1:5060' }, { id: 'b', address: '10.0.0.2:5060' }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }] }],
  carriers: [],
  caller_groups: []
}

beforeAll(async () => {
  ({ server, close } = await startTestServer({
    RTROUTE_PROBING: 'false',
    RTROUTE_RELOAD_DEBOUNCE_MS: '10',
    RTROUTE_LEADER_HEARTBEAT_MS: '200',
    // Alert checks are run by the test (alerts.check()), so "one interval" is exact.
    RTROUTE_ALERT_INTERVAL_MS: '86400000',
    RTROUTE_ALERT_STARTUP_GRACE_MS: '0',
    RTROUTE_WEBHOOK_RETRY_MIN_MS: '20',
    RTROUTE_SSE_HEARTBEAT_MS: '200',
    // Every query is "slow": shows the database's query times reach E_CORE_THRESHOLD.
    RTROUTE_DB_THRESHOLD_US: '1',
    // The partition the tests route in: readiness waits for it.
    RTROUTE_PARTITION: 'p'
  }))
  await untilDatabaseReady(server)
  expect((await json('PUT', '/v1/partitions/p/data', DATA)).status).toBe(201)
  await until(async () => (await route('warm-up')).body.rtjson.success as boolean, (ok) => ok)
})
afterAll(async () => { await close() })

describe('GET /metrics', () => {
  it('after rtjson calls, feedback and a reload: names, labels and values', async () => {
    const before = await scrape()
    const routedBefore = before.s.get('rtroute_routing_answers_total{partition="p",result="routed"}') ?? 0
    const answersBefore = before.s.get('rtroute_routing_decision_seconds_count{partition="p"}') ?? 0
    // Every gateway loaded is there from the start, before any change.
    expect(before.s.get('rtroute_gateway_state{partition="p",gateway="b",state="active"}')).toBe(1)
    expect(before.s.get('rtroute_gateway_up{partition="p",gateway="a"}')).toBe(1)
    // A loaded partition's answer series exist at 0 before their first answer.
    expect(before.s.get('rtroute_routing_answers_total{partition="p",result="no_route"}')).toBe(0)

    for (let i = 0; i < 3; i++) expect((await route(`m-${i}`)).body.rtjson.routes.map((r: { gateway: string }) => r.gateway)).toEqual(['a', 'b'])
    expect((await route('m-none', '33')).body.rtjson.reason).toBe('no_route')
    expect((await route('m-unknown', '4420', 'no-such-partition')).status).toBe(404)
    expect((await feedback('m-f1', 'a', 503)).body.counted).toBe('failure')
    expect((await feedback('m-f2', 'a', 486)).body.counted).toBe('ignored')
    expect((await json('POST', '/v1/partitions/p/reload')).status).toBe(200)

    const { status, type, s } = await scrape()
    expect(status).toBe(200)
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(s.get('rtroute_routing_answers_total{partition="p",result="routed"}')).toBe(routedBefore + 3)
    expect(s.get('rtroute_routing_answers_total{partition="p",result="no_route"}')).toBe(1)
    expect(s.get('rtroute_routing_answers_total{partition="(unknown)",result="unknown_partition"}')).toBe(1)
    expect(s.get('rtroute_routing_decision_seconds_count{partition="p"}')).toBe(answersBefore + 4)
    expect(s.get('rtroute_routing_decision_seconds_bucket{le="+Inf",partition="p"}')).toBe(answersBefore + 4)
    expect(s.get('rtroute_gateway_offered_total{partition="p",gateway="b"}')).toBe(routedBefore + 3)
    expect(s.get('rtroute_gateway_offered_first_total{partition="p",gateway="a"}')).toBe(routedBefore + 3)
    expect(s.get('rtroute_gateway_failures_total{partition="p",gateway="a",class="5xx"}')).toBe(1)
    expect(s.get('rtroute_gateway_failures_total{partition="p",gateway="a",class="4xx"}')).toBe(1)
    expect(s.get('rtroute_feedback_total{partition="p",counted="failure"}')).toBe(1)
    expect(s.get('rtroute_feedback_total{partition="p",counted="ignored"}')).toBe(1)
    expect(s.get('rtroute_gateway_state{partition="p",gateway="a",state="suspect"}')).toBe(1)
    expect(s.get('rtroute_gateway_state{partition="p",gateway="a",state="active"}')).toBe(0)
    expect(s.get('rtroute_reloads_total{partition="p",result="ok"}')).toBeGreaterThanOrEqual(2)
    expect(s.get('rtroute_reload_duration_seconds_count{partition="p"}')).toBeGreaterThanOrEqual(2)
    expect(s.get('rtroute_partition_rows_loaded{partition="p",entity="gateways"}')).toBe(2)
    expect(s.get('rtroute_partition_rows_loaded{partition="p",entity="rules"}')).toBe(1)
    expect(s.get('rtroute_partition_rows_discarded{partition="p",entity="rules"}')).toBe(0)
    expect(s.get('rtroute_partition_ready{partition="p"}')).toBe(1)
    expect(s.get('rtroute_partition_status{partition="p"}')).toBe(1)
    expect(s.get('rtroute_partition_data_version{partition="p"}')).toBeGreaterThan(0)
    expect(s.get('rtroute_events_total{event="E_PARTITION_RELOAD"}')).toBeGreaterThanOrEqual(2)
    expect(s.get('rtroute_events_total{event="E_GATEWAY_STATUS"}')).toBeGreaterThanOrEqual(3)
    expect(s.get('rtroute_threshold_exceeded_total{source="db_query"}')).toBeGreaterThan(0)
    expect(s.get('rtroute_sse_clients')).toBe(0)
    expect(s.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect([...s.keys()].some((k) => k.startsWith('process_cpu_seconds_total'))).toBe(true)
  })
})

describe('GET /v1/events', () => {
  it('streams the chosen events: E_PARTITION_RELOAD of a reload, E_GATEWAY_STATUS of a gateway going down', async () => {
    const sse = await openSse(`${server.url}/v1/events?events=E_GATEWAY_STATUS,E_PARTITION_RELOAD`)
    try {
      expect(sse.status).toBe(200)
      expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      await sse.next((f) => f.comment?.startsWith('rtroute events') === true)
      const reloaded = await json('POST', '/v1/partitions/p/reload')
      const frame = await sse.next((f) => f.event === 'E_PARTITION_RELOAD')
      expect(frame.data).toMatchObject({ event: 'E_PARTITION_RELOAD', instance: server.observability.instance })
      expect(frame.data.params).toEqual({
        partition: 'p',
        ok: true,
        version: reloaded.body.data_version,
        checksum: reloaded.body.checksum,
        duration_ms: expect.any(Number),
        counts: { gateways: { loaded: 2, discarded: 0 }, carriers: { loaded: 0, discarded: 0 }, rules: { loaded: 1, discarded: 0 }, caller_groups: { loaded: 0, discarded: 0 } }
      })
      for (const callId of ['e-1', 'e-2', 'e-3']) await feedback(callId, 'b', 503)
      const down = await sse.next((f) => f.event === 'E_GATEWAY_STATUS' && f.data.params.status === 'down')
      expect(down.data.params).toEqual({ partition: 'p', gateway: 'b', address: 'sip:10.0.0.2:5060', status: 'down', old_status: 'suspect', reason: expect.stringContaining('failover feedback 503') })
      expect((await scrape()).s.get('rtroute_sse_clients')).toBe(1)
      await sse.next((f) => f.comment?.startsWith('heartbeat') === true)
    } finally {
      sse.close()
    }
    await until(async () => server.observability.stream.clients, (n) => n === 0)
  })

  it('refuses unknown event names', async () => {
    const res = await json('GET', '/v1/events?events=E_NOPE')
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('E_NOPE')
  })
})

describe('webhook subscriptions', () => {
  it('stores them, never shows the secret, and delivers ONE signed summary per check after a change', async () => {
    const received: Array<{ headers: http.IncomingHttpHeaders, body: string }> = []
    const receiver = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => { body += c.toString('utf8') })
      req.on('end', () => { received.push({ headers: req.headers, body }); res.writeHead(204).end() })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`
    const secret = 'webhook-secret-0123456789'
    try {
      for (const bad of [{ url: 'ftp://x', events: ['E_GATEWAY_STATUS'], secret }, { url: hook, events: ['E_NOPE'], secret }, { url: hook, events: ['E_GATEWAY_STATUS'], secret: 'short' },
        { url: hook, events: ['E_GATEWAY_STATUS'], secret, expires: '2020-01-01T00:00:00Z' }]) {
        expect((await json('POST', '/v1/subscriptions', bad)).status).toBe(400)
      }
      // What happened before anyone subscribed is checked (and sent to nobody).
      await server.observability.alerts?.check()
      const created = await json('POST', '/v1/subscriptions', { url: hook, events: ['E_GATEWAY_STATUS'], secret, expires: '2099-01-01T00:00:00.000Z', description: 'noc' })
      expect(created.status).toBe(201)
      expect(created.body).toEqual({ id: expect.any(String), url: hook, events: ['E_GATEWAY_STATUS'], description: 'noc', expires: '2099-01-01T00:00:00.000Z', created_at: expect.any(String) })
      const list = await json('GET', '/v1/subscriptions')
      const one = await json('GET', `/v1/subscriptions/${created.body.id as string}`)
      for (const text of [created.text, list.text, one.text]) expect(text).not.toContain(secret)
      expect(list.body.items.map((s: { id: string }) => s.id)).toContain(created.body.id)

      // Two changes in one interval: one summary; a check with nothing new sends nothing.
      await json('PUT', '/v1/partitions/p/gateways/a/state', { state: 'disabled', reason: 'maintenance' })
      await json('PUT', '/v1/partitions/p/gateways/a/state', { state: 'active', reason: 'done' })
      expect(await server.observability.alerts?.check()).toBe(1)
      expect(await server.observability.alerts?.check()).toBe(0)
      await until(async () => received.length, (n) => n >= 1)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(received).toHaveLength(1)
      const [delivery] = received as [{ headers: http.IncomingHttpHeaders, body: string }]
      expect(delivery.headers['x-rtroute-signature']).toBe(`sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`)
      expect(Number(delivery.headers['x-rtroute-timestamp'])).toBeCloseTo(Date.now() / 1000, -1)
      const summary = JSON.parse(delivery.body)
      expect(summary.subscription).toBe(created.body.id)
      expect(summary.events.map((e: any) => [e.event, e.params.gateway, e.params.status])).toEqual([['E_GATEWAY_STATUS', 'a', 'disabled'], ['E_GATEWAY_STATUS', 'a', 'active']])
      // Every current problem: b is down since the stream test.
      expect(summary.problems.gateways_down.map((g: any) => g.gateway)).toEqual(['b'])
      expect(summary.subject).toMatch(/2 new events \(0 issues\), 1 current problem$/)

      expect((await json('DELETE', `/v1/subscriptions/${created.body.id as string}`)).status).toBe(204)
      expect((await json('GET', `/v1/subscriptions/${created.body.id as string}`)).status).toBe(404)
      expect((await json('DELETE', `/v1/subscriptions/${created.body.id as string}`)).status).toBe(404)
      const s = (await scrape()).s
      expect(s.get('rtroute_event_deliveries_total{channel="webhook",result="ok"}')).toBe(1)
      expect(s.get('rtroute_alert_summaries_total')).toBe(1)
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => { resolve() }))
    }
  })
})

describe('GET /v1/overview', () => {
  it('gives the status page partitions with version, gateways with state and history, and the last reports', async () => {
    const { status, body } = await json('GET', '/v1/overview')
    expect(status).toBe(200)
    const p = body.partitions.find((x: { name: string }) => x.name === 'p')
    expect(p).toMatchObject({ status: 1, readiness: true, data_version: expect.any(Number), checksum: expect.any(String) })
    const b = p.gateways.find((g: { gateway: string }) => g.gateway === 'b')
    expect(b).toMatchObject({ state: 'down', address: 'sip:10.0.0.2:5060', since: expect.any(String) })
    expect(b.history.at(-1).log).toMatch(/^GW <b>\/sip:10.0.0.2:5060 switched to \[down\]/)
    expect(body.reports.length).toBeGreaterThan(0)
  })

  it('names every status, counts answers as /metrics does, and gives capacity null without limits', async () => {
    const { s } = await scrape()
    const { body } = await json('GET', '/v1/overview')
    const answers = [...s].filter(([key]) => key.startsWith('rtroute_routing_answers_total{')).reduce((sum, [, value]) => sum + value, 0)
    expect(answers).toBeGreaterThan(0)
    expect(body.answers_total).toBe(answers)
    const p = body.partitions.find((x: { name: string }) => x.name === 'p')
    expect(p).toMatchObject({ status: 1, status_name: 'ready', carriers: [] })
    expect(p.gateways.map((g: { capacity: unknown }) => g.capacity)).toEqual([null, null])
    const status = (id: string) => body.statuses.find((x: { group: string, identifier: string }) => `${x.group}/${x.identifier}` === id)
    expect(status('core/main')).toMatchObject({ status: 1, status_name: 'running', readiness: true, names: { '-1': 'initialising', 1: 'running', '-2': 'terminating' } })
    expect(status('db/main')).toMatchObject({ status: 1, status_name: 'connected' })
    expect(status('routing/p')).toMatchObject({ status: 1, status_name: 'ready', names: { '-2': 'no data', '-1': 'loading', 1: 'ready', 2: 'reloading' } })
    expect(body.not_ready).toEqual([])
  })
})
