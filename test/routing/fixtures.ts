/** Small routing-data builders for the pure routing tests: every field defaulted, override what matters. */
import type { GatewayHealthView, GatewayState, RouteQuery } from '../../src/routing/decide/decision.js'
import type { CompiledPartition } from '../../src/routing/snapshot/compiled.js'
import { compileRouteTable } from './compile.js'
import type {
  CallerGroupData, CarrierData, GatewayData, PartitionData, RuleData, RuleTargetData
} from '../../src/routing/routing-data.schema.js'

export function gateway (id: string, address = `10.0.0.${id.replace(/\D/g, '') || '1'}:5060`, overrides: Partial<GatewayData> = {}): GatewayData {
  return {
    id,
    address,
    strip: 0,
    prefix: '',
    socket: '',
    attrs: {},
    probe_mode: 'never',
    weight: 1,
    fr_timer: null,
    fr_inv_timer: null,
    max_calls: null,
    max_cps: null,
    enabled: true,
    description: '',
    ...overrides
  }
}

/** Members as ids (weight 1) or [id, weight] pairs. */
export function carrier (id: string, members: Array<string | [string, number]>, overrides: Partial<CarrierData> = {}): CarrierData {
  return {
    id,
    sort: 'ordered',
    first_only: false,
    max_calls: null,
    max_cps: null,
    enabled: true,
    attrs: {},
    description: '',
    gateways: members.map((m) => (typeof m === 'string' ? { gateway: m, weight: 1 } : { gateway: m[0], weight: m[1] })),
    ...overrides
  }
}

/** Targets as 'gw1' (gateway), '#cr1' (carrier, drouting notation) or 'gw1=10' / '#cr1=80' with a weight. */
export function targets (...list: string[]): RuleTargetData[] {
  return list.map((item) => {
    const [name = '', weight] = item.split('=')
    const w = weight === undefined ? {} : { weight: Number(weight) }
    return name.startsWith('#') ? { carrier: name.slice(1), ...w } : { gateway: name, ...w }
  })
}

export function rule (id: number, prefix: string, list: string[], overrides: Partial<RuleData> = {}): RuleData {
  return {
    id,
    groups: ['default'],
    prefix,
    priority: 0,
    time_window: null,
    targets: targets(...list),
    sort: 'ordered',
    max_targets: null,
    fallback: false,
    attrs: {},
    enabled: true,
    description: '',
    ...overrides
  }
}

export function callerGroup (kind: CallerGroupData['kind'], value: string, group: string): CallerGroupData {
  return { kind, value, group, description: '' }
}

export interface DataParts {
  gateways?: GatewayData[]
  carriers?: CarrierData[]
  rules?: RuleData[]
  callerGroups?: CallerGroupData[]
  defaultGroup?: string
  extraPrefixChars?: string
}

export function partitionData (parts: DataParts): PartitionData {
  return {
    partition: { default_group: parts.defaultGroup ?? 'default', extra_prefix_chars: parts.extraPrefixChars ?? '', description: '', settings: {} },
    gateways: parts.gateways ?? [],
    carriers: parts.carriers ?? [],
    rules: parts.rules ?? [],
    caller_groups: parts.callerGroups ?? []
  }
}

/** Gateways gw1..gwN at 10.0.0.1..N:5060. */
export const gateways = (n: number, overrides: Partial<GatewayData> = {}): GatewayData[] =>
  Array.from({ length: n }, (_, i) => gateway(`gw${i + 1}`, `10.0.0.${i + 1}:5060`, overrides))

export function table (parts: DataParts): CompiledPartition {
  return compileRouteTable(partitionData(parts), { partition: 'default', version: 1 }).table
}

export function health (states: Record<string, GatewayState> = {}): GatewayHealthView {
  return { stateOf: (id) => states[id] }
}

export const ALL_ACTIVE = health()

export function query (overrides: Partial<RouteQuery> = {}): RouteQuery {
  return { callId: 'call-1@test', requestUri: 'sip:442071838750@sbc.example.com', ...overrides }
}

/** A fixed instant: Wednesday 2026-01-14 12:00:00 UTC. */
export const NOON_WEDNESDAY = Date.UTC(2026, 0, 14, 12, 0, 0)
