/** Gateways of a partition in PostgreSQL for the admin API; every write checked, in one transaction. */
import { sql, type Kysely } from 'kysely'
import type { Database } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import { alreadyExists, assertValid, immutableId, inUse, notFoundIn, quote, USERS_SHOWN } from './admin-errors.js'
import type { GatewayPatch, ListResult, Page } from './admin.schema.js'
import { requirePartition, type PartitionRef } from './partition.repository.js'
import type { GatewayData, GatewayInput } from '../routing-data.schema.js'
import { gatewayFromRow, gatewayToRow } from '../rows.js'
import { normaliseGateway } from '../validate-data.js'

/** Surrogate ids of the named gateways of a partition that exist (gw_id → id). */
export async function resolveGatewayIds (db: Kysely<Database>, partitionId: string, names: readonly string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map()
  const rows = await db.selectFrom('gateway').select(['id', 'gw_id'])
    .where('partition_id', '=', partitionId).where('gw_id', 'in', [...new Set(names)]).execute()
  return new Map(rows.map((row) => [row.gw_id, row.id]))
}

const notFound = (id: string, partition: string) => notFoundIn(`gateway ${quote(id)}`, partition)

async function findRow (db: Kysely<Database>, partition: PartitionRef, id: string, lock = false) {
  const query = db.selectFrom('gateway').selectAll().where('partition_id', '=', partition.id).where('gw_id', '=', id)
  const row = await (lock ? query.forUpdate() : query).executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  return row
}

/** Validates the whole gateway and overwrites the stored one. */
async function overwrite (trx: Kysely<Database>, partition: PartitionRef, id: string, input: GatewayInput): Promise<GatewayData> {
  if (input.id !== id) throw immutableId('id', input.id, id)
  const { data, problems } = normaliseGateway(input)
  assertValid(problems)
  const row = await trx.updateTable('gateway').set(gatewayToRow(data))
    .where('partition_id', '=', partition.id).where('gw_id', '=', id).returningAll().executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  return gatewayFromRow(row)
}

export function createGatewayRepository (db: Kysely<Database>) {
  return {
    async list (partition: string, page: Page, filter: { idPrefix?: string | undefined }): Promise<ListResult<GatewayData>> {
      return await inTransaction(db, 'read', async (trx) => {
        const { id } = await requirePartition(trx, partition)
        let query = trx.selectFrom('gateway').where('partition_id', '=', id)
        if (filter.idPrefix !== undefined) query = query.where(sql<boolean>`starts_with(gw_id, ${filter.idPrefix})`)
        const { total } = await query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow()
        const rows = await query.selectAll().orderBy('gw_id').limit(page.limit).offset(page.offset).execute()
        return { items: rows.map(gatewayFromRow), total: Number(total), ...page }
      })
    },

    async get (partition: string, id: string): Promise<GatewayData> {
      return await inTransaction(db, 'read', async (trx) => gatewayFromRow(await findRow(trx, await requirePartition(trx, partition), id)))
    },

    async create (partition: string, input: GatewayInput): Promise<GatewayData> {
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const { data, problems } = normaliseGateway(input)
        assertValid(problems)
        const existing = await trx.selectFrom('gateway').select('id').where('partition_id', '=', ref.id).where('gw_id', '=', data.id).executeTakeFirst()
        if (existing !== undefined) throw alreadyExists(`gateway ${quote(data.id)}`, partition)
        const row = await trx.insertInto('gateway').values({ partition_id: ref.id, ...gatewayToRow(data) }).returningAll().executeTakeFirstOrThrow()
        return gatewayFromRow(row)
      })
    },

    /** PUT: omitted fields take their defaults; the id cannot change. */
    async replace (partition: string, id: string, input: GatewayInput): Promise<GatewayData> {
      if (input.id !== id) throw immutableId('id', input.id, id)
      return await inTransaction(db, 'write', async (trx) => await overwrite(trx, await requirePartition(trx, partition, true), id, input))
    },

    /** PATCH: merged into the stored gateway, then validated and written whole as PUT would. */
    async patch (partition: string, id: string, patch: GatewayPatch): Promise<GatewayData> {
      if (patch.id !== undefined && patch.id !== id) throw immutableId('id', patch.id, id)
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const current = gatewayFromRow(await findRow(trx, ref, id))
        return await overwrite(trx, ref, id, { ...current, ...patch })
      })
    },

    /** Refused while rules or carriers name the gateway; the answer lists them. */
    async remove (partition: string, id: string): Promise<void> {
      await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const row = await findRow(trx, ref, id)
        const rules = trx.selectFrom('rule_target').where('gateway_id', '=', row.id)
        const carriers = trx.selectFrom('carrier_gateway').innerJoin('carrier', 'carrier.id', 'carrier_gateway.carrier_id')
          .where('carrier_gateway.gateway_id', '=', row.id)
        const ruleIds = await rules.select('rule_id').distinct().orderBy('rule_id').limit(USERS_SHOWN).execute()
        const ruleCount = await rules.select((eb) => eb.fn.count<string>('rule_id').distinct().as('n')).executeTakeFirstOrThrow()
        const carrierIds = await carriers.select('carrier.carrier_id').orderBy('carrier.carrier_id').limit(USERS_SHOWN).execute()
        const carrierCount = await carriers.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
        const conflict = inUse(`gateway ${quote(id)}`, {
          rules: { shown: ruleIds.map((r) => Number(r.rule_id)), total: Number(ruleCount.n) },
          carriers: { shown: carrierIds.map((c) => c.carrier_id), total: Number(carrierCount.n) }
        })
        if (conflict !== undefined) throw conflict
        await trx.deleteFrom('gateway').where('id', '=', row.id).execute()
      })
    }
  }
}
export type GatewayRepository = ReturnType<typeof createGatewayRepository>
