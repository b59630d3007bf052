/**
 * The routing snapshot's reads: a partition's head (everything but its rules, with what names the
 * rules' targets) and its rules page by page, in one consistent read transaction; and the data
 * version of every partition, for the safety sweep.
 */
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import { callerGroupFromRow, carrierFromRow, gatewayFromRow } from '../rows.js'
import type { PartitionHead, RulePage } from './compiled.js'
import { ruleDataPages, selectGateways, type TargetNames } from './rule-pages.js'

function groupBy<T> (rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const row of rows) {
    const k = key(row)
    const list = out.get(k)
    if (list === undefined) out.set(k, [row])
    else list.push(row)
  }
  return out
}

/** A partition's data without its rules, and what names the rules' targets. */
export interface Head {
  readonly id: string
  readonly version: number
  readonly head: PartitionHead
  readonly names: TargetNames
}

export async function readHead (trx: Transaction<Database>, name: string): Promise<Head | undefined> {
  const partition = await trx.selectFrom('partition').selectAll().where('name', '=', name).executeTakeFirst()
  if (partition === undefined) return undefined
  const pid = partition.id
  // COLLATE "C": byte order, so an export is the same whatever the server's locale.
  const [gateways, carriers, members, callerGroups] = await Promise.all([
    selectGateways(trx, pid),
    trx.selectFrom('carrier').selectAll().where('partition_id', '=', pid).orderBy(sql`carrier_id COLLATE "C"`).execute(),
    trx.selectFrom('carrier_gateway as m').innerJoin('gateway as g', 'g.id', 'm.gateway_id')
      .select(['m.carrier_id', 'g.gw_id', 'm.weight']).where('m.partition_id', '=', pid).orderBy('m.carrier_id').orderBy('m.position').execute(),
    trx.selectFrom('caller_group').selectAll().where('partition_id', '=', pid).orderBy('kind').orderBy(sql`value COLLATE "C"`).execute()
  ])
  const membersOf = groupBy(members, (m) => m.carrier_id)
  return {
    id: pid,
    version: Number(partition.data_version),
    // The rules' targets are named from these rows as each page arrives.
    names: { gateways: new Map(gateways.map((g) => [g.id, g.gw_id])), carriers: new Map(carriers.map((c) => [c.id, c.carrier_id])) },
    head: {
      partition: { default_group: partition.default_group, extra_prefix_chars: partition.extra_prefix_chars, description: partition.description, settings: (partition.settings ?? {}) as Record<string, unknown> },
      gateways: gateways.map(gatewayFromRow),
      carriers: carriers.map((c) => carrierFromRow(c, (membersOf.get(c.id) ?? []).map((m) => ({ gateway: m.gw_id, weight: m.weight })))),
      caller_groups: callerGroups.map(callerGroupFromRow)
    }
  }
}

export interface SnapshotRepository {
  /**
   * The partition as one consistent snapshot read page by page: `build` gets the data without
   * its rules and then the rule pages, inside the read transaction (it ends when `build` does).
   * Undefined when the partition does not exist.
   */
  snapshot: <T>(name: string, build: (loaded: { head: PartitionHead, version: number }, pages: AsyncIterable<RulePage>) => Promise<T>) => Promise<T | undefined>
  /** Every partition with its data version: what a safety sweep compares against what is loaded. */
  versions: () => Promise<Array<{ name: string, version: number }>>
}

export function createSnapshotRepository (db: Kysely<Database>): SnapshotRepository {
  return {
    async snapshot (name, build) {
      return await inTransaction(db, 'read', async (trx) => {
        const found = await readHead(trx, name)
        return found === undefined ? undefined : await build(found, ruleDataPages(trx, found.id, found.names))
      })
    },

    async versions () {
      const rows = await db.selectFrom('partition').select(['name', 'data_version']).execute()
      return rows.map((r) => ({ name: r.name, version: Number(r.data_version) }))
    }
  }
}
