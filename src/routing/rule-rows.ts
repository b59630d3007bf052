/**
 * The rules and gateways of a partition as the snapshot loader reads them, in pages; one row per
 * rule with its targets folded into one text by PostgreSQL. A million rules have two million targets, and a row per
 * target (joined to its gateway or carrier name) cost more than the rest of the read together, in
 * pg's row parsing and in the server's sort; the names come from the gateway and carrier rows
 * the same transaction already read.
 */
import { sql, type Selectable, type Transaction } from 'kysely'
import type { Database, GatewayTable, RuleTable } from '../db.js'
import type { RuleTargetData } from './routing-data.schema.js'

export type RuleRowWithTargets = Selectable<RuleTable> & {
  /** `g<gateway row id>:<weight>` or `c<carrier row id>:<weight>`, comma-separated in position order; null: none. */
  readonly targets: string | null
}

/**
 * Rows per page. libuv reads a socket up to 32 times in one turn, and pg parses every complete
 * row it gets there: one unpaged result of a million rules held the event loop for about 100 ms
 * at a time. A page of this size is well under a millisecond of parsing per socket read.
 */
export const RULE_PAGE = 2000

/** Every rule of the partition, in id order, read in pages inside the caller's transaction (one snapshot). */
export async function selectRulesWithTargets (trx: Transaction<Database>, partitionId: string): Promise<RuleRowWithTargets[]> {
  const out: RuleRowWithTargets[] = []
  let after = '0'
  for (;;) {
    const { rows } = await sql<RuleRowWithTargets>`
      SELECT r.*, (
        SELECT string_agg(coalesce('g' || t.gateway_id, 'c' || t.carrier_id) || ':' || t.weight, ',' ORDER BY t.position)
        FROM rule_target t WHERE t.partition_id = r.partition_id AND t.rule_id = r.id
      ) AS targets
      FROM rule r
      WHERE r.partition_id = ${partitionId} AND r.id > ${after}
      ORDER BY r.id LIMIT ${RULE_PAGE}`.execute(trx)
    for (const row of rows) out.push(row)
    if (rows.length < RULE_PAGE) return out
    after = (rows[rows.length - 1] as RuleRowWithTargets).id
  }
}

/** The partition's gateways in gw_id byte order (COLLATE "C", as exports sort them), in pages like the rules. */
export async function selectGateways (trx: Transaction<Database>, partitionId: string): Promise<Array<Selectable<GatewayTable>>> {
  const out: Array<Selectable<GatewayTable>> = []
  let after: string | undefined
  for (;;) {
    const { rows } = await sql<Selectable<GatewayTable>>`
      SELECT * FROM gateway
      WHERE partition_id = ${partitionId} ${after === undefined ? sql`` : sql`AND gw_id COLLATE "C" > ${after}`}
      ORDER BY gw_id COLLATE "C" LIMIT ${RULE_PAGE}`.execute(trx)
    for (const row of rows) out.push(row)
    if (rows.length < RULE_PAGE) return out
    after = (rows[rows.length - 1] as Selectable<GatewayTable>).gw_id
  }
}

/** Row id → name, of the partition's gateways and carriers. */
export interface TargetNames {
  readonly gateways: ReadonlyMap<string, string>
  readonly carriers: ReadonlyMap<string, string>
}

/**
 * The targets of one rule, as the former per-target join gave them: a gateway by its name, else
 * the carrier's name ('' when it has none: the foreign keys make that impossible).
 */
export function targetsFromText (text: string | null, names: TargetNames): RuleTargetData[] {
  if (text === null || text === '') return []
  const out: RuleTargetData[] = []
  for (const item of text.split(',')) {
    const colon = item.indexOf(':')
    const id = item.slice(1, colon)
    const weight = Number(item.slice(colon + 1))
    const gateway = item.charCodeAt(0) === 103 /* g */ ? names.gateways.get(id) : undefined
    out.push(gateway !== undefined ? { gateway, weight } : { carrier: item.charCodeAt(0) === 99 /* c */ ? names.carriers.get(id) ?? '' : '', weight })
  }
  return out
}
