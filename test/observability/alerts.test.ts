/** Alert batching: nothing during the startup grace, nothing without changes, one summary per subscriber per check (issues first, every current problem), cluster-wide events from one instance. */
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createEventBus } from '../../src/events.js'
import { createAlerts, type AlertProblems, type AlertSummary } from '../../src/observability/alerts.js'
import { createMetrics } from '../../src/observability/metrics.js'
import type { Subscription } from '../../src/observability/subscription.repository.js'

const sub = (id: string, events: Subscription['events']): Subscription =>
  ({ id, url: `http://127.0.0.1/${id}`, events, secret: 'x'.repeat(16), description: '', expires: null, createdAt: new Date(0) })

const problems: AlertProblems = {
  not_ready: [{ group: 'routing', identifier: 'p2', status: -2, details: 'no data loaded' }],
  gateways_down: [{ partition: 'p', gateway: 'a', address: 'sip:10.0.0.1', reason: '3 failures', since: '2026-01-01T00:00:00.000Z' }]
}

function setup (options: { graceMs?: number, leader?: boolean, subscriptions?: Subscription[], failing?: boolean } = {}) {
  const bus = createEventBus((err) => { throw err })
  let clock = Date.UTC(2026, 0, 1)
  const sent: Array<{ id: string, summary: AlertSummary }> = []
  let failing = options.failing ?? false
  const alerts = createAlerts({
    bus,
    sender: { enqueue: (target, body) => { sent.push({ id: target.id, summary: JSON.parse(body) as AlertSummary }) }, retain: () => {} },
    subscriptions: async () => { if (failing) throw new Error('database away'); return options.subscriptions ?? [sub('all', ['E_GATEWAY_STATUS', 'E_PARTITION_RELOAD', 'E_CORE_SR_STATUS_CHANGED'])] },
    problems: () => problems,
    isLeader: () => options.leader ?? true,
    metrics: createMetrics(new Registry()),
    log: pino({ level: 'silent' }),
    instance: 'host:1',
    intervalMs: 60_000,
    graceMs: options.graceMs ?? 0,
    now: () => clock
  })
  return { bus, alerts, sent, tick: (ms: number) => { clock += ms }, heal: () => { failing = false } }
}

const down = { partition: 'p', gateway: 'a', address: 'sip:10.0.0.1', status: 'down' as const, old_status: 'suspect' as const, reason: '3 failures' }
const up = { partition: 'p', gateway: 'b', address: 'sip:10.0.0.2', status: 'active' as const, old_status: 'down' as const, reason: '2 good probes' }
const reload = { partition: 'p', ok: true, version: 3, checksum: 'abc', duration_ms: 5, counts: null }

describe('alerts', () => {
  it('send nothing when nothing changed', async () => {
    const { alerts, sent } = setup()
    expect(await alerts.check()).toBe(0)
    expect(sent).toEqual([])
  })

  it('batch an interval\'s events into ONE summary per subscriber: new events (issues first) and every current problem', async () => {
    const { bus, alerts, sent } = setup({ subscriptions: [sub('s1', ['E_GATEWAY_STATUS', 'E_PARTITION_RELOAD']), sub('s2', ['E_PARTITION_RELOAD']), sub('s3', ['E_CORE_HEAP_THRESHOLD'])] })
    bus.emit('E_GATEWAY_STATUS', up)
    bus.emit('E_PARTITION_RELOAD', reload)
    bus.emit('E_GATEWAY_STATUS', down)
    expect(await alerts.check()).toBe(2)
    expect(sent.map((s) => s.id)).toEqual(['s1', 's2'])
    const first = sent[0]?.summary as AlertSummary
    expect(first.events.map((e) => [e.event, e.issue])).toEqual([['E_GATEWAY_STATUS', true], ['E_GATEWAY_STATUS', false], ['E_PARTITION_RELOAD', false]])
    expect(first.events[0]).toMatchObject({ instance: 'host:1', params: down })
    expect(first.problems).toEqual(problems)
    expect(first).toMatchObject({ subscription: 's1', instance: 'host:1', interval_ms: 60_000, omitted: 0, subject: 'rtroute host:1: 3 new events (1 issue), 2 current problems' })
    expect(sent[1]?.summary.events.map((e) => e.event)).toEqual(['E_PARTITION_RELOAD'])
    // Sent once: the next check has nothing new.
    expect(await alerts.check()).toBe(0)
  })

  it('send nothing during the startup grace; events after it are alerted', async () => {
    const { bus, alerts, sent, tick } = setup({ graceMs: 60_000 })
    bus.emit('E_GATEWAY_STATUS', { ...down, old_status: null })
    tick(30_000)
    bus.emit('E_GATEWAY_STATUS', down)
    expect(await alerts.check()).toBe(0)
    tick(30_000)
    bus.emit('E_PARTITION_RELOAD', reload)
    expect(await alerts.check()).toBe(1)
    expect(sent[0]?.summary.events.map((e) => e.event)).toEqual(['E_PARTITION_RELOAD'])
  })

  it('gateway state changes are sent only by the prober-lock holder; this instance\'s own events by every instance', async () => {
    const { bus, alerts, sent } = setup({ leader: false })
    bus.emit('E_GATEWAY_STATUS', down)
    expect(await alerts.check()).toBe(0)
    bus.emit('E_GATEWAY_STATUS', down)
    bus.emit('E_CORE_SR_STATUS_CHANGED', { group: 'routing', identifier: 'p', status: -2, details: 'no data', old_status: 1 })
    expect(await alerts.check()).toBe(1)
    expect(sent[0]?.summary.events.map((e) => e.event)).toEqual(['E_CORE_SR_STATUS_CHANGED'])
    expect(sent[0]?.summary.events[0]?.issue).toBe(true)
  })

  it('keep the events for the next check when the subscriptions cannot be read', async () => {
    const { bus, alerts, sent, heal } = setup({ failing: true })
    bus.emit('E_GATEWAY_STATUS', down)
    expect(await alerts.check()).toBe(0)
    expect(alerts.pending).toBe(1)
    heal()
    bus.emit('E_PARTITION_RELOAD', reload)
    expect(await alerts.check()).toBe(1)
    expect(sent[0]?.summary.events.map((e) => e.event)).toEqual(['E_GATEWAY_STATUS', 'E_PARTITION_RELOAD'])
  })
})
