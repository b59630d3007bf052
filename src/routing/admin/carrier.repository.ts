/** Carriers of a partition and their ordered gateway lists in PostgreSQL for the admin API. */
import { sql, type Kysely, type Selectable } from 'kysely'
import type { CarrierTable, Database } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import { alreadyExists, assertValid, immutableId, inUse, notFoundIn, quote, USERS_SHOWN } from './admin-errors.js'
import type { CarrierPatch, ListResult, Page } from './admin.schema.js'
import { resolveGatewayIds } from './gateway.repository.js'
import { requirePartition, type PartitionRef } from './partition.repository.js'
import type { CarrierData, CarrierInput } from '../routing-data.schema.js'
import { carrierFromRow, carrierToRow } from '../rows.js'
import { normaliseCarrier } from '../validate-data.js'

/** Surrogate ids of the named carriers of a partition that exist (carrier_id → id). */
export async function resolveCarrierIds (db: Kysely<Database>, partitionId: string, names: readonly string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map()
  const rows = await db.selectFrom('carrier').select(['id', 'carrier_id'])
    .where('partition_id', '=', partitionId).where('carrier_id', 'in', [...new Set(names)]).execute()
  return new Map(rows.map((row) => [row.carrier_id, row.id]))
}

type Member = CarrierData['gateways'][number]

/** The gateway lists of the given carriers, in position order. */
async function membersOf (db: Kysely<Database>, carrierIds: readonly string[]): Promise<Map<string, Member[]>> {
  const members = new Map<string, Member[]>(carrierIds.map((id) => [id, []]))
  if (carrierIds.length === 0) return members
  const rows = await db.selectFrom('carrier_gateway').innerJoin('gateway', 'gateway.id', 'carrier_gateway.gateway_id')
    .select(['carrier_gateway.carrier_id', 'gateway.gw_id', 'carrier_gateway.weight'])
    .where('carrier_gateway.carrier_id', 'in', carrierIds)
    .orderBy('carrier_gateway.carrier_id').orderBy('carrier_gateway.position').execute()
  for (const row of rows) members.get(row.carrier_id)?.push({ gateway: row.gw_id, weight: row.weight })
  return members
}

async function withMembers (db: Kysely<Database>, rows: Array<Selectable<CarrierTable>>): Promise<CarrierData[]> {
  const members = await membersOf(db, rows.map((row) => row.id))
  return rows.map((row) => carrierFromRow(row, members.get(row.id) ?? []))
}

const notFound = (id: string, partition: string) => notFoundIn(`carrier ${quote(id)}`, partition)

async function findRow (db: Kysely<Database>, partition: PartitionRef, id: string) {
  const row = await db.selectFrom('carrier').selectAll().where('partition_id', '=', partition.id).where('carrier_id', '=', id).executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  return row
}

/** Checks the whole carrier against the partition's gateways; the carrier_gateway rows that would store it. */
async function validate (trx: Kysely<Database>, partition: PartitionRef, input: CarrierInput) {
  const gatewayIds = await resolveGatewayIds(trx, partition.id, (input.gateways ?? []).map((m) => m.gateway))
  const { data, problems } = normaliseCarrier(input, new Set(gatewayIds.keys()))
  assertValid(problems)
  const members = (carrierId: string) => data.gateways.map((member, position) => ({
    carrier_id: carrierId, partition_id: partition.id, gateway_id: gatewayIds.get(member.gateway) ?? '', position, weight: member.weight
  }))
  return { data, members }
}

/** Validates the whole carrier and overwrites the stored one with its gateway list. */
async function overwrite (trx: Kysely<Database>, partition: PartitionRef, id: string, input: CarrierInput): Promise<CarrierData> {
  if (input.id !== id) throw immutableId('id', input.id, id)
  const { data, members } = await validate(trx, partition, input)
  const row = await trx.updateTable('carrier').set(carrierToRow(data))
    .where('partition_id', '=', partition.id).where('carrier_id', '=', id).returningAll().executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  await trx.deleteFrom('carrier_gateway').where('carrier_id', '=', row.id).execute()
  const rows = members(row.id)
  if (rows.length > 0) await trx.insertInto('carrier_gateway').values(rows).execute()
  return carrierFromRow(row, data.gateways)
}

