/**
 * GET /v1/overview: what the status page shows in one answer (statuses with their names,
 * partitions, gateways and carriers with capacity, gateway history, last reports, the answer count).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { describeCapacity, type CapacityDescription, type CapacityStore } from '../dispatcher/capacity-store.js'
import type { HealthStore } from '../dispatcher/health-store.js'
import { CapacitySchema } from '../dispatcher/state.routes.js'
import type { RouteTables } from '../routing/snapshot/route-tables.js'
import type { Report, StatusRegistry } from '../status/status-registry.js'
import { gatewayViews, partitionViews } from './sources.js'
import { statusName, statusNames } from './status-names.js'

export interface OverviewRoutesOptions {
  readonly registry: StatusRegistry
  readonly tables?: RouteTables
  readonly store?: HealthStore
  /** Call counts of limited gateways and carriers; without it every `capacity` is null. */
  readonly capacity?: Pick<CapacityStore, 'gatewayUsage' | 'carrierUsage'>
  /** Routing answers this instance has sent (every result), for the page's answers per second. */
  readonly answersTotal?: () => number
  readonly instance: string
  readonly isLeader?: () => boolean
}

const ReportSchema = Type.Object({ timestamp: Type.Integer(), date: Type.String(), log: Type.String() })
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

const StatusName = Type.String({ description: 'what the status means (status_report: > 0 ready, < 0 not ready; each identifier\'s own words where it has them)' })

const OverviewSchema = Type.Object({
  instance: Type.String(),
  time: Type.String({ format: 'date-time', description: 'when this answer was made (UTC)' }),
  ready: Type.Boolean(),
  answers_total: Type.Integer({ description: 'routing answers this instance sent since it started, every result: two reads give answers per second' }),
  not_ready: Type.Array(Type.Object({ group: Type.String(), identifier: Type.String(), status: Type.Integer(), status_name: StatusName, details: Type.String() })),
  statuses: Type.Array(Type.Object({
    group: Type.String(),
    identifier: Type.String(),
    readiness: Type.Boolean(),
    status: Type.Integer(),
    status_name: StatusName,
    details: Type.String(),
    names: Type.Record(Type.String(), Type.String(), { description: 'every status this identifier uses and its name (empty: only the > 0 / < 0 rule)' })
  }), { description: 'every identifier of every group' }),
  probing: Type.Union([Type.Boolean(), Type.Null()]),
  prober: Type.Union([Type.Boolean(), Type.Null()], { description: 'this instance holds the prober lock' }),
  partitions: Type.Array(Type.Object({
    name: Type.String(),
    status: Type.Integer(),
    status_name: StatusName,
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
      capacity: CapacitySchema,
      history: Type.Array(ReportSchema, { description: 'this gateway\'s last reports from <partition>;events, oldest first' })
    })),
    carriers: Type.Array(Type.Object({ carrier: Type.String(), enabled: Type.Boolean(), capacity: CapacitySchema })),
    events: Type.Array(ReportSchema, { description: 'the last reports of <partition>;events, oldest first' })
  })),
  reports: Type.Array(Type.Object({ group: Type.String(), identifier: Type.String(), timestamp: Type.Integer(), date: Type.String(), log: Type.String() }), { description: 'the last reports of every identifier, newest first' })
})

const HISTORY = 5
const EVENTS = 20
const REPORTS = 30

type Capacity = OverviewRoutesOptions['capacity']

function partitionOverview (name: string, tables: RouteTables, registry: StatusRegistry, store: HealthStore | undefined, capacity: Capacity) {
  const events: Report[] = registry.group('routing')?.get(`${name};events`)?.reports() ?? []
  const found = tables.lookup(name)
  const table = found.state === 'ready' ? found.table : undefined
  // null: no limit (unlimited gateways and carriers are not counted), or no capacity accounting.
  const gatewayCapacity = (id: string): CapacityDescription | null => {
    const gw = table?.gateways.get(id)
    return gw === undefined || capacity === undefined ? null : describeCapacity(gw, capacity.gatewayUsage(name, id))
  }
  const gateways = store === undefined
    ? []
    : [...gatewayViews(store, name)].sort((a, b) => (a.gateway < b.gateway ? -1 : 1)).map((g) => ({
        gateway: g.gateway,
        address: g.address,
        state: g.state,
        reason: g.reason,
        since: g.since === undefined ? null : new Date(g.since).toISOString(),
        failures: g.failures,
        capacity: gatewayCapacity(g.gateway),
        history: events.filter((r) => r.log.startsWith(`GW <${g.gateway}>/`)).slice(-HISTORY)
      }))
  const carriers = [...(table?.carriers.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1)).map((c) => ({
    carrier: c.id,
    enabled: c.enabled,
    capacity: capacity === undefined ? null : describeCapacity(c, capacity.carrierUsage(name, c.id))
  }))
  return { gateways, carriers, events: events.slice(-EVENTS) }
}

export const overviewRoutes: FastifyPluginAsyncTypebox<OverviewRoutesOptions> = async (app, { registry, tables, store, capacity, answersTotal, instance, isLeader }) => {
  app.get('/v1/overview', {
    schema: { tags: ['status'], summary: 'Everything the status page shows: statuses, partitions, gateways and carriers with state, capacity and history, the last reports', response: { 200: OverviewSchema } }
  }, async () => {
    const partitions = tables === undefined
      ? []
      : [...partitionViews(tables)].map((p) => ({
          name: p.name,
          status: p.status,
          status_name: statusName('routing', p.name, p.status),
          readiness: p.status > 0,
          details: p.details,
          data_version: p.version ?? null,
          checksum: p.checksum ?? null,
          ...partitionOverview(p.name, tables, registry, store, capacity)
        }))
    const groups = registry.groups()
    const reports = groups
      .flatMap((g) => g.identifiers().flatMap((i) => i.reports().reverse().map((r) => ({ group: g.name, identifier: i.name, ...r }))))
      .sort((a, b) => b.timestamp - a.timestamp)
      .slice(0, REPORTS)
    const statuses = groups.flatMap((g) => g.identifiers().map((i) => {
      const s = i.state()
      return { ...s, status_name: statusName(s.group, s.identifier, s.status), names: statusNames(s.group, s.identifier) }
    }))
    const readiness = registry.readiness()
    return {
      instance,
      time: new Date().toISOString(),
      ready: readiness.ready,
      answers_total: answersTotal === undefined ? 0 : answersTotal(),
      not_ready: readiness.notReady.map((s) => ({ group: s.group, identifier: s.identifier, status: s.status, status_name: statusName(s.group, s.identifier, s.status), details: s.details })),
      statuses,
      probing: store === undefined ? null : store.probing,
      prober: isLeader === undefined ? null : isLeader(),
      partitions,
      reports
    }
  })
}
