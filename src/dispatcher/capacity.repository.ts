/**
 * The shared call table (migrations/0005_capacity.sql): one flush writes a batch of call events in
 * one transaction, set-wise (each kind is one statement over a JSON array, whatever the batch
 * size), and one query reads every limited gateway's and carrier's counts back.
 */
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db.js'
import { inTransaction } from '../db-errors.js'
import { sharedKey, type CallEventRow, type LedgerBatch, type SharedCount } from './ledger-rows.js'

/** Expired rows are deleted this long after they stopped counting. */
const SWEEP_GRACE_MS = 60_000

/** Splits events so that no call appears twice in one statement (an UPDATE … FROM applies one source row per target row). */
function rounds (events: readonly CallEventRow[]): CallEventRow[][] {
  const out: CallEventRow[][] = []
  const seen = new Map<string, number>()
  for (const event of events) {
    const key = `${event.partition}\u0000${event.callId}`
    const round = seen.get(key) ?? 0
    seen.set(key, round + 1)
    ;(out[round] ??= []).push(event)
  }
  return out
}

const eventJson = (events: readonly CallEventRow[]): string =>
  JSON.stringify(events.map((e) => ({ partition: e.partition, call_id: e.callId, gw_id: e.gateway, at: e.at, expires_at: e.expiresAt, ins: e.insert })))

