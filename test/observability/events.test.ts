/** The new events' payloads: E_PARTITION_RELOAD, E_CORE_THRESHOLD (rate-limited), E_CORE_HEAP_THRESHOLD (on crossing only); probe and feedback metrics. */
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createEventBus, type EventMap, type EventName } from '../../src/events.js'
import { countProbeResults, createMetrics } from '../../src/observability/metrics.js'
import { createObservability } from '../../src/observability/observability.js'
import { createHeapMonitor, createThresholds, queryTimeCheck, thresholdLimits } from '../../src/observability/thresholds.js'
import type { RouteTables } from '../../src/routing/snapshot/route-tables.js'
import { StatusRegistry } from '../../src/status/status-registry.js'
import { samples } from './scrape.js'

const quiet = pino({ level: 'silent' })

function recorder () {
  const bus = createEventBus((err) => { throw err })
  const seen: Array<{ name: EventName, payload: unknown }> = []
  const names: EventName[] = ['E_PARTITION_RELOAD', 'E_CORE_THRESHOLD', 'E_CORE_HEAP_THRESHOLD']
  for (const name of names) bus.on(name, (payload) => { seen.push({ name, payload }) })
  const of = <K extends EventName>(name: K): Array<EventMap[K]> => seen.filter((e) => e.name === name).map((e) => e.payload as EventMap[K])
  return { bus, seen, of }
}

const counts = { gateways: { loaded: 3, discarded: 1 }, carriers: { loaded: 1, discarded: 0 }, rules: { loaded: 5, discarded: 0 }, caller_groups: { loaded: 0, discarded: 0 } }

function observability (env: Record<string, string> = {}) {
  const r = recorder()
  const config = loadConfig(env).observability
  const metrics = createMetrics(new Registry())
  const thresholds = createThresholds({ bus: r.bus, metrics, log: quiet, limits: thresholdLimits(config) })
  // A partition served at version 6 (the snapshot a failed reload keeps).
  const tables = {
    lookup: () => ({ state: 'ready', table: { version: 6, checksum: 'abc' } }),
    identifier: () => undefined,
    partitions: () => []
  } as unknown as RouteTables
  const obs = createObservability({ bus: r.bus, log: quiet, config, metrics, thresholds, statusRegistry: new StatusRegistry(r.bus), instance: 'test-1', tables })
  return { ...r, obs, thresholds }
}

describe('E_PARTITION_RELOAD', () => {
  it('carries partition, ok, version, checksum, duration and counts of a reload', () => {
    const { obs, of } = observability()
    obs.onReloaded({ partition: 'p', ok: true, version: 7, checksum: 'def', counts, durationMs: 12.5 })
    expect(of('E_PARTITION_RELOAD')).toEqual([{ partition: 'p', ok: true, version: 7, checksum: 'def', duration_ms: 12.5, counts }])
  })

  it('a failed reload says why and names the snapshot still served', () => {
    const { obs, of } = observability()
    obs.onReloaded({ partition: 'p', ok: false, error: 'connection refused', durationMs: 3 })
    expect(of('E_PARTITION_RELOAD')).toEqual([{ partition: 'p', ok: false, version: 6, checksum: 'abc', duration_ms: 3, counts: null, error: 'connection refused' }])
  })

  it('a removed partition is announced as such, and its row gauges go', async () => {
    const { obs, of } = observability()
    obs.onReloaded({ partition: 'gone', ok: true, version: 1, checksum: 'x', counts, durationMs: 2 })
    expect(samples(await obs.metrics.registry.metrics()).get('rtroute_partition_rows_loaded{partition="gone",entity="rules"}')).toBe(5)
    obs.onReloaded({ partition: 'gone', ok: true, removed: true, durationMs: 1 })
    expect(of('E_PARTITION_RELOAD').at(-1)).toEqual({ partition: 'gone', ok: true, version: null, checksum: null, duration_ms: 1, counts: null, removed: true })
    expect(samples(await obs.metrics.registry.metrics()).has('rtroute_partition_rows_loaded{partition="gone",entity="rules"}')).toBe(false)
  })

  it('counts reloads, their duration and the loaded/discarded rows; a slow reload raises E_CORE_THRESHOLD', async () => {
    const { obs, of } = observability({ RTROUTE_RELOAD_THRESHOLD_US: '10000' })
    obs.onReloaded({ partition: 'p', ok: true, version: 7, checksum: 'def', counts, durationMs: 25 })
    obs.onReloaded({ partition: 'p', ok: false, error: 'boom', durationMs: 1 })
    const s = samples(await obs.metrics.registry.metrics())
    expect(s.get('rtroute_reloads_total{partition="p",result="ok"}')).toBe(1)
    expect(s.get('rtroute_reloads_total{partition="p",result="failed"}')).toBe(1)
    expect(s.get('rtroute_reload_duration_seconds_count{partition="p"}')).toBe(2)
    expect(s.get('rtroute_partition_rows_loaded{partition="p",entity="gateways"}')).toBe(3)
    expect(s.get('rtroute_partition_rows_discarded{partition="p",entity="gateways"}')).toBe(1)
    expect(s.get('rtroute_events_total{event="E_PARTITION_RELOAD"}')).toBe(2)
    expect(of('E_CORE_THRESHOLD')).toEqual([{ source: 'reload', time_us: 25_000, threshold_us: 10_000, extra: { partition: 'p', ok: true } }])
  })
})

