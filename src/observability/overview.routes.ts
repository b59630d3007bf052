/** GET /v1/overview: what the status page shows in one answer (partitions, gateways with history, last reports). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { HealthStore } from '../dispatcher/health-store.js'
import type { RouteTables } from '../routing/snapshot/route-tables.js'
import type { Report, StatusRegistry } from '../status/status-registry.js'
import { gatewayViews, partitionViews } from './sources.js'

export interface OverviewRoutesOptions {
  readonly registry: StatusRegistry
  readonly tables?: RouteTables
  readonly store?: HealthStore
  readonly instance: string
  readonly isLeader?: () => boolean
}

const ReportSchema = Type.Object({ timestamp: Type.Integer(), date: Type.String(), log: Type.String() })
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

const OverviewSchema = Type.Object({
  instance: Type.String(),
  time: Type.String({ format: 'date-time' }),
  ready: Type.Boolean(),
  not_ready: Type.Array(Type.Object({ group: Type.String(), identifier: Type.String(), status: Type.Integer(), details: Type.String() })),
  probing: Type.Union([Type.Boolean(), Type.Null()]),
  prober: Type.Union([Type.Boolean(), Type.Null()], { description: 'this instance holds the prober lock' }),
  partitions: Type.Array(Type.Object({
    name: Type.String(),
    status: Type.Integer(),
    readiness: Type.Boolean(),
    details: Type.String(),
    data_version: Type.Union([Type.Integer(), Type.Null()]),
    checksum: Nullable(Type.String()),
    gateways: Type.Array(Type.Object({
      gateway: Type.String(),
      address: Type.String(),
      state: Type.String(),
      reason: Type.String(),
      since: Nullable(Type.String({ format: 'date-time' })),
      failures: Type.Integer(),
      history: Type.Array(ReportSchema, { description: 'this gateway\'s last reports from <partition>;events, oldest first' })
    })),
    events: Type.Array(ReportSchema, { description: 'the last reports of <partition>;events, oldest first' })
  })),
  reports: Type.Array(Type.Object({ group: Type.String(), identifier: Type.String(), timestamp: Type.Integer(), date: Type.String(), log: Type.String() }), { description: 'the last reports of every identifier, newest first' })
})

const HISTORY = 5
const EVENTS = 20
const REPORTS = 30

export const overviewRoutes: FastifyPluginAsyncTypebox<OverviewRoutesOptions> = async (app, { registry, tables, store, instance, isLeader }) => {
  app.get('/v1/overview', {
    schema: { tags: ['status'], summary: 'Everything the status page shows: partitions, gateways with state and history, the last reports', response: { 200: OverviewSchema } }
  }, async () => {
    const routing = registry.group('routing')
    const partitions = tables === undefined
      ? []
      : [...partitionViews(tables)].map((p) => {
          const events: Report[] = routing?.get(`${p.name};events`)?.reports() ?? []
          const gateways = store === undefined
            ? []
            : [...gatewayViews(store, p.name)].sort((a, b) => (a.gateway < b.gateway ? -1 : 1)).map((g) => ({
                gateway: g.gateway,
                address: g.address,
                state: g.state,
                reason: g.reason,
                since: g.since === undefined ? null : new Date(g.since).toISOString(),
                failures: g.failures,
                history: events.filter((r) => r.log.startsWith(`GW <${g.gateway}>/`)).slice(-HISTORY)
              }))
          return {
            name: p.name,
            status: p.status,
            readiness: p.status > 0,
            details: p.details,
            data_version: p.version ?? null,
            checksum: p.checksum ?? null,
            gateways,
            events: events.slice(-EVENTS)
          }
        })
    const reports = registry.groups()
      .flatMap((g) => g.identifiers().flatMap((i) => i.reports().reverse().map((r) => ({ group: g.name, identifier: i.name, ...r }))))
      .sort((a, b) => b.timestamp - a.timestamp)
      .slice(0, REPORTS)
    const readiness = registry.readiness()
    return {
      instance,
      time: new Date().toISOString(),
      ready: readiness.ready,
      not_ready: readiness.notReady.map((s) => ({ group: s.group, identifier: s.identifier, status: s.status, details: s.details })),
      probing: store === undefined ? null : store.probing,
      prober: isLeader === undefined ? null : isLeader(),
      partitions,
      reports
    }
  })
}
