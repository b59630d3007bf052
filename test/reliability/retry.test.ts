/**
 * Retries with backoff, on a fake clock: a reload and a partition sweep that failed because the
 * database was away are tried again (100, 200, 400 ms … with jitter pinned), and gateway events
 * whose write failed are kept and written in order once the database answers.
 */
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createHealthStore } from '../../src/dispatcher/health-store.js'
import type { StoredGatewayState, Transition } from '../../src/dispatcher/gateway-state.repository.js'
import { createEventBus } from '../../src/events.js'
import { createRouteTables } from '../../src/routing/snapshot/route-tables.js'
import type { PartitionData } from '../../src/routing/routing-data.schema.js'
import { RING_SIZES, StatusRegistry } from '../../src/status/status-registry.js'
import { gateway, partitionData, rule } from '../routing/fixtures.js'
import { memorySnapshot } from '../helpers/memory-snapshot.js'

const quiet = pino({ level: 'silent' })
const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
const DATA: PartitionData = partitionData({ gateways: [gateway('a', '10.0.0.1:5060')], rules: [rule(1, '44', ['a'])] })

beforeEach(() => {
  vi.useFakeTimers()
  // Full jitter pinned to its ceiling: the delays are exactly min × 2^attempt, capped.
  vi.spyOn(Math, 'random').mockReturnValue(1)
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

function tablesOver (load: () => Promise<{ data: PartitionData, version: number } | undefined>, versions = async () => [{ name: 'p', version: 1 }]) {
  const registry = new StatusRegistry(createEventBus(() => {}))
  const group = registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
  return createRouteTables({ repository: { ...memorySnapshot(load), versions }, group, log: quiet, debounceMs: 10, retryMinMs: 100, retryMaxMs: 1000 })
}

describe('a reload that failed for want of a database', () => {
  it('is retried with exponential backoff until it succeeds, then stops retrying', async () => {
    const calls: number[] = []
    const tables = tablesOver(async () => {
      calls.push(Date.now())
      if (calls.length <= 4) throw refused()
      return { data: DATA, version: 1 }
    })
    expect((await tables.reload('p')).ok).toBe(false)
    expect(tables.lookup('p').state).toBe('not_ready')
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800)
    expect(tables.lookup('p').state).toBe('ready')
    expect(calls.slice(1).map((t, i) => t - (calls[i] ?? 0))).toEqual([100, 200, 400, 800])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toHaveLength(5)
    tables.stop()
  })

  it('caps the delay at the maximum, and stop() cancels the pending retry', async () => {
    const calls: number[] = []
    const tables = tablesOver(async () => { calls.push(Date.now()); throw refused() })
    await tables.reload('p')
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1000 + 1000)
    expect(calls.slice(1).map((t, i) => t - (calls[i] ?? 0))).toEqual([100, 200, 400, 800, 1000, 1000])
    tables.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls).toHaveLength(7)
  })

  it('is not retried when the failure is not the database being away (a bad document waits for a change)', async () => {
    let calls = 0
    const tables = tablesOver(async () => { calls++; throw new Error('row 3 is not what the schema says') })
    await tables.reload('p')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toBe(1)
    tables.stop()
  })

  it('a failed sweep (the partitions could not even be listed) is retried too', async () => {
    let listings = 0
    const tables = tablesOver(async () => ({ data: DATA, version: 1 }), async () => {
      if (++listings <= 2) throw refused()
      return [{ name: 'p', version: 1 }]
    })
    await tables.sweep('start')
    expect(tables.discovered).toBe(false)
    await vi.advanceTimersByTimeAsync(100 + 200)
    expect(tables.discovered).toBe(true)
    expect(tables.lookup('p').state).toBe('ready')
    tables.stop()
  })
})

describe('gateway events whose write failed', () => {
  it('are kept, retried with backoff and written in the order they were received', async () => {
    const written: string[] = []
    const tries: number[] = []
    let version = 0
    const store = createHealthStore({
      repository: {
        all: async () => [],
        carriers: async () => [],
        apply: async (partition: string, gatewayId: string, transition: Transition): Promise<StoredGatewayState | undefined> => {
          tries.push(Date.now())
          if (tries.length <= 3) throw refused()
          const next = transition(undefined)
          if (next === undefined) return undefined
          written.push(`${gatewayId}:${next.health.state}`)
          return { partition, gatewayId, health: next.health, probe: undefined, version: ++version }
        }
      },
      bus: createEventBus(() => {}),
      log: quiet,
      now: Date.now,
      eventsOf: () => undefined,
      queueMax: 1000,
      retryMinMs: 100,
      retryMaxMs: 1000
    })
    for (const id of ['g1', 'g2', 'g3']) store.submit('p', id, { kind: 'failure', reason: 'failover feedback 503' })
    expect(store.queued).toBe(3)
    expect(store.get('p', 'g1')?.health.state).toBe('suspect')
    await vi.advanceTimersByTimeAsync(100 + 200 + 400)
    expect(store.queued).toBe(0)
    expect(written).toEqual(['g1:suspect', 'g2:suspect', 'g3:suspect'])
    expect(tries.slice(1, 4).map((t, i) => t - (tries[i] ?? 0))).toEqual([100, 200, 400])
    store.stop()
  })
})
