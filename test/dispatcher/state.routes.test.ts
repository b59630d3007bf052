/** The gateway state endpoints over a real health store: `since` and `reason` say what the state is and since when. */
import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StoredGatewayState, Transition } from '../../src/dispatcher/gateway-state.repository.js'
import { DEFAULT_PARTITION_HEALTH } from '../../src/dispatcher/health-settings.js'
import { createHealthStore, type HealthStore } from '../../src/dispatcher/health-store.js'
import { stateRoutes } from '../../src/dispatcher/state.routes.js'
import { errorHandler } from '../../src/errors.js'
import { createEventBus } from '../../src/events.js'
import { createLogger } from '../../src/logger.js'
import type { RouteTables } from '../../src/routing/snapshot/route-tables.js'
import { compileRouteTable } from '../routing/compile.js'
import { gateway, partitionData, rule } from '../routing/fixtures.js'

const START = Date.UTC(2026, 10, 21, 12, 0, 0)
let clock: number
let store: HealthStore
let app: FastifyInstance

/** Rows like gateway_state's: written by the store's queue, read back by the list endpoint. */
function memoryRepository () {
  const rows = new Map<string, StoredGatewayState>()
  return {
    all: async () => [...rows.values()],
    carriers: async () => [],
    apply: async (partition: string, gatewayId: string, transition: Transition) => {
      const current = rows.get(gatewayId)
      const next = transition(current)
      if (next === undefined) return undefined
      const stored = { partition, gatewayId, health: next.health, probe: current?.probe, version: (current?.version ?? 0) + 1 }
      rows.set(gatewayId, stored)
      return stored
    },
    ofPartition: async () => [...rows.values()],
    setCarrier: async () => { throw new Error('not used') },
    setSetting: async () => {}
  }
}

beforeEach(async () => {
  clock = START
  const repository = memoryRepository()
  store = createHealthStore({
    repository, bus: createEventBus((err) => { throw err }), log: createLogger('silent', false), now: () => clock, eventsOf: () => undefined, queueMax: 100, retryMinMs: 5, retryMaxMs: 20
  })
  const { table } = compileRouteTable(partitionData({ gateways: [gateway('gw1'), gateway('gw2')], rules: [rule(1, '44', ['gw1', 'gw2'])] }), { partition: 'p', version: 1 })
  const tables = { lookup: () => ({ state: 'ready', table }) } as unknown as RouteTables
  store.sync('p', [...table.gateways.values()].map((g) => ({ id: g.id, address: g.dstUri, probeMode: 'never' as const, enabled: true })), DEFAULT_PARTITION_HEALTH)
  app = Fastify().withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  await app.register(stateRoutes, { tables, store, repository, isLeader: () => true, now: () => clock })
})
afterEach(async () => { await app.close() })

const one = async (gw: string) => (await app.inject(`/v1/partitions/p/gateways/${gw}/state`)).json()
const list = async () => (await app.inject('/v1/partitions/p/gateways/state')).json().items as Array<Record<string, unknown>>

describe('gateway state: since and reason', () => {
  it('since of a gateway that never changed state is when it was loaded, the same on every read', async () => {
    const reads = []
    for (let i = 0; i < 3; i++) {
      reads.push((await one('gw1')).since, (await list())[0]?.since)
      clock += 3000
    }
    expect(new Set(reads)).toEqual(new Set([new Date(START).toISOString()]))
    expect(await one('gw1')).toMatchObject({ state: 'active', reason: 'initial', failures: 0 })
  })

  it('reason follows the failures it explains; since stays at the state change', async () => {
    clock = START + 10_000
    store.submit('p', 'gw2', { kind: 'failure', reason: 'failover feedback 503 Service Unavailable' })
    clock = START + 20_000
    store.submit('p', 'gw2', { kind: 'failure', reason: 'failover feedback 408 Request Timeout (local)' })
    await store.flush()
    const after = await one('gw2')
    expect(after).toMatchObject({
      state: 'suspect',
      failures: 2,
      reason: 'failure 2 of 3 in 60 s: failover feedback 408 Request Timeout (local)',
      since: new Date(START + 10_000).toISOString()
    })
    expect((await list()).find((g) => g.gateway === 'gw2')).toMatchObject({ failures: 2, reason: after.reason, since: after.since })

    // The first failure leaves the window: one is left, and the reason says so.
    clock = START + 71_000
    store.tick()
    await store.flush()
    expect(await one('gw2')).toMatchObject({ state: 'suspect', failures: 1, reason: 'failure 1 of 3 in 60 s: failover feedback 408 Request Timeout (local)', since: after.since })
  })
})
