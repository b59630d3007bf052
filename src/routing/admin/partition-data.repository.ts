/**
 * A whole partition in and out of PostgreSQL: one consistent read (REPEATABLE READ, read only)
 * for exports, an all-or-nothing replacement for imports, and the list of names. The routing
 * snapshot reads the same head through snapshot/snapshot.repository.ts.
 */
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import type { PartitionData } from '../routing-data.schema.js'
import { callerGroupToRow, carrierToRow, gatewayToRow, ruleToRow } from '../rows.js'
import { selectRuleData } from '../snapshot/rule-pages.js'
import { readHead } from '../snapshot/snapshot.repository.js'
import type { ImportData } from './partition-data.js'

export interface LoadedPartition {
  readonly data: PartitionData
  readonly version: number
}

/** How many rows of each kind a partition holds. */
export interface PartitionSizes {
  readonly gateways: number
  readonly carriers: number
  readonly rules: number
  readonly callerGroups: number
}

/** Rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table. */
const BATCH = 2000

async function inBatches<T> (items: readonly T[], fn: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await fn(items.slice(i, i + BATCH))
}

async function read (trx: Transaction<Database>, name: string): Promise<LoadedPartition | undefined> {
  const found = await readHead(trx, name)
  if (found === undefined) return undefined
  const rules = await selectRuleData(trx, found.id, found.names)
  return { version: found.version, data: { ...found.head, rules } }
}

async function lockPartition (trx: Transaction<Database>, name: string, data: ImportData): Promise<{ id: string, created: boolean }> {
  const inserted = await trx.insertInto('partition')
    .values({ name, default_group: data.partition.default_group, extra_prefix_chars: data.partition.extra_prefix_chars ?? '', description: data.partition.description, settings: JSON.stringify(data.partition.settings) })
    .onConflict((oc) => oc.column('name').doNothing()).returning('id').executeTakeFirst()
  // Concurrent imports of one partition queue here instead of interleaving.
  const row = await trx.selectFrom('partition').select('id').where('name', '=', name).forUpdate().executeTakeFirstOrThrow()
  if (inserted === undefined) {
    await trx.updateTable('partition').where('id', '=', row.id)
      .set({ default_group: data.partition.default_group, extra_prefix_chars: data.partition.extra_prefix_chars ?? '', description: data.partition.description, settings: JSON.stringify(data.partition.settings) })
      .execute()
  }
  return { id: row.id, created: inserted !== undefined }
}

/** Ids for the rules: the given ones, and max + 1 onwards for rules that come without one. */
function ruleIds (data: ImportData): string[] {
  let next = data.rules.reduce((max, r) => Math.max(max, r.id ?? 0), 0)
  return data.rules.map((r) => String(r.id ?? ++next))
}

async function sizes (trx: Transaction<Database>, pid: string): Promise<PartitionSizes> {
  const n = async (table: 'gateway' | 'carrier' | 'rule' | 'caller_group'): Promise<number> => {
    const row = await trx.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('partition_id', '=', pid).executeTakeFirstOrThrow()
    return Number(row.n)
  }
  return { gateways: await n('gateway'), carriers: await n('carrier'), rules: await n('rule'), callerGroups: await n('caller_group') }
}

async function write (trx: Transaction<Database>, name: string, data: ImportData, guard?: (current: PartitionSizes) => void): Promise<boolean> {
  const { id: pid, created } = await lockPartition(trx, name, data)
  // Under the row lock: what the guard sees is what this transaction replaces.
  guard?.(await sizes(trx, pid))
  const ids = ruleIds(data)
  // Replace everything: rules and carriers first (their links cascade), then what they referenced.
  await trx.deleteFrom('rule').where('partition_id', '=', pid).execute()
  await trx.deleteFrom('carrier').where('partition_id', '=', pid).execute()
  await trx.deleteFrom('gateway').where('partition_id', '=', pid).execute()
  await trx.deleteFrom('caller_group').where('partition_id', '=', pid).execute()

  const gatewayId = new Map<string, string>()
  await inBatches(data.gateways, async (batch) => {
    const rows = await trx.insertInto('gateway').values(batch.map((g) => ({ ...gatewayToRow(g), partition_id: pid }))).returning(['id', 'gw_id']).execute()
    for (const row of rows) gatewayId.set(row.gw_id, row.id)
  })
  const carrierId = new Map<string, string>()
  await inBatches(data.carriers, async (batch) => {
    const rows = await trx.insertInto('carrier').values(batch.map((c) => ({ ...carrierToRow(c), partition_id: pid }))).returning(['id', 'carrier_id']).execute()
    for (const row of rows) carrierId.set(row.carrier_id, row.id)
  })
  const members = data.carriers.flatMap((c) => c.gateways.map((m, position) => ({
    carrier_id: carrierId.get(c.id) ?? '', partition_id: pid, gateway_id: gatewayId.get(m.gateway) ?? '', position, weight: m.weight
  })))
  await inBatches(members, async (batch) => { await trx.insertInto('carrier_gateway').values(batch).execute() })

  const rules = data.rules.map((r, i) => ({ ...ruleToRow(r), id: ids[i] ?? '', partition_id: pid }))
  await inBatches(rules, async (batch) => { await trx.insertInto('rule').values(batch).execute() })
  const targets = data.rules.flatMap((r, i) => r.targets.map((t, position) => ({
    rule_id: ids[i] ?? '',
    partition_id: pid,
    position,
    gateway_id: 'gateway' in t ? gatewayId.get(t.gateway) ?? '' : null,
    carrier_id: 'carrier' in t ? carrierId.get(t.carrier) ?? '' : null,
    weight: t.weight ?? 1
  })))
  await inBatches(targets, async (batch) => { await trx.insertInto('rule_target').values(batch).execute() })
  await inBatches(data.caller_groups, async (batch) => {
    await trx.insertInto('caller_group').values(batch.map((c) => ({ ...callerGroupToRow(c), partition_id: pid }))).execute()
  })
  return created
}

export function createPartitionDataRepository (db: Kysely<Database>) {
  return {
    /** The partition as one consistent snapshot, or undefined when it does not exist. */
    async load (name: string): Promise<LoadedPartition | undefined> {
      return await inTransaction(db, 'read', async (trx) => await read(trx, name))
    },

    /**
     * Replaces the partition's data in one transaction (created when missing); all or nothing.
     * `guard` sees the sizes being replaced, under the partition's lock, and may throw to refuse.
     */
    async replace (name: string, data: ImportData, guard?: (current: PartitionSizes) => void): Promise<{ created: boolean, version: number }> {
      return await inTransaction(db, 'write', async (trx) => {
        const created = await write(trx, name, data, guard)
        const row = await trx.selectFrom('partition').select('data_version').where('name', '=', name).executeTakeFirstOrThrow()
        return { created, version: Number(row.data_version) }
      })
    },

    async names (): Promise<string[]> {
      const rows = await db.selectFrom('partition').select('name').orderBy(sql`name COLLATE "C"`).execute()
      return rows.map((r) => r.name)
    }
  }
}
export type PartitionDataRepository = ReturnType<typeof createPartitionDataRepository>
