/**
 * E_CORE_THRESHOLD "slow routing decision" times the decision's own work: not the time the request
 * waited before its handler ran (a blocked event loop), not the time the process was not running
 * during the decision (descheduled on a busy box, stood for here by Atomics.wait, which sleeps the
 * thread), but a decision that really computes for long does raise it.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createHealthStore } from '../../src/dispatcher/health-store.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createRoutingObserver } from '../../src/observability/routing-observer.js'
import { ownTimeUs } from '../../src/observability/thresholds.js'
import { routingRoutes } from '../../src/routing/decide/routing.routes.js'
import type { PartitionData } from '../../src/routing/routing-data.schema.js'
import { createEventBus } from '../../src/events.js'
import { memoryTables } from '../helpers/memory-snapshot.js'
import { gateway, rule } from '../routing/fixtures.js'

const THRESHOLD_US = 2000
const DATA: PartitionData = {
  partition: { default_group: 'default', description: '', settings: {} },
  gateways: [gateway('a', '10.0.0.1:5060'), gateway('b', '10.0.0.2:5060')],
  carriers: [],
  rules: [rule(1, '44', ['a', 'b']), rule(2, '33', ['b']), rule(3, '1', ['a']), rule(4, '', ['b'])],
  caller_groups: []
}
const silent = pino({ level: 'silent' })
const sleep = (ms: number): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) }
/**
 * Computes for `ms` of wall time and until the process has used `ms` of CPU: a busy box
 * deschedules it meanwhile (the wall time is longer), V8's own threads add to the process's CPU.
 */
const spin = (ms: number): void => {
  const start = process.cpuUsage()
  const end = performance.now() + ms
  const done = (): boolean => { const used = process.cpuUsage(start); return used.user + used.system >= ms * 1000 && performance.now() >= end }
  while (!done()) { /* computing */ }
}
/** Keeps the loop blocked for `ms` of wall time, whatever the CPU. */
const block = (ms: number): void => { const end = performance.now() + ms; while (performance.now() < end) { /* blocked */ } }

let apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.map(async (app) => { await app.close() }))
  apps = []
})

/** The routing path with a real observer; `during` runs inside the decision (health is read there) for the calls it names. */
async function routingApp (during: (callId: string) => void): Promise<{ app: FastifyInstance, slow: Array<{ us: number, extra: Record<string, unknown> }> }> {
  const tables = await memoryTables(DATA)
  const store = createHealthStore({ repository: { all: async () => [], carriers: async () => [], apply: async () => undefined }, bus: createEventBus((err) => { throw err }), log: silent, now: Date.now, eventsOf: () => undefined, queueMax: 100, retryMinMs: 10, retryMaxMs: 100 })
  const slow: Array<{ us: number, extra: Record<string, unknown> }> = []
  const observer = createRoutingObserver({ metrics: createMetrics(new Registry()), known: () => true, thresholdUs: THRESHOLD_US, onSlow: (us, extra) => { slow.push({ us, extra }) } })
  let current = ''
  const app = Fastify()
  app.addHook('preHandler', async (request) => { current = (request.body as { call_id: string }).call_id })
  await app.register(routingRoutes, {
    tables,
    health: (partition) => { during(current); return store.view(partition) },
    defaultPartition: 'p',
    retryAfterS: 5,
    observer
  })
  apps.push(app)
  return { app, slow }
}

const query = (callId: string) => ({ method: 'POST' as const, url: '/kamailio/rtjson', payload: { call_id: callId, request_uri: 'sip:4420@sbc', partition: 'p' } })

describe('the slow-decision threshold', () => {
  it('does not count a blocked event loop before the request is handled', async () => {
    const { app, slow } = await routingApp(() => {})
    for (let i = 0; i < 20; i++) expect((await app.inject(query(`warm-${i}`))).statusCode).toBe(200)
    const pending = app.inject(query('queued'))
    // The request waits 30 ms for the loop before any of its work runs.
    block(30)
    expect((await pending).statusCode).toBe(200)
    expect(slow).toEqual([])
  })

  it('does not count the time the process was not running during the decision', async () => {
    const first = new Set<string>()
    const { app, slow } = await routingApp((callId) => {
      if (callId.startsWith('descheduled') && !first.has(callId)) {
        first.add(callId)
        sleep(25)
      }
    })
    for (let i = 0; i < 20; i++) expect((await app.inject(query(`warm-${i}`))).statusCode).toBe(200)
    for (let i = 0; i < 3; i++) expect((await app.inject(query(`descheduled-${i}`))).statusCode).toBe(200)
    expect(slow).toEqual([])
  })

  it('does not count waiting even when every run of the decision waits', async () => {
    const { app, slow } = await routingApp((callId) => { if (callId === 'always-waits') sleep(15) })
    for (let i = 0; i < 20; i++) expect((await app.inject(query(`warm-${i}`))).statusCode).toBe(200)
    expect((await app.inject(query('always-waits'))).statusCode).toBe(200)
    expect(slow).toEqual([])
  })

  it('reports a decision that really computes for longer than the threshold, with its own time', async () => {
    const { app, slow } = await routingApp((callId) => { if (callId === 'computes') spin(12) })
    for (let i = 0; i < 20; i++) expect((await app.inject(query(`warm-${i}`))).statusCode).toBe(200)
    expect((await app.inject(query('computes'))).statusCode).toBe(200)
    expect(slow).toHaveLength(1)
    expect(slow[0]?.us).toBeGreaterThan(THRESHOLD_US)
    expect(slow[0]?.extra).toMatchObject({ partition: 'p', call_id: 'computes', result: 'routed' })
    expect(slow[0]?.extra.request_us).toBeGreaterThanOrEqual(12_000)
  })
})

describe('ownTimeUs', () => {
  it('keeps the fastest of its runs and stops at the first one within the limit', () => {
    let runs = 0
    const us = ownTimeUs(() => { if (runs++ === 0) spin(5) }, 2000, 3)
    expect(runs).toBe(2)
    expect(us).toBeLessThan(2000)
  })

  it('reports work that is slow every time', () => {
    let runs = 0
    expect(ownTimeUs(() => { runs++; spin(3) }, 2000, 3)).toBeGreaterThan(2000)
    expect(runs).toBe(3)
  })
})
