/**
 * A whole app (buildApp) over one in-memory partition `p`, no database: the routing tables loaded
 * from `data`, a health store without persistence, the options under test. For tests of what
 * wraps the routes (guard, authentication, hooks, logging) rather than of the data path.
 */
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp, type AppOptions } from '../../src/app.js'
import type { GatewayStateRepository } from '../../src/dispatcher/gateway-state.repository.js'
import { createHealthStore } from '../../src/dispatcher/health-store.js'
import type { PartitionData } from '../../src/routing/routing-data.schema.js'
import { fakeDeps } from './fake-deps.js'
import { memoryTables } from './memory-snapshot.js'

export interface ProxyApp {
  readonly app: FastifyInstance
  readonly health: ReturnType<typeof createHealthStore>['view']
}

export async function buildProxyApp (data: PartitionData, options: AppOptions): Promise<ProxyApp> {
  const deps = fakeDeps()
  const tables = await memoryTables(data, deps.registry)
  const repository = { all: async () => [], carriers: async () => [], apply: async () => undefined }
  const store = createHealthStore({ repository, bus: deps.bus, log: pino({ level: 'silent' }), now: Date.now, eventsOf: () => undefined, queueMax: 100, retryMinMs: 10, retryMaxMs: 100 })
  const dispatcher = { store, repository: repository as unknown as GatewayStateRepository, isLeader: () => false }
  const app = await buildApp({ ...deps, routing: { tables, health: store.view }, dispatcher }, options)
  return { app, health: store.view }
}