describe('E_CORE_THRESHOLD', () => {
  it('is raised over the limit only, at most once a second per source, the next one saying how many were held back', () => {
    const { bus, of } = recorder()
    let clock = 1_000_000
    const metrics = createMetrics(new Registry())
    const thresholds = createThresholds({ bus, metrics, log: quiet, now: () => clock, limits: { routing_decision: 1000, db_query: 500_000, reload: 0 } })
    expect(thresholds.check('routing_decision', 999, { partition: 'p' })).toBe(false)
    expect(thresholds.check('routing_decision', 1500, { partition: 'p', call_id: 'c1' })).toBe(true)
    expect(thresholds.check('routing_decision', 1600, { partition: 'p', call_id: 'c2' })).toBe(true)
    expect(thresholds.check('db_query', 600_000.4, { sql: 'select 1' })).toBe(true)
    expect(thresholds.check('reload', 99_000_000, {})).toBe(false) // 0: off
    clock += 1000
    thresholds.check('routing_decision', 2000, { partition: 'p', call_id: 'c3' })
    expect(of('E_CORE_THRESHOLD')).toEqual([
      { source: 'routing_decision', time_us: 1500, threshold_us: 1000, extra: { partition: 'p', call_id: 'c1' } },
      { source: 'db_query', time_us: 600_000, threshold_us: 500_000, extra: { sql: 'select 1' } },
      { source: 'routing_decision', time_us: 2000, threshold_us: 1000, extra: { partition: 'p', call_id: 'c3', suppressed: 1 } }
    ])
  })

  it('db queries are checked in microseconds with their SQL', () => {
    const { thresholds, of } = observability({ RTROUTE_DB_THRESHOLD_US: '1000' })
    const onQuery = queryTimeCheck(thresholds)
    onQuery(0.5, 'select fast')
    onQuery(2.25, `select ${'x'.repeat(300)}`)
    expect(of('E_CORE_THRESHOLD')).toEqual([{ source: 'db_query', time_us: 2250, threshold_us: 1000, extra: { sql: `select ${'x'.repeat(193)}` } }])
  })
})

describe('E_CORE_HEAP_THRESHOLD', () => {
  it('is raised when usage crosses the threshold upwards, not on every tick, and again after falling back', () => {
    const { bus, of } = recorder()
    let used = 50
    const monitor = createHeapMonitor({ bus, log: quiet, thresholdPercent: 80, intervalMs: 1000, read: () => ({ used, size: 100 }) })
    const usages = [50, 81, 90, 79, 60, 85]
    const raised = usages.map((u) => { used = u; return monitor.check() })
    expect(raised).toEqual([false, true, false, false, false, true])
    expect(of('E_CORE_HEAP_THRESHOLD')).toEqual([
      { usage: 81, threshold: 80, used: 81, size: 100 },
      { usage: 85, threshold: 80, used: 85, size: 100 }
    ])
  })

  it('reads the real V8 heap, and 0 turns it off', () => {
    const { bus, of } = recorder()
    expect(createHeapMonitor({ bus, log: quiet, thresholdPercent: 0, intervalMs: 1000 }).check()).toBe(false)
    expect(createHeapMonitor({ bus, log: quiet, thresholdPercent: 1, intervalMs: 1000, read: () => ({ used: 1, size: 0 }) }).check()).toBe(false)
    const real = createHeapMonitor({ bus, log: quiet, thresholdPercent: 0.001 as number, intervalMs: 1000 })
    expect(real.check()).toBe(true)
    const event = of('E_CORE_HEAP_THRESHOLD')[0]
    expect(event?.used).toBeGreaterThan(0)
    expect(event?.size).toBeGreaterThan(event?.used ?? 0)
  })
})

describe('probe and feedback metrics', () => {
  it('count probe results with latency, and failed branches by code class', async () => {
    const { obs } = observability()
    const target = { partition: 'p', gatewayId: 'a', uri: 'sip:a' }
    countProbeResults(obs.metrics, 'p', [
      { target, ok: true, status: 200, latencyMs: 20, timeout: false, reason: '200 OK' },
      { target, ok: false, status: 503, latencyMs: 30, timeout: false, reason: 'negative' },
      { target, ok: false, timeout: true, reason: 'timeout' },
      { target, ok: false, timeout: false, reason: 'failure to send probe' }
    ])
    obs.onFeedback({ partition: 'p', gateway: 'a', code: 503, local: false, counted: 'failure' })
    obs.onFeedback({ partition: 'p', gateway: 'a', code: 503, local: false, counted: 'duplicate' })
    obs.onFeedback({ partition: 'p', gateway: 'a', code: 408, local: true, counted: 'failure' })
    obs.onFeedback({ partition: 'p', gateway: 'a', code: 486, local: false, counted: 'ignored' })
    obs.onFeedback({ partition: 'p', gateway: 'a', code: 200, local: false, counted: 'success' })
    const s = samples(await obs.metrics.registry.metrics())
    for (const result of ['ok', 'failed', 'timeout', 'error']) expect(s.get(`rtroute_gateway_probes_total{partition="p",gateway="a",result="${result}"}`)).toBe(1)
    expect(s.get('rtroute_gateway_probe_latency_seconds_count{partition="p",gateway="a"}')).toBe(2)
    expect(s.get('rtroute_gateway_probe_latency_seconds_sum{partition="p",gateway="a"}')).toBeCloseTo(0.05)
    expect(s.get('rtroute_gateway_failures_total{partition="p",gateway="a",class="5xx"}')).toBe(1)
    expect(s.get('rtroute_gateway_failures_total{partition="p",gateway="a",class="local"}')).toBe(1)
    expect(s.get('rtroute_gateway_failures_total{partition="p",gateway="a",class="4xx"}')).toBe(1)
    expect(s.get('rtroute_feedback_total{partition="p",counted="failure"}')).toBe(2)
    expect(s.get('rtroute_feedback_total{partition="p",counted="success"}')).toBe(1)
    obs.stop()
  })
})
