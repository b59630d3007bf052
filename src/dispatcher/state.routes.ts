/**
 * Admin view and control of gateway health (drouting:gw_status, carrier_status, enable_probing):
 * list and get state with reason, since, failures, flaps and probe latency; set a gateway
 * disabled/active or a carrier off/on with a reason; switch probing for every instance.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorSchema } from '../errors.js'
import { requireTable, type RouteTables } from '../routing/snapshot/route-tables.js'
import { EntityIdSchema, PartitionNameSchema } from '../routing/routing-data.schema.js'
import { PROBING_SETTING, type GatewayStateRepository, type StoredGatewayState } from './gateway-state.repository.js'
import { describeCapacity, type CapacityDescription, type CapacityStore } from './capacity-store.js'
import type { GatewayInfo, HealthStore } from './health-store.js'

export interface StateRoutesOptions {
  readonly tables: RouteTables
  readonly store: HealthStore
  readonly repository: Pick<GatewayStateRepository, 'ofPartition' | 'setCarrier' | 'setSetting'>
  /** Whether this instance holds the prober lock. */
  readonly isLeader: () => boolean
  /** Call counts of limited gateways and carriers; without it `capacity` is always null. */
  readonly capacity?: Pick<CapacityStore, 'gatewayUsage' | 'carrierUsage'>
  readonly now?: () => number
}

const iso = (ms: number): string => new Date(ms).toISOString()

export const CapacitySchema = Type.Union([Type.Object({
  max_calls: Type.Union([Type.Integer(), Type.Null()]),
  max_cps: Type.Union([Type.Integer(), Type.Null()]),
  calls: Type.Integer({ description: 'offered and not ended, cluster-wide: leases + started' }),
  started: Type.Integer({ description: 'answered (call start reported) and not ended' }),
  leases: Type.Integer({ description: 'offered, not yet reported started' }),
  cps: Type.Integer({ description: 'new calls in the last second' }),
  free: Type.Number({ description: 'relative free capacity, 0 (full) to 1; what least_loaded orders by' })
}), Type.Null()], { description: 'null when neither max_calls nor max_cps is set' })

const GatewayStateSchema = Type.Object({
  gateway: Type.String(),
  address: Type.String(),
  probe_mode: Type.String(),
  probed: Type.Boolean({ description: 'probed now: probe mode allows it and probing is on' }),
  state: Type.String({ description: 'active, suspect (failures counted, still routed), down (skipped), disabled (admin)' }),
  reason: Type.String(),
  since: Type.String({ format: 'date-time' }),
  failures: Type.Integer({ description: 'failures inside the window' }),
  flaps: Type.Integer({ description: 'times it went down' }),
  down_until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  probe: Type.Union([Type.Object({
    count: Type.Integer(),
    avg_ms: Type.Number(),
    max_ms: Type.Number(),
    timeouts: Type.Integer(),
    last_ms: Type.Union([Type.Number(), Type.Null()])
  }), Type.Null()]),
  capacity: CapacitySchema
})

const CarrierStateSchema = Type.Object({ carrier: Type.String(), enabled: Type.Boolean(), reason: Type.String(), since: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]), capacity: CapacitySchema })
const SetGatewaySchema = Type.Object({ state: Type.Union([Type.Literal('active'), Type.Literal('disabled')]), reason: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false })
const SetCarrierSchema = Type.Object({ enabled: Type.Boolean(), reason: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false })
const ProbingSchema = Type.Object({ enabled: Type.Boolean(), leader: Type.Boolean({ description: 'this instance probes' }) })
const Params = Type.Object({ partition: PartitionNameSchema })
const GatewayParams = Type.Object({ partition: PartitionNameSchema, gateway: EntityIdSchema })
const CarrierParams = Type.Object({ partition: PartitionNameSchema, carrier: EntityIdSchema })

function describe (info: GatewayInfo, record: StoredGatewayState | undefined, probed: boolean, now: number) {
  const h = record?.health
  const p = record?.probe
  return {
    gateway: info.id,
    address: info.address,
    probe_mode: info.probeMode,
    probed,
    state: h?.state ?? 'active',
    reason: h?.reason ?? 'initial',
    since: iso(h?.since ?? now),
    failures: h?.failures.length ?? 0,
    flaps: h?.flaps ?? 0,
    down_until: h !== undefined && h.downUntil > 0 ? iso(h.downUntil) : null,
    probe: p === undefined ? null : { count: p.count, avg_ms: p.avgMs, max_ms: p.maxMs, timeouts: p.timeouts, last_ms: p.lastMs ?? null }
  }
}

