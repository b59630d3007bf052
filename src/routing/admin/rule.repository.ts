/** Rules of a partition and their ordered targets in PostgreSQL for the admin API. */
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely'
import type { Database, RuleTable, RuleTargetTable } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import { AppError } from '../../errors.js'
import { assertValid, immutableId, notFoundIn, quote } from './admin-errors.js'
import type { ListResult, Page, RulePatch } from './admin.schema.js'
import { resolveCarrierIds } from './carrier.repository.js'
import { resolveGatewayIds } from './gateway.repository.js'
import { requirePartition, type PartitionRef } from './partition.repository.js'
import { MAX_ID, type RuleData, type RuleInput, type RuleTargetData } from '../routing-data.schema.js'
import { ruleFromRow, ruleToRow } from '../rows.js'
import { normaliseRule } from '../validate-data.js'

export interface RuleFilter {
  readonly prefix?: string | undefined
  readonly prefixStarts?: string | undefined
  readonly group?: string | undefined
}

/** The targets of the given rules of one partition, in position order, named by gateway or carrier id. */
async function targetsOf (db: Kysely<Database>, partitionId: string, ruleIds: readonly string[]): Promise<Map<string, RuleTargetData[]>> {
  const targets = new Map<string, RuleTargetData[]>(ruleIds.map((id) => [id, []]))
  if (ruleIds.length === 0) return targets
  const rows = await db.selectFrom('rule_target')
    .leftJoin('gateway', 'gateway.id', 'rule_target.gateway_id')
    .leftJoin('carrier', 'carrier.id', 'rule_target.carrier_id')
    .select(['rule_target.rule_id', 'rule_target.weight', 'gateway.gw_id', 'carrier.carrier_id as carrier_name'])
    .where('rule_target.partition_id', '=', partitionId)
    .where('rule_target.rule_id', 'in', ruleIds)
    .orderBy('rule_target.rule_id').orderBy('rule_target.position').execute()
  for (const row of rows) {
    const target = row.gw_id !== null ? { gateway: row.gw_id, weight: row.weight } : { carrier: row.carrier_name ?? '', weight: row.weight }
    targets.get(row.rule_id)?.push(target)
  }
  return targets
}

async function withTargets (db: Kysely<Database>, rows: Array<Selectable<RuleTable>>): Promise<RuleData[]> {
  const partitionId = rows[0]?.partition_id
  if (partitionId === undefined) return []
  const targets = await targetsOf(db, partitionId, rows.map((row) => row.id))
  return rows.map((row) => ruleFromRow(row, targets.get(row.id) ?? []))
}

const notFound = (id: number, partition: string) => notFoundIn(`rule ${id}`, partition)

async function findRow (db: Kysely<Database>, partition: PartitionRef, id: number) {
  const row = await db.selectFrom('rule').selectAll().where('partition_id', '=', partition.id).where('id', '=', String(id)).executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  return row
}

/** Checks the whole rule (window, groups, targets against the partition); the rule_target rows that would store it. */
async function validate (trx: Kysely<Database>, partition: PartitionRef, input: RuleInput) {
  const gatewayIds = await resolveGatewayIds(trx, partition.id, input.targets.flatMap((t) => ('gateway' in t ? [t.gateway] : [])))
  const carrierIds = await resolveCarrierIds(trx, partition.id, input.targets.flatMap((t) => ('carrier' in t ? [t.carrier] : [])))
  const refs = { gateways: new Set(gatewayIds.keys()), carriers: new Set(carrierIds.keys()) }
  const { data, problems } = normaliseRule(input, refs, partition.extraPrefixChars)
  assertValid(problems)
  const targets = (ruleId: string): Array<Insertable<RuleTargetTable>> => data.targets.map((target, position) => ({
    rule_id: ruleId,
    partition_id: partition.id,
    position,
    gateway_id: 'gateway' in target ? gatewayIds.get(target.gateway) ?? null : null,
    carrier_id: 'carrier' in target ? carrierIds.get(target.carrier) ?? null : null,
    weight: target.weight ?? 1
  }))
  return { data, targets }
}

async function insertTargets (trx: Kysely<Database>, rows: Array<Insertable<RuleTargetTable>>): Promise<void> {
  if (rows.length > 0) await trx.insertInto('rule_target').values(rows).execute()
}

