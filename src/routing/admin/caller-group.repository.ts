/** Caller groups of a partition (CIDR, From user@domain, From domain → group) in PostgreSQL for the admin API. */
import type { Kysely, Selectable } from 'kysely'
import type { CallerGroupTable, Database } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import { alreadyExists, assertValid, notFoundIn, quote } from './admin-errors.js'
import type { CallerGroupPatch, ListResult, Page } from './admin.schema.js'
import { requirePartition, type PartitionRef } from './partition.repository.js'
import type { CallerGroupData, CallerGroupInput } from '../routing-data.schema.js'
import { callerGroupFromRow, callerGroupToRow } from '../rows.js'
import { normaliseCallerGroup } from '../validate-data.js'

export type CallerGroupWithId = CallerGroupData & { id: number }

export interface CallerGroupFilter {
  readonly kind?: CallerGroupData['kind'] | undefined
  readonly group?: string | undefined
}

const fromRow = (row: Selectable<CallerGroupTable>): CallerGroupWithId => ({ id: Number(row.id), ...callerGroupFromRow(row) })
const notFound = (id: number, partition: string) => notFoundIn(`caller group ${id}`, partition)

async function findRow (db: Kysely<Database>, partition: PartitionRef, id: number) {
  const row = await db.selectFrom('caller_group').selectAll().where('partition_id', '=', partition.id).where('id', '=', String(id)).executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  return row
}

/** Normalises the entry (canonical CIDR, lower-case domain) and refuses a (kind, value) another entry has. */
async function validate (trx: Kysely<Database>, partition: PartitionRef, input: CallerGroupInput, self?: string): Promise<CallerGroupData> {
  const { data, problems } = normaliseCallerGroup(input)
  assertValid(problems)
  let query = trx.selectFrom('caller_group').select('id').where('partition_id', '=', partition.id).where('kind', '=', data.kind).where('value', '=', data.value)
  if (self !== undefined) query = query.where('id', '<>', self)
  if (await query.executeTakeFirst() !== undefined) throw alreadyExists(`caller group ${data.kind} ${quote(data.value)}`, partition.name)
  return data
}

async function overwrite (trx: Kysely<Database>, partition: PartitionRef, id: number, input: CallerGroupInput): Promise<CallerGroupWithId> {
  const data = await validate(trx, partition, input, String(id))
  const row = await trx.updateTable('caller_group').set(callerGroupToRow(data))
    .where('partition_id', '=', partition.id).where('id', '=', String(id)).returningAll().executeTakeFirst()
  if (row === undefined) throw notFound(id, partition.name)
  return fromRow(row)
}

export function createCallerGroupRepository (db: Kysely<Database>) {
  return {
    async list (partition: string, page: Page, filter: CallerGroupFilter): Promise<ListResult<CallerGroupWithId>> {
      return await inTransaction(db, 'read', async (trx) => {
        const { id } = await requirePartition(trx, partition)
        let query = trx.selectFrom('caller_group').where('partition_id', '=', id)
        if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind)
        if (filter.group !== undefined) query = query.where('group_name', '=', filter.group)
        const { total } = await query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow()
        const rows = await query.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute()
        return { items: rows.map(fromRow), total: Number(total), ...page }
      })
    },

    async get (partition: string, id: number): Promise<CallerGroupWithId> {
      return await inTransaction(db, 'read', async (trx) => fromRow(await findRow(trx, await requirePartition(trx, partition), id)))
    },

    async create (partition: string, input: CallerGroupInput): Promise<CallerGroupWithId> {
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const data = await validate(trx, ref, input)
        const row = await trx.insertInto('caller_group').values({ partition_id: ref.id, ...callerGroupToRow(data) }).returningAll().executeTakeFirstOrThrow()
        return fromRow(row)
      })
    },

    /** PUT: an omitted description becomes empty. */
    async replace (partition: string, id: number, input: CallerGroupInput): Promise<CallerGroupWithId> {
      return await inTransaction(db, 'write', async (trx) => await overwrite(trx, await requirePartition(trx, partition, true), id, input))
    },

    /** PATCH: merged into the stored entry, then validated and written whole. */
    async patch (partition: string, id: number, patch: CallerGroupPatch): Promise<CallerGroupWithId> {
      return await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const current = callerGroupFromRow(await findRow(trx, ref, id))
        return await overwrite(trx, ref, id, { ...current, ...patch })
      })
    },

    async remove (partition: string, id: number): Promise<void> {
      await inTransaction(db, 'write', async (trx) => {
        const ref = await requirePartition(trx, partition, true)
        const row = await findRow(trx, ref, id)
        await trx.deleteFrom('caller_group').where('id', '=', row.id).execute()
      })
    }
  }
}
export type CallerGroupRepository = ReturnType<typeof createCallerGroupRepository>
