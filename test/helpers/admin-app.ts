/** The app with the routing admin API over a fresh migrated test database, and helpers to look inside it. */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Kysely } from 'kysely'
import { buildApp } from '../../src/app.js'
import type { Database } from '../../src/db.js'
import { fakeDeps } from './fake-deps.js'
import { createTestDatabase, type TestDatabase } from './pg.js'

export interface AdminTestApp {
  readonly app: FastifyInstance
  readonly t: TestDatabase
  readonly db: Kysely<Database>
  /** `call('POST', '/v1/partitions', {...})` */
  call: (method: InjectOptions['method'], url: string, payload?: unknown) => Promise<LightMyRequestResponse>
  /** The partition's data_version, read through GET /v1/partitions/:partition. */
  version: (partition: string) => Promise<number>
  /** Row counts of every routing table, to show a refused write changed nothing. */
  counts: () => Promise<Record<RoutingTable, number>>
  close: () => Promise<void>
}

const TABLES = ['partition', 'gateway', 'carrier', 'carrier_gateway', 'rule', 'rule_target', 'caller_group'] as const
export type RoutingTable = typeof TABLES[number]

export async function createAdminApp (): Promise<AdminTestApp> {
  const t = await createTestDatabase()
  const deps = fakeDeps()
  const app = await buildApp({ registry: deps.registry, externalGroups: deps.externalGroups, db: t.db.kysely })
  const db = t.db.kysely
  const call: AdminTestApp['call'] = async (method, url, payload) =>
    await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) })
  return {
    app,
    t,
    db,
    call,
    version: async (partition) => {
      const res = await call('GET', `/v1/partitions/${partition}`)
      if (res.statusCode !== 200) throw new Error(`GET partition ${partition}: ${res.statusCode} ${res.body}`)
      return res.json<{ data_version: number }>().data_version
    },
    counts: async () => {
      const entries = await Promise.all(TABLES.map(async (table) => {
        const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
        return [table, Number(row.n)] as const
      }))
      return Object.fromEntries(entries) as Record<RoutingTable, number>
    },
    close: async () => {
      await app.close()
      await t.drop()
    }
  }
}
