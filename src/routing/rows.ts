/**
 * The one mapping between table rows and the wire shapes of routing-data.schema.ts, used by the
 * CRUD repositories, the import/export document and the snapshot loader alike.
 */
import type { Selectable } from 'kysely'
import type { CallerGroupTable, CarrierTable, GatewayTable, PartitionTable, RuleTable } from '../db.js'
import type {
  CallerGroupData, CarrierData, GatewayData, PartitionOut, RuleData, RuleTargetData, TimeWindowData
} from './routing-data.schema.js'

type Attrs = Record<string, unknown>
const attrs = (value: unknown): Attrs => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Attrs : {})

export function partitionFromRow (row: Selectable<PartitionTable>): PartitionOut {
  return {
    name: row.name,
    default_group: row.default_group,
    extra_prefix_chars: row.extra_prefix_chars,
    description: row.description,
    settings: attrs(row.settings),
    data_version: Number(row.data_version),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}

export function gatewayFromRow (row: Selectable<GatewayTable>): GatewayData {
  return {
    id: row.gw_id,
    address: row.address,
    strip: row.strip,
    prefix: row.prefix,
    socket: row.socket,
    attrs: attrs(row.attrs),
    probe_mode: row.probe_mode,
    weight: row.weight,
    fr_timer: row.fr_timer,
    fr_inv_timer: row.fr_inv_timer,
    max_calls: row.max_calls,
    max_cps: row.max_cps,
    enabled: row.enabled,
    description: row.description
  }
}

/** Column values of a gateway (without partition and surrogate id). */
export function gatewayToRow (gateway: GatewayData) {
  return {
    gw_id: gateway.id,
    address: gateway.address,
    strip: gateway.strip,
    prefix: gateway.prefix,
    socket: gateway.socket,
    attrs: JSON.stringify(gateway.attrs),
    probe_mode: gateway.probe_mode,
    weight: gateway.weight,
    fr_timer: gateway.fr_timer,
    fr_inv_timer: gateway.fr_inv_timer,
    max_calls: gateway.max_calls,
    max_cps: gateway.max_cps,
    enabled: gateway.enabled,
    description: gateway.description
  }
}

/** `members` are the carrier's gateways in position order, by gateway id. */
export function carrierFromRow (row: Selectable<CarrierTable>, members: Array<{ gateway: string, weight: number }>): CarrierData {
  return {
    id: row.carrier_id,
    sort: row.sort,
    first_only: row.first_only,
    max_calls: row.max_calls,
    max_cps: row.max_cps,
    enabled: row.enabled,
    attrs: attrs(row.attrs),
    description: row.description,
    gateways: members
  }
}

export function carrierToRow (carrier: CarrierData) {
  return {
    carrier_id: carrier.id,
    sort: carrier.sort,
    first_only: carrier.first_only,
    max_calls: carrier.max_calls,
    max_cps: carrier.max_cps,
    enabled: carrier.enabled,
    attrs: JSON.stringify(carrier.attrs),
    description: carrier.description
  }
}

/** `targets` are the rule's targets in position order, by gateway/carrier id. */
export function ruleFromRow (row: Selectable<RuleTable>, targets: RuleTargetData[]): RuleData {
  return {
    id: Number(row.id),
    groups: row.groups,
    prefix: row.prefix,
    priority: row.priority,
    time_window: row.time_window === null ? null : row.time_window as TimeWindowData,
    ...(row.timerec === null ? {} : { timerec: row.timerec }),
    targets: targets.map((t) => ('gateway' in t ? { gateway: t.gateway, weight: t.weight ?? 1 } : { carrier: t.carrier, weight: t.weight ?? 1 })),
    sort: row.sort,
    max_targets: row.max_targets,
    fallback: row.fallback,
    attrs: attrs(row.attrs),
    enabled: row.enabled,
    description: row.description
  }
}

export function ruleToRow (rule: Omit<RuleData, 'id'>) {
  return {
    groups: rule.groups,
    prefix: rule.prefix,
    priority: rule.priority,
    time_window: rule.time_window === null ? null : JSON.stringify(rule.time_window),
    timerec: rule.timerec ?? null,
    sort: rule.sort,
    max_targets: rule.max_targets,
    fallback: rule.fallback,
    attrs: JSON.stringify(rule.attrs),
    enabled: rule.enabled,
    description: rule.description
  }
}

export function callerGroupFromRow (row: Selectable<CallerGroupTable>): CallerGroupData {
  return { kind: row.kind, value: row.value, group: row.group_name, description: row.description }
}

export function callerGroupToRow (group: CallerGroupData) {
  return { kind: group.kind, value: group.value, group_name: group.group, description: group.description }
}