/** Validates the whole rule and overwrites the stored one with its targets. */
async function overwrite (trx: Kysely<Database>, partition: PartitionRef, id: number, input: RuleInput): Promise<RuleData> {
  if (input.id !== undefined && input.id !== id) throw immutableId('id', input.id, id)
  const { data, targets } = await validate(trx, partition, input)
  const row = await trx.updateTable('rule').set(ruleToRow(data))
    .where('partition_id', '=', partition.id).where('id', '=', String(id)).returningAll().executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  await trx.deleteFrom('rule_target').where('partition_id', '=', partition.id).where('rule_id', '=', row.id).execute()
  await insertTargets(trx, targets(row.id))
  return ruleFromRow(row, data.targets)
}

/**
 * Rule ids are per partition: a new rule takes the next after the highest (the partition row is
 * locked). Past MAX_ID there is no next one that a JSON number could carry: the caller must choose.
 */
async function nextRuleId (trx: Kysely<Database>, partitionId: string): Promise<string> {
  const row = await trx.selectFrom('rule').select(sql<string>`coalesce(max(id), 0) + 1`.as('next'))
    .where('partition_id', '=', partitionId).executeTakeFirstOrThrow()
  if (BigInt(row.next) > BigInt(MAX_ID)) {
    throw new AppError(400, 'invalid_data', `id: the next rule id would be ${row.next}, past the largest allowed (${MAX_ID}); give a free id`)
  }
  return String(row.next)
}

export function createRuleRepository (db: Kysely<Database>) {
  return {
    async list (partition: string, page: Page, filter: RuleFilter): Promise<ListResult<RuleData>> {
      return await inTransaction(db, 'read', async (trx) => {
        const { id } = await requirePartition(trx, partition)
        let query = trx.selectFrom('rule').where('partition_id', '=', id)
        if (filter.prefix !== undefined) query = query.where('prefix', '=', filter.prefix)
        if (filter.prefixStarts !== undefined) query = query.where(sql<boolean>`starts_with(prefix, ${filter.prefixStarts})`)
        if (filter.group !== undefined) query = query.where(sql<boolean>`${filter.group} = ANY(groups)`)
        const { total } = await query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow()
        const rows = await query.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute()
        return { items: await withTargets(trx, rows), total: Number(total), ...page }
      })
    },

    async get (partition: string, id: number): Promise<RuleData> {
      return await inTransaction(db, 'read', async (trx) => {
        const [rule] = await withTargets(trx, [await findRow(trx, await requirePartition(trx, partition), id)])
        if (rule === undefined) throw notFound(id, partition)
        return rule
      })
    },

    /** `groups` default to the partition's default group; an `id` in the body is kept. */
    async create (partition: string, input: RuleInput): Promise<RuleData> {
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const { data, targets } = await validate(trx, ref, input)
        if (data.id !== undefined) {
          const taken = await trx.selectFrom('rule').select('id').where('partition_id', '=', ref.id).where('id', '=', String(data.id)).executeTakeFirst()
          if (taken !== undefined) throw new AppError(409, 'already_exists', `rule ${data.id} already exists in partition ${quote(partition)}`)
        }
        const id = data.id === undefined ? await nextRuleId(trx, ref.id) : String(data.id)
        const row = await trx.insertInto('rule').values({ id, partition_id: ref.id, ...ruleToRow(data) })
          .returningAll().executeTakeFirstOrThrow()
        await insertTargets(trx, targets(row.id))
        return ruleFromRow(row, data.targets)
      })
    },

    /** PUT: omitted fields take their defaults (`groups`: the partition's default group); the id cannot change. */
    async replace (partition: string, id: number, input: RuleInput): Promise<RuleData> {
      if (input.id !== undefined && input.id !== id) throw immutableId('id', input.id, id)
      return await inTransaction(db, 'write', async (trx) => await overwrite(trx, await requirePartition(trx, partition, true), id, input))
    },

    /** PATCH: merged into the stored rule (a given `targets` or `time_window` replaces the whole field), then written whole. */
    async patch (partition: string, id: number, patch: RulePatch): Promise<RuleData> {
      if (patch.id !== undefined && patch.id !== id) throw immutableId('id', patch.id, id)
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const [current] = await withTargets(trx, [await findRow(trx, ref, id)])
        if (current === undefined) throw notFound(id, partition)
        return await overwrite(trx, ref, id, { ...current, ...patch })
      })
    },

    async remove (partition: string, id: number): Promise<void> {
      await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const row = await findRow(trx, ref, id)
        await trx.deleteFrom('rule').where('partition_id', '=', ref.id).where('id', '=', row.id).execute()
      })
    }
  }
}
export type RuleRepository = ReturnType<typeof createRuleRepository>
