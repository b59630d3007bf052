/** The database: table types (hand-written, one *Table per table) and the kysely instance over a pg pool. */
import { Kysely, PostgresDialect, type Generated } from 'kysely'
import pg from 'pg'

export interface StatusGroupTable {
  name: string
  required: Generated<boolean>
  ring_size: Generated<number>
  created_at: Generated<Date>
}

export type Json = unknown
export type SortAlgorithm = 'ordered' | 'weighted' | 'hash' | 'least_loaded'
export type ProbeMode = 'never' | 'when_down' | 'always'
export type CallerGroupKind = 'cidr' | 'from_uri' | 'from_domain'

/** bigint identities come back from pg as strings; the repositories map them to numbers. */
export interface PartitionTable {
  id: Generated<string>
  name: string
  default_group: Generated<string>
  extra_prefix_chars: Generated<string>
  settings: Generated<Json>
  description: Generated<string>
  data_version: Generated<string>
  created_at: Generated<Date>
  updated_at: Generated<Date>
}

export interface GatewayTable {
  id: Generated<string>
  partition_id: string
  gw_id: string
  address: string
  strip: Generated<number>
  prefix: Generated<string>
  socket: Generated<string>
  attrs: Generated<Json>
  probe_mode: Generated<ProbeMode>
  weight: Generated<number>
  fr_timer: number | null
  fr_inv_timer: number | null
  max_calls: number | null
  max_cps: number | null
  enabled: Generated<boolean>
  description: Generated<string>
}

export interface CarrierTable {
  id: Generated<string>
  partition_id: string
  carrier_id: string
  sort: Generated<SortAlgorithm>
  first_only: Generated<boolean>
  max_calls: number | null
  max_cps: number | null
  enabled: Generated<boolean>
  attrs: Generated<Json>
  description: Generated<string>
}

export interface CarrierGatewayTable {
  carrier_id: string
  partition_id: string
  gateway_id: string
  position: number
  weight: Generated<number>
}

export interface RuleTable {
  /** Per partition: the key is (partition_id, id). */
  id: string
  partition_id: string
  groups: string[]
  prefix: Generated<string>
  priority: Generated<number>
  time_window: Json | null
  /** Migration 0007: a drouting/cfgutils time recurrence; null: none. */
  timerec: Generated<string | null>
  sort: Generated<SortAlgorithm>
  max_targets: number | null
  fallback: Generated<boolean>
  attrs: Generated<Json>
  enabled: Generated<boolean>
  description: Generated<string>
}

export interface RuleTargetTable {
  rule_id: string
  partition_id: string
  position: number
  gateway_id: string | null
  carrier_id: string | null
  weight: Generated<number>
}

export interface CallerGroupTable {
  id: Generated<string>
  partition_id: string
  kind: CallerGroupKind
  value: string
  group_name: string
  description: Generated<string>
}

export interface GatewayStateTable {
  partition: string
  gw_id: string
  state: 'active' | 'suspect' | 'down' | 'disabled'
  reason: Generated<string>
  since: string
  failures: Generated<string[]>
  good_probes: Generated<number>
  flaps: Generated<number>
  recent_flaps: Generated<string[]>
  down_until: Generated<string>
  probe: Generated<Json>
  version: Generated<string>
  updated_at: Generated<Date>
}

export interface CarrierStateTable {
  partition: string
  carrier_id: string
  enabled: boolean
  reason: Generated<string>
  since: string
  version: Generated<string>
}

export interface RuntimeSettingTable {
  key: string
  value: Json
  updated_at: Generated<Date>
}

/** One call offered to a limited gateway: a lease until started, then a call until ended (migrations/0005). */
export interface CallLeaseTable {
  partition: string
  call_id: string
  gw_id: string
  carrier_id: string | null
  routes: string[]
  carriers: string[]
  position: number
  state: 'lease' | 'call' | 'ended'
  offered_at: string
  started_at: string | null
  expires_at: string
  instance: string
}

export interface Database {
  status_group: StatusGroupTable
  partition: PartitionTable
  gateway: GatewayTable
  carrier: CarrierTable
  carrier_gateway: CarrierGatewayTable
  rule: RuleTable
  rule_target: RuleTargetTable
  caller_group: CallerGroupTable
  gateway_state: GatewayStateTable
  carrier_state: CarrierStateTable
  runtime_setting: RuntimeSettingTable
  call_lease: CallLeaseTable
}

export interface DbOptions {
  readonly url: string
  readonly poolMax: number
  /** Idle clients that lose their server emit errors; they must be logged, never thrown. */
  readonly onPoolError: (err: Error) => void
  readonly connectionTimeoutMs?: number
  /** A query without an answer by then fails instead of holding its caller forever (a silently dead connection). */
  readonly queryTimeoutMs?: number
  /** Every query's duration (failed ones too): slow queries raise E_CORE_THRESHOLD. */
  readonly onQuery?: (durationMs: number, sql: string) => void
}

export interface Db {
  readonly kysely: Kysely<Database>
  readonly pool: pg.Pool
  close: () => Promise<void>
}

export function createDb (options: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs ?? 60_000,
    application_name: 'rtroute'
  })
  pool.on('error', options.onPoolError)
  // A client that loses its server while checked out (between the statements of a transaction)
  // emits 'error' with no listener of the pool's: without this one, an outage would crash the process.
  pool.on('connect', (client) => { client.on('error', options.onPoolError) })
  const onQuery = options.onQuery
  const kysely = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    ...(onQuery === undefined ? {} : { log: (event) => { onQuery(event.queryDurationMillis, event.query.sql) } })
  })
  let closed: Promise<void> | undefined
  return {
    kysely,
    pool,
    // kysely's destroy() ends the pool; closing twice is harmless.
    close: async () => { closed ??= kysely.destroy(); await closed }
  }
}