export function createCarrierRepository (db: Kysely<Database>) {
  return {
    async list (partition: string, page: Page, filter: { idPrefix?: string | undefined }): Promise<ListResult<CarrierData>> {
      return await inTransaction(db, 'read', async (trx) => {
        const { id } = await requirePartition(trx, partition)
        let query = trx.selectFrom('carrier').where('partition_id', '=', id)
        if (filter.idPrefix !== undefined) query = query.where(sql<boolean>`starts_with(carrier_id, ${filter.idPrefix})`)
        const { total } = await query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow()
        const rows = await query.selectAll().orderBy('carrier_id').limit(page.limit).offset(page.offset).execute()
        return { items: await withMembers(trx, rows), total: Number(total), ...page }
      })
    },

    async get (partition: string, id: string): Promise<CarrierData> {
      return await inTransaction(db, 'read', async (trx) => {
        const [carrier] = await withMembers(trx, [await findRow(trx, await requirePartition(trx, partition), id)])
        if (carrier === undefined) throw notFound(id, partition)
        return carrier
      })
    },

    async create (partition: string, input: CarrierInput): Promise<CarrierData> {
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const { data, members } = await validate(trx, ref, input)
        const existing = await trx.selectFrom('carrier').select('id').where('partition_id', '=', ref.id).where('carrier_id', '=', data.id).executeTakeFirst()
        if (existing !== undefined) throw alreadyExists(`carrier ${quote(data.id)}`, partition)
        const row = await trx.insertInto('carrier').values({ partition_id: ref.id, ...carrierToRow(data) }).returningAll().executeTakeFirstOrThrow()
        const rows = members(row.id)
        if (rows.length > 0) await trx.insertInto('carrier_gateway').values(rows).execute()
        return carrierFromRow(row, data.gateways)
      })
    },

    /** PUT: omitted fields take their defaults (no gateways); the id cannot change. */
    async replace (partition: string, id: string, input: CarrierInput): Promise<CarrierData> {
      if (input.id !== id) throw immutableId('id', input.id, id)
      return await inTransaction(db, 'write', async (trx) => await overwrite(trx, await requirePartition(trx, partition, true), id, input))
    },

    /** PATCH: merged into the stored carrier (a given `gateways` replaces the whole list), then written whole. */
    async patch (partition: string, id: string, patch: CarrierPatch): Promise<CarrierData> {
      if (patch.id !== undefined && patch.id !== id) throw immutableId('id', patch.id, id)
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const [current] = await withMembers(trx, [await findRow(trx, ref, id)])
        if (current === undefined) throw notFound(id, partition)
        return await overwrite(trx, ref, id, { ...current, ...patch })
      })
    },

    /** Refused while rules name the carrier; the answer lists them. */
    async remove (partition: string, id: string): Promise<void> {
      await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const row = await findRow(trx, ref, id)
        const rules = trx.selectFrom('rule_target').where('carrier_id', '=', row.id)
        const ruleIds = await rules.select('rule_id').distinct().orderBy('rule_id').limit(USERS_SHOWN).execute()
        const ruleCount = await rules.select((eb) => eb.fn.count<string>('rule_id').distinct().as('n')).executeTakeFirstOrThrow()
        const conflict = inUse(`carrier ${quote(id)}`, { rules: { shown: ruleIds.map((r) => Number(r.rule_id)), total: Number(ruleCount.n) } })
        if (conflict !== undefined) throw conflict
        await trx.deleteFrom('carrier').where('id', '=', row.id).execute()
      })
    }
  }
}
export type CarrierRepository = ReturnType<typeof createCarrierRepository>
