/** Read-only views of what is loaded and how healthy it is, shared by the scrape-time gauges, the overview and alert summaries. */
import type { GatewayState } from '../routing/decide/decision.js'
import { describeCapacity, type CapacityDescription, type CapacityStore } from '../dispatcher/capacity-store.js'
import type { HealthStore } from '../dispatcher/health-store.js'
import type { RouteTables } from '../routing/snapshot/route-tables.js'
import type { StatusRegistry } from '../status/status-registry.js'
import type { AlertProblems } from './alerts.js'

export interface PartitionView {
  readonly name: string
  readonly status: number
  readonly details: string
  /** Of the served snapshot; undefined before the first load. */
  readonly version: number | undefined
  readonly checksum: string | undefined
}

export interface GatewayView {
  readonly partition: string
  readonly gateway: string
  readonly address: string
  readonly state: GatewayState
  readonly reason: string
  /** ms epoch of the last change, or of when this instance loaded a gateway that never changed; undefined before that. */
  readonly since: number | undefined
  readonly failures: number
}

export function * partitionViews (tables: Pick<RouteTables, 'partitions' | 'identifier' | 'lookup'>): Generator<PartitionView> {
  for (const name of tables.partitions()) {
    const identifier = tables.identifier(name)
    if (identifier === undefined) continue
    const found = tables.lookup(name)
    const table = found.state === 'ready' ? found.table : undefined
    yield { name, status: identifier.status, details: identifier.details, version: table?.version, checksum: table?.checksum }
  }
}

/** Every loaded gateway: the health store knows which gateways each partition's data holds. */
export function * gatewayViews (store: Pick<HealthStore, 'partitions' | 'gatewaysOf' | 'get'>, partition?: string): Generator<GatewayView> {
  for (const p of partition === undefined ? store.partitions() : [partition]) {
    for (const info of store.gatewaysOf(p).values()) {
      const health = store.get(p, info.id)?.health
      yield {
        partition: p,
        gateway: info.id,
        address: info.address,
        state: health?.state ?? 'active',
        reason: health?.reason ?? 'initial',
        since: health?.since,
        failures: health?.failures.length ?? 0
      }
    }
  }
}

/** Every current problem, for alert summaries: not-ready identifiers of required groups, down gateways. */
export function currentProblems (registry: Pick<StatusRegistry, 'readiness'>, store: Pick<HealthStore, 'partitions' | 'gatewaysOf' | 'get'> | undefined): AlertProblems {
  const notReady = registry.readiness().notReady.map((s) => ({ group: s.group, identifier: s.identifier, status: s.status, details: s.details }))
  const down = store === undefined
    ? []
    : [...gatewayViews(store)].filter((g) => g.state === 'down').map((g) => ({
        partition: g.partition, gateway: g.gateway, address: g.address, reason: g.reason, since: new Date(g.since ?? 0).toISOString()
      }))
  return { not_ready: notReady, gateways_down: down }
}

export interface CapacityView extends CapacityDescription {
  readonly partition: string
  readonly kind: 'gateway' | 'carrier'
  readonly name: string
}

/** Every limited gateway and carrier of the served snapshots, with its counts. */
export function * capacityViews (tables: Pick<RouteTables, 'partitions' | 'lookup'>, capacity: Pick<CapacityStore, 'gatewayUsage' | 'carrierUsage'>): Generator<CapacityView> {
  for (const partition of tables.partitions()) {
    const found = tables.lookup(partition)
    if (found.state !== 'ready') continue
    for (const gateway of found.table.gateways.values()) {
      const d = describeCapacity(gateway, capacity.gatewayUsage(partition, gateway.id))
      if (d !== null) yield { partition, kind: 'gateway', name: gateway.id, ...d }
    }
    for (const carrier of found.table.carriers.values()) {
      const d = describeCapacity(carrier, capacity.carrierUsage(partition, carrier.id))
      if (d !== null) yield { partition, kind: 'carrier', name: carrier.id, ...d }
    }
  }
}
