/** Metrics: tallies exposed in the Prometheus format, scrape-time gauges, and the routing observer's counts, threshold and debug line. */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createMetrics, registerScrapeGauges, type MetricSources } from '../../src/observability/metrics.js'
import { createRoutingObserver, UNKNOWN_PARTITION } from '../../src/observability/routing-observer.js'
import { observe, TallyCounter, TallyHistogram } from '../../src/observability/tally.js'
import type { Answer, Route } from '../../src/routing/decide/decision.js'
import { samples } from './scrape.js'

// The observer reads an answer's outcome, and a routed one's rule and gateway ids.
const routed = (...gateways: string[]): Answer => ({
  outcome: 'routed',
  number: '44',
  group: 'default',
  groupSource: 'default',
  prefix: '44',
  ruleId: 1,
  routes: gateways.map((gatewayId) => ({ gatewayId }) as Route)
}) as unknown as Answer
const noRoute = { outcome: 'no_route' } as Answer
const notReady: Answer = { outcome: 'not_ready' }

const quiet = pino({ level: 'silent' })

describe('tallies', () => {
  it('expose counters and cumulative histogram buckets in the text format', async () => {
    const registry = new Registry()
    const counter = new TallyCounter('t_total', 'help', ['a'], registry)
    const cell = counter.cell('x')
    cell.value += 3
    expect(counter.cell('x')).toBe(cell)
    const histogram = new TallyHistogram('t_seconds', 'help', ['a'], [0.1, 1], registry)
    const h = histogram.cell('x')
    for (const v of [0.05, 0.5, 0.5, 5]) observe(h, histogram.bounds, v)
    const s = samples(await registry.metrics())
    expect(s.get('t_total{a="x"}')).toBe(3)
    expect(s.get('t_seconds_bucket{le="0.1",a="x"}')).toBe(1)
    expect(s.get('t_seconds_bucket{le="1",a="x"}')).toBe(3)
    expect(s.get('t_seconds_bucket{le="+Inf",a="x"}')).toBe(4)
    expect(s.get('t_seconds_sum{a="x"}')).toBeCloseTo(6.05)
    expect(s.get('t_seconds_count{a="x"}')).toBe(4)
  })
})

describe('createMetrics', () => {
  it('exports every loaded gateway\'s state and every partition\'s readiness from the first scrape, before any change', async () => {
    const registry = new Registry()
    const sources: MetricSources = {
      partitions: () => [{ name: 'p', status: 1, version: 7 }, { name: 'q', status: -2, version: undefined }],
      gateways: () => [{ partition: 'p', gateway: 'a', state: 'active' }, { partition: 'p', gateway: 'b', state: 'disabled' }]
    }
    createMetrics(registry)
    registerScrapeGauges(registry, sources)
    const s = samples(await registry.metrics())
    expect(s.get('rtroute_gateway_state{partition="p",gateway="a",state="active"}')).toBe(1)
    expect(s.get('rtroute_gateway_state{partition="p",gateway="a",state="down"}')).toBe(0)
    expect(s.get('rtroute_gateway_state{partition="p",gateway="b",state="disabled"}')).toBe(1)
    expect(s.get('rtroute_gateway_up{partition="p",gateway="b"}')).toBe(0)
    expect(s.get('rtroute_partition_ready{partition="p"}')).toBe(1)
    expect(s.get('rtroute_partition_ready{partition="q"}')).toBe(0)
    expect(s.get('rtroute_partition_status{partition="q"}')).toBe(-2)
    expect(s.get('rtroute_partition_data_version{partition="p"}')).toBe(7)
    expect([...s.keys()].some((k) => k.startsWith('process_cpu_user_seconds_total'))).toBe(true)
  })

  it('uses the Registry it is given, never the global one', async () => {
    const { register } = await import('prom-client')
    const before = (await register.getMetricsAsJSON()).length
    createMetrics(new Registry())
    expect((await register.getMetricsAsJSON()).length).toBe(before)
  })
})

describe('routing observer', () => {
  const setup = (thresholdUs = 0, known = ['p']) => {
    const registry = new Registry()
    const metrics = createMetrics(registry)
    const slow: Array<{ us: number, extra: Record<string, unknown> }> = []
    const observer = createRoutingObserver({ metrics, known: (p) => known.includes(p), thresholdUs, onSlow: (us, extra) => { slow.push({ us, extra }) } })
    return { registry, observer, slow }
  }

  it('counts answers by partition and result, offers per gateway, and latency; unknown partitions share one label', async () => {
    const { registry, observer } = setup()
    const t = performance.now()
    observer.answered('p', 'c1', routed('a', 'b'), t, quiet)
    observer.answered('p', 'c2', routed('b'), t, quiet)
    observer.answered('p', 'c3', noRoute, t, quiet)
    observer.answered('nope-1', 'c4', notReady, t, quiet)
    observer.answered('nope-2', 'c5', notReady, t, quiet)
    const s = samples(await registry.metrics())
    expect(s.get('rtroute_routing_answers_total{partition="p",result="routed"}')).toBe(2)
    expect(s.get('rtroute_routing_answers_total{partition="p",result="no_route"}')).toBe(1)
    expect(s.get('rtroute_routing_answers_total{partition="p",result="not_ready"}')).toBe(0)
    expect(s.get(`rtroute_routing_answers_total{partition="${UNKNOWN_PARTITION}",result="not_ready"}`)).toBe(2)
    expect([...s.keys()].some((k) => k.includes('nope'))).toBe(false)
    expect(s.get('rtroute_gateway_offered_total{partition="p",gateway="b"}')).toBe(2)
    expect(s.get('rtroute_gateway_offered_first_total{partition="p",gateway="a"}')).toBe(1)
    expect(s.get('rtroute_gateway_offered_first_total{partition="p",gateway="b"}')).toBe(1)
    expect(s.get('rtroute_routing_decision_seconds_count{partition="p"}')).toBe(3)
  })

  it('reports a decision slower than the threshold, with the call and result', () => {
    const { observer, slow } = setup(1)
    observer.answered('p', 'slow-call', noRoute, performance.now() - 5, quiet)
    expect(slow).toHaveLength(1)
    expect(slow[0]?.us).toBeGreaterThanOrEqual(5000)
    expect(slow[0]?.extra).toEqual({ partition: 'p', call_id: 'slow-call', result: 'no_route', request_us: slow[0]?.us })
  })

  it('writes one debug line per answer, with the Call-ID, only when debug is enabled', () => {
    const lines: string[] = []
    const sink = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
    const { observer } = setup()
    observer.answered('p', 'x1', routed('a'), performance.now(), pino({ level: 'info' }, sink))
    expect(lines).toHaveLength(0)
    observer.answered('p', 'x2', routed('a', 'b'), performance.now(), pino({ level: 'debug' }, sink))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 20, callId: 'x2', partition: 'p', result: 'routed', gateways: ['a', 'b'], msg: 'routing answer' })
  })
})