export const stateRoutes: FastifyPluginAsyncTypebox<StateRoutesOptions> = async (app, options) => {
  const { tables, store, repository, now = Date.now } = options

  const loaded = (partition: string): void => { requireTable(tables, partition) }
  const gatewayCapacity = (partition: string, gateway: string): CapacityDescription | null => {
    const compiled = requireTable(tables, partition).gateways.get(gateway)
    return compiled === undefined || options.capacity === undefined ? null : describeCapacity(compiled, options.capacity.gatewayUsage(partition, gateway))
  }
  const carrierCapacity = (partition: string, carrier: string): CapacityDescription | null => {
    const compiled = requireTable(tables, partition).carriers.get(carrier)
    return compiled === undefined || options.capacity === undefined ? null : describeCapacity(compiled, options.capacity.carrierUsage(partition, carrier))
  }
  const gatewayInfo = (partition: string, gateway: string): GatewayInfo => {
    loaded(partition)
    const info = store.gatewaysOf(partition).get(gateway)
    if (info === undefined) throw new AppError(404, 'not_found', `gateway "${gateway}" not found in partition "${partition}"`)
    return info
  }
  /** The database has the leader's latest probe statistics; memory answers when it is away. */
  const records = async (partition: string): Promise<Map<string, StoredGatewayState>> => {
    try {
      return new Map((await repository.ofPartition(partition)).map((r) => [r.gatewayId, r]))
    } catch {
      return new Map([...store.gatewaysOf(partition).keys()].flatMap((id) => { const r = store.get(partition, id); return r === undefined ? [] : [[id, r] as const] }))
    }
  }

  app.get('/v1/partitions/:partition/gateways/state', {
    schema: { tags: ['gateways'], summary: 'State of every gateway (drouting:gw_status)', params: Params, response: { 200: Type.Object({ items: Type.Array(GatewayStateSchema) }), 404: ErrorSchema, 503: ErrorSchema } }
  }, async (request) => {
    const { partition } = request.params
    loaded(partition)
    const stored = await records(partition)
    const items = [...store.gatewaysOf(partition).values()].sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((info) => ({ ...describe(info, stored.get(info.id) ?? store.get(partition, info.id), store.isProbed(partition, info.id), now()), capacity: gatewayCapacity(partition, info.id) }))
    return { items }
  })

  app.get('/v1/partitions/:partition/gateways/:gateway/state', {
    schema: { tags: ['gateways'], summary: 'State of one gateway', params: GatewayParams, response: { 200: GatewayStateSchema, 404: ErrorSchema, 503: ErrorSchema } }
  }, async (request) => {
    const { partition, gateway } = request.params
    const info = gatewayInfo(partition, gateway)
    const stored = (await records(partition)).get(gateway) ?? store.get(partition, gateway)
    return { ...describe(info, stored, store.isProbed(partition, gateway), now()), capacity: gatewayCapacity(partition, gateway) }
  })

  app.put('/v1/partitions/:partition/gateways/:gateway/state', {
    schema: {
      tags: ['gateways'],
      summary: 'Disable a gateway (never routed, never probed; survives reloads and restarts) or bring it back, with a reason',
      params: GatewayParams,
      body: SetGatewaySchema,
      response: { 200: GatewayStateSchema, 404: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request) => {
    const { partition, gateway } = request.params
    const info = gatewayInfo(partition, gateway)
    const stored = await store.adminSet(partition, gateway, request.body.state, request.body.reason)
    return { ...describe(info, stored, store.isProbed(partition, gateway), now()), capacity: gatewayCapacity(partition, gateway) }
  })

  app.get('/v1/partitions/:partition/carriers/state', {
    schema: { tags: ['carriers'], summary: 'Run-time state of every carrier (drouting:carrier_status)', params: Params, response: { 200: Type.Object({ items: Type.Array(CarrierStateSchema) }), 404: ErrorSchema, 503: ErrorSchema } }
  }, async (request) => {
    const { partition } = request.params
    const carriers = [...requireTable(tables, partition).carriers.keys()].sort()
    return { items: carriers.map((id) => ({ ...carrierState(store, partition, id), capacity: carrierCapacity(partition, id) })) }
  })

  app.put('/v1/partitions/:partition/carriers/:carrier/state', {
    schema: { tags: ['carriers'], summary: 'Switch a carrier off or on at run time, with a reason', params: CarrierParams, body: SetCarrierSchema, response: { 200: CarrierStateSchema, 404: ErrorSchema, 503: ErrorSchema } }
  }, async (request) => {
    const { partition, carrier } = request.params
    if (!requireTable(tables, partition).carriers.has(carrier)) throw new AppError(404, 'not_found', `carrier "${carrier}" not found in partition "${partition}"`)
    store.receiveCarrier(await repository.setCarrier(partition, carrier, request.body.enabled, `admin: ${request.body.reason}`, now()))
    return { ...carrierState(store, partition, carrier), capacity: carrierCapacity(partition, carrier) }
  })

  app.get('/v1/probing', {
    schema: { tags: ['gateways'], summary: 'Whether gateways are probed (drouting:enable_probing), and whether this instance is the prober', response: { 200: ProbingSchema } }
  }, async () => ({ enabled: store.probing, leader: options.isLeader() }))

  app.put('/v1/probing', {
    schema: { tags: ['gateways'], summary: 'Switch probing on or off for every instance (e.g. while a VIP moves)', body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), response: { 200: ProbingSchema, 503: ErrorSchema } }
  }, async (request) => {
    await repository.setSetting(PROBING_SETTING, { enabled: request.body.enabled })
    store.setProbing(request.body.enabled)
    return { enabled: store.probing, leader: options.isLeader() }
  })
}

function carrierState (store: HealthStore, partition: string, carrier: string) {
  const stored = store.carrierOf(partition, carrier)
  return { carrier, enabled: stored?.enabled ?? true, reason: stored?.reason ?? '', since: stored === undefined ? null : iso(stored.since) }
}
