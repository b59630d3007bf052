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
import type { Delta } from './incremental.js'
import { differingRules, MAX_VERIFIED_CHANGES } from './verify.js'
import { COMPILE_SLICE_MS } from './route-table.js'
import { runInSlices, type Steps } from './slices.js'
import type { RowHashes } from './row-hashes.js'
import { rulesByIds, rulePages, ruleHashPages, selectGateways, type TargetNames } from './rule-pages.js'

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
  // Mapped in slices: ten thousand gateways and their carriers are tens of milliseconds of work,
  // and a reload reads the head while the routing answers go on.
  const membersOf = groupBy(members, (m) => m.carrier_id)
  const sliced = async <T, U>(rows: readonly T[], fn: (row: T) => U): Promise<U[]> => await runInSlices(mapRows(rows, fn), COMPILE_SLICE_MS)
  return {
    id: pid,
    version: Number(partition.data_version),
    // The rules' targets are named from these rows as each page arrives.
    names: { gateways: new Map(await sliced(gateways, (g) => [g.id, g.gw_id] as const)), carriers: new Map(carriers.map((c) => [c.id, c.carrier_id])) },
    head: {
      partition: { default_group: partition.default_group, extra_prefix_chars: partition.extra_prefix_chars, description: partition.description, settings: (partition.settings ?? {}) as Record<string, unknown> },
      gateways: await sliced(gateways, gatewayFromRow),
      carriers: await sliced(carriers, (c) => carrierFromRow(c, (membersOf.get(c.id) ?? []).map((m) => ({ gateway: m.gw_id, weight: m.weight })))),
      caller_groups: callerGroups.map(callerGroupFromRow)
    }
  }
}

function * mapRows<T, U> (rows: readonly T[], fn: (row: T) => U): Steps<U[]> {
  const out = new Array<U>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    out[i] = fn(rows[i] as T)
    if (i % 128 === 127) yield
  }
  return out
}

/** Past this many versions or changed rules, a full reload reads less than following the change log. */
const MAX_LOGGED_VERSIONS = 5000
const MAX_CHANGED_RULES = 50_000

export interface SnapshotRepository {
  /**
   * The partition as one consistent snapshot read page by page: `build` gets the data without
   * its rules and then the rule pages, inside the read transaction (it ends when `build` does).
   * Undefined when the partition does not exist.
   */
  snapshot: <T>(name: string, build: (loaded: { head: PartitionHead, version: number, names?: TargetNames }, pages: AsyncIterable<RulePage>) => Promise<T>) => Promise<T | undefined>
  /**
   * What changed in the partition since `from`, from the change log (migration 0009), handed to
   * `apply` inside one read transaction: 'none' when nothing did, 'full' when only a full reload
   * can tell (a gap in the log, a bulk statement, the partition row itself edited, the log
   * pruned past `from`), undefined when the partition no longer exists. A repository without
   * it (a test's) only reloads in full.
   */
  changes?: <T>(name: string, from: number, apply: (delta: Delta) => Promise<T>) => Promise<T | 'none' | 'full' | undefined>
  /**
   * The partition compared row by row with what is loaded, in one read transaction: the head
   * read whole, every rule's id and stored-row hash (migration 0010) compared with `loaded.hashes`,
   * and `apply` given the head and the rules that differ. 'full' when only a full reload can do
   * (the partition's extra_prefix_chars changed, more than MAX_VERIFIED_CHANGES rules differ), undefined
   * when the partition no longer exists. A repository without it (a test's) only reloads in full.
   */
  verify?: <T>(name: string, loaded: { readonly partition: PartitionHead['partition'], readonly hashes: RowHashes }, apply: (delta: Delta) => Promise<T>) => Promise<T | 'full' | undefined>
  /** Every partition with its data version: what a safety sweep compares against what is loaded. */
  versions: () => Promise<Array<{ name: string, version: number }>>
}

export function createSnapshotRepository (db: Kysely<Database>): SnapshotRepository {
  return {
    async snapshot (name, build) {
      return await inTransaction(db, 'read', async (trx) => {
        const found = await readHead(trx, name)
        return found === undefined ? undefined : await build({ ...found, names: found.names }, rulePages(trx, found.id, found.names))
      })
    },

    async changes (name, from, apply) {
      return await inTransaction(db, 'read', async (trx) => {
        const partition = await trx.selectFrom('partition').select(['id', 'data_version']).where('name', '=', name).executeTakeFirst()
        if (partition === undefined) return undefined
        const version = Number(partition.data_version)
        if (version === from) return 'none'
        if (version < from || version - from > MAX_LOGGED_VERSIONS) return 'full'
        const { rows } = await sql<{ entity: string, keys: string[] | null }>`
          SELECT entity, keys::text[] AS keys FROM data_change
          WHERE partition_id = ${partition.id} AND version > ${from} AND version <= ${version}`.execute(trx)
        if (rows.length !== version - from || rows.some((r) => r.keys === null)) return 'full'
        const ruleIds = new Set<string>()
        let headChanged = false
        for (const row of rows) {
          if (row.entity === 'rule' || row.entity === 'rule_target') for (const key of row.keys ?? []) ruleIds.add(key)
          else headChanged = true
        }
        if (ruleIds.size > MAX_CHANGED_RULES) return 'full'
        const found = headChanged ? await readHead(trx, name) : undefined
        return await apply({
          version,
          ...(found === undefined ? {} : { head: { head: found.head, names: found.names } }),
          ruleIds,
          readRules: async (ids, names) => await rulesByIds(trx, partition.id, names, ids)
        })
      })
    },

    async verify (name, loaded, apply) {
      return await inTransaction(db, 'read', async (trx) => {
        const found = await readHead(trx, name)
        if (found === undefined) return undefined
        // The alphabet every rule prefix is checked against: changed, every rule is compiled again.
        // The rest of the partition row (default group, settings, description) goes with the head.
        if (found.head.partition.extra_prefix_chars !== loaded.partition.extra_prefix_chars) return 'full'
        const ruleIds = await differingRules(ruleHashPages(trx, found.id), loaded.hashes, MAX_VERIFIED_CHANGES)
        if (ruleIds === undefined) return 'full'
        return await apply({
          version: found.version,
          head: { head: found.head, names: found.names },
          ruleIds,
          readRules: async (ids, names) => await rulesByIds(trx, found.id, names, ids)
        })
      })
    },

    async versions () {
      const rows = await db.selectFrom('partition').select(['name', 'data_version']).execute()
      return rows.map((r) => ({ name: r.name, version: Number(r.data_version) }))
    }
  }
}