export function createCapacityRepository (db: Kysely<Database>) {
  return {
    async flush (batch: LedgerBatch, instance: string): Promise<void> {
      await inTransaction(db, 'write', async (trx) => {
        if (batch.offers.length > 0) {
          const rows = JSON.stringify(batch.offers.map((r) => ({
            partition: r.partition,
            call_id: r.callId,
            gw_id: r.gateway,
            carrier_id: r.carrier,
            routes: r.routes.map((route) => route.gateway),
            carriers: r.routes.map((route) => route.carrier),
            position: r.position,
            state: r.state,
            offered_at: r.offeredAt,
            started_at: r.startedAt,
            expires_at: r.expiresAt
          })))
          // A partition deleted meanwhile takes its calls with it; its rows are skipped, not an error.
          await sql`
            INSERT INTO call_lease (partition, call_id, gw_id, carrier_id, routes, carriers, position, state, offered_at, started_at, expires_at, instance)
            SELECT x.partition, x.call_id, x.gw_id, NULLIF(x.carrier_id, ''), x.routes, x.carriers, x.position, x.state, x.offered_at, x.started_at, x.expires_at, ${instance}
            FROM jsonb_to_recordset(${rows}::jsonb) AS x(partition text, call_id text, gw_id text, carrier_id text, routes text[], carriers text[],
                                                         position integer, state text, offered_at bigint, started_at bigint, expires_at bigint)
            WHERE EXISTS (SELECT 1 FROM partition p WHERE p.name = x.partition)
            ON CONFLICT (partition, call_id) DO UPDATE SET
              gw_id = EXCLUDED.gw_id, carrier_id = EXCLUDED.carrier_id, routes = EXCLUDED.routes, carriers = EXCLUDED.carriers,
              position = EXCLUDED.position, state = EXCLUDED.state, offered_at = EXCLUDED.offered_at,
              started_at = EXCLUDED.started_at, expires_at = EXCLUDED.expires_at, instance = EXCLUDED.instance
            WHERE call_lease.state <> 'ended'`.execute(trx)
        }
        for (const round of rounds(batch.failovers)) {
          const events = eventJson(round)
          // The failed gateway held the lease: it moves to the next route, or ends after the last.
          await sql`
            DELETE FROM call_lease c USING jsonb_to_recordset(${events}::jsonb) AS x(partition text, call_id text, gw_id text)
            WHERE c.partition = x.partition AND c.call_id = x.call_id AND c.gw_id = x.gw_id AND c.state = 'lease'
              AND c.position + 1 >= cardinality(c.routes)`.execute(trx)
          // (A lease that ran out of routes is simply gone: the proxy's final end follows and leaves the tombstone.)
          await sql`
            UPDATE call_lease c SET position = c.position + 1, gw_id = c.routes[c.position + 2],
              carrier_id = NULLIF(c.carriers[c.position + 2], ''), offered_at = x.at, expires_at = x.expires_at
            FROM jsonb_to_recordset(${events}::jsonb) AS x(partition text, call_id text, gw_id text, at bigint, expires_at bigint)
            WHERE c.partition = x.partition AND c.call_id = x.call_id AND c.gw_id = x.gw_id AND c.state = 'lease'`.execute(trx)
        }
        for (const round of rounds(batch.starts)) {
          const events = eventJson(round)
          // A named gateway other than the leased one wins: the proxy knows which branch answered.
          await sql`
            UPDATE call_lease c SET state = 'call', started_at = COALESCE(c.started_at, x.at), expires_at = x.expires_at,
              gw_id = COALESCE(x.gw_id, c.gw_id),
              carrier_id = CASE WHEN x.gw_id IS NULL OR x.gw_id = c.gw_id THEN c.carrier_id
                                ELSE NULLIF(c.carriers[array_position(c.routes, x.gw_id)], '') END,
              position = CASE WHEN x.gw_id IS NULL OR x.gw_id = c.gw_id THEN c.position
                              ELSE COALESCE(array_position(c.routes, x.gw_id) - 1, c.position) END
            FROM jsonb_to_recordset(${events}::jsonb) AS x(partition text, call_id text, gw_id text, at bigint, expires_at bigint)
            WHERE c.partition = x.partition AND c.call_id = x.call_id AND c.state <> 'ended'`.execute(trx)
          // No lease (expired, or never taken) but a limited gateway answered: the call counts from now.
          await sql`
            INSERT INTO call_lease (partition, call_id, gw_id, routes, carriers, position, state, offered_at, started_at, expires_at, instance)
            SELECT x.partition, x.call_id, x.gw_id, ARRAY[x.gw_id], ARRAY[''], 0, 'call', x.at, x.at, x.expires_at, ${instance}
            FROM jsonb_to_recordset(${events}::jsonb) AS x(partition text, call_id text, gw_id text, at bigint, expires_at bigint, ins boolean)
            WHERE x.ins AND x.gw_id IS NOT NULL AND EXISTS (SELECT 1 FROM partition p WHERE p.name = x.partition)
            ON CONFLICT (partition, call_id) DO NOTHING`.execute(trx)
        }
        for (const round of rounds(batch.ends.map((e) => ({ partition: e.partition, callId: e.callId, gateway: null, insert: false, at: e.at, expiresAt: e.until })))) {
          // A tombstone, not a delete: an offer of this call still on its way from another instance stays ended.
          await sql`
            INSERT INTO call_lease (partition, call_id, gw_id, state, offered_at, expires_at, instance)
            SELECT x.partition, x.call_id, '', 'ended', x.at, x.expires_at, ${instance}
            FROM jsonb_to_recordset(${eventJson(round)}::jsonb) AS x(partition text, call_id text, at bigint, expires_at bigint)
            WHERE EXISTS (SELECT 1 FROM partition p WHERE p.name = x.partition)
            ON CONFLICT (partition, call_id) DO UPDATE SET state = 'ended', gw_id = '', carrier_id = NULL,
              expires_at = EXCLUDED.expires_at`.execute(trx)
        }
      })
    },

    /** Every gateway's and carrier's live rows: all, started, and other instances' offers of the last second. */
    async counts (now: number, instance: string): Promise<Map<string, SharedCount>> {
      const { rows } = await sql<{ partition: string, kind: 'gateway' | 'carrier', id: string, calls: number, started: number, others_cps: number }>`
        SELECT partition, 'gateway' AS kind, gw_id AS id, count(*)::int AS calls,
               count(*) FILTER (WHERE state = 'call')::int AS started,
               count(*) FILTER (WHERE offered_at > ${now - 1000} AND instance <> ${instance})::int AS others_cps
        FROM call_lease WHERE expires_at > ${now} AND state <> 'ended' GROUP BY partition, gw_id
        UNION ALL
        SELECT partition, 'carrier', carrier_id, count(*)::int,
               count(*) FILTER (WHERE state = 'call')::int,
               count(*) FILTER (WHERE offered_at > ${now - 1000} AND instance <> ${instance})::int
        FROM call_lease WHERE expires_at > ${now} AND state <> 'ended' AND carrier_id IS NOT NULL GROUP BY partition, carrier_id`.execute(db)
      const out = new Map<string, SharedCount>()
      for (const row of rows) out.set(sharedKey(row.partition, row.kind, row.id), { calls: row.calls, started: row.started, othersCps: row.others_cps })
      return out
    },

    /** Deletes rows that stopped counting a while ago; returns how many. */
    async sweep (now: number): Promise<number> {
      const result = await db.deleteFrom('call_lease').where('expires_at', '<', String(now - SWEEP_GRACE_MS)).executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}
export type CapacityRepository = ReturnType<typeof createCapacityRepository>
