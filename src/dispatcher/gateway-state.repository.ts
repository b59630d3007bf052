/**
 * Shared gateway health in PostgreSQL. A change is one transaction: lock the row, compute the
 * transition (pure, passed in), write it with version + 1, and NOTIFY rtroute_gateway with the
 * new row, which every instance (this one too) applies to its memory.
 */
import { sql, type Kysely, type Selectable } from 'kysely'
import type { Database, GatewayStateTable } from '../db.js'
import { inTransaction } from '../db-errors.js'
import type { GatewayHealth, HealthState } from './gateway-state.js'
import type { ProbeStats } from './probe-stats.js'

export const GATEWAY_CHANNEL = 'rtroute_gateway'
export const CARRIER_CHANNEL = 'rtroute_carrier'
export const SETTING_CHANNEL = 'rtroute_setting'
/** The settings key of the cluster-wide probing switch (PUT /v1/probing). */
export const PROBING_SETTING = 'probing'

/** A gateway's shared record, as kept in memory and sent in notifications. */
export interface StoredGatewayState {
  readonly partition: string
  readonly gatewayId: string
  readonly health: GatewayHealth
  readonly probe: ProbeStats | undefined
  readonly version: number
  /** In notifications only: which instance's queued event this write applied (see HealthStore). */
  readonly origin?: string
  readonly seq?: number
}

/** Tags a write with the event it applies, so the instance that queued it recognises its own confirmation. */
export interface WriteTag {
  readonly origin: string
  readonly seq: number
}

export interface StoredCarrierState {
  readonly partition: string
  readonly carrierId: string
  readonly enabled: boolean
  readonly reason: string
  readonly since: number
  readonly version: number
}

const toNumbers = (values: readonly string[]): number[] => values.map(Number)

export function fromRow (row: Selectable<GatewayStateTable>): StoredGatewayState {
  const probe = row.probe as Partial<ProbeStats>
  return {
    partition: row.partition,
    gatewayId: row.gw_id,
    health: {
      state: row.state as HealthState,
      reason: row.reason,
      since: Number(row.since),
      failures: toNumbers(row.failures),
      goodProbes: row.good_probes,
      flaps: row.flaps,
      recentFlaps: toNumbers(row.recent_flaps),
      downUntil: Number(row.down_until)
    },
    probe: typeof probe.count === 'number' ? probe as ProbeStats : undefined,
    version: Number(row.version)
  }
}

function toColumns (health: GatewayHealth) {
  return {
    state: health.state,
    reason: health.reason,
    since: String(health.since),
    failures: health.failures.map(String),
    good_probes: health.goodProbes,
    flaps: health.flaps,
    recent_flaps: health.recentFlaps.map(String),
    down_until: String(health.downUntil)
  }
}

/** What a change computes from the stored record (undefined: none yet); undefined back means no change. */
export type Transition = (current: StoredGatewayState | undefined) => { health: GatewayHealth, probe?: ProbeStats } | undefined

export function createGatewayStateRepository (db: Kysely<Database>) {
  return {
    async all (): Promise<StoredGatewayState[]> {
      return (await db.selectFrom('gateway_state').selectAll().execute()).map(fromRow)
    },

    async ofPartition (partition: string): Promise<StoredGatewayState[]> {
      return (await db.selectFrom('gateway_state').selectAll().where('partition', '=', partition).execute()).map(fromRow)
    },

    /** Applies one transition under the row's lock; the new record, or undefined when nothing changed. */
    async apply (partition: string, gatewayId: string, transition: Transition, tag?: WriteTag): Promise<StoredGatewayState | undefined> {
      return await inTransaction(db, 'write', async (trx) => {
        const row = await trx.selectFrom('gateway_state').selectAll()
          .where('partition', '=', partition).where('gw_id', '=', gatewayId).forUpdate().executeTakeFirst()
        const current = row === undefined ? undefined : fromRow(row)
        const next = transition(current)
        if (next === undefined) return undefined
        const probe = next.probe ?? current?.probe
        const columns = { ...toColumns(next.health), probe: JSON.stringify(probe ?? {}), version: String((current?.version ?? 0) + 1) }
        const written = await trx.insertInto('gateway_state')
          .values({ partition, gw_id: gatewayId, ...columns })
          .onConflict((oc) => oc.columns(['partition', 'gw_id']).doUpdateSet({ ...columns, updated_at: sql`now()` }))
          .returningAll().executeTakeFirstOrThrow()
        const stored = fromRow(written)
        // Delivered at commit, to every listening instance; the payload stays far under NOTIFY's 8000 bytes.
        await sql`SELECT pg_notify(${GATEWAY_CHANNEL}, ${JSON.stringify({ ...stored, ...tag })})`.execute(trx)
        return stored
      })
    },

    /** Probe statistics only: no state change, no notification (admin reads come from here). */
    async saveProbeStats (partition: string, stats: ReadonlyMap<string, ProbeStats>): Promise<void> {
      if (stats.size === 0) return
      const values = [...stats].map(([gw, probe]) => sql`(${gw}::text, ${JSON.stringify(probe)}::jsonb)`)
      await sql`UPDATE gateway_state AS s SET probe = v.probe FROM (VALUES ${sql.join(values)}) AS v(gw_id, probe)
                WHERE s.partition = ${partition} AND s.gw_id = v.gw_id`.execute(db)
    },

    async carriers (): Promise<StoredCarrierState[]> {
      const rows = await db.selectFrom('carrier_state').selectAll().execute()
      return rows.map((r) => ({ partition: r.partition, carrierId: r.carrier_id, enabled: r.enabled, reason: r.reason, since: Number(r.since), version: Number(r.version) }))
    },

    async setCarrier (partition: string, carrierId: string, enabled: boolean, reason: string, now: number): Promise<StoredCarrierState> {
      return await inTransaction(db, 'write', async (trx) => {
        const row = await trx.insertInto('carrier_state')
          .values({ partition, carrier_id: carrierId, enabled, reason, since: String(now) })
          .onConflict((oc) => oc.columns(['partition', 'carrier_id']).doUpdateSet({ enabled, reason, since: String(now), version: sql`carrier_state.version + 1` }))
          .returningAll().executeTakeFirstOrThrow()
        const stored = { partition, carrierId, enabled: row.enabled, reason: row.reason, since: Number(row.since), version: Number(row.version) }
        await sql`SELECT pg_notify(${CARRIER_CHANNEL}, ${JSON.stringify(stored)})`.execute(trx)
        return stored
      })
    },

    async getSetting<T> (key: string): Promise<T | undefined> {
      const row = await db.selectFrom('runtime_setting').select('value').where('key', '=', key).executeTakeFirst()
      return row === undefined ? undefined : row.value as T
    },

    async setSetting (key: string, value: unknown): Promise<void> {
      const json = JSON.stringify(value)
      await inTransaction(db, 'write', async (trx) => {
        await trx.insertInto('runtime_setting').values({ key, value: json })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: sql`now()` })).execute()
        await sql`SELECT pg_notify(${SETTING_CHANNEL}, ${JSON.stringify({ key, value })})`.execute(trx)
      })
    }
  }
}
export type GatewayStateRepository = ReturnType<typeof createGatewayStateRepository>
