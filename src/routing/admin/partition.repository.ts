/** Partitions in PostgreSQL for the admin API, and the partition lookup every entity repository starts with. */
import type { Kysely } from 'kysely'
import type { Database } from '../../db.js'
import { inTransaction } from '../../db-errors.js'
import { AppError } from '../../errors.js'
import { immutableId, partitionNotFound, quote } from './admin-errors.js'
import type { ListResult, Page, PartitionPatch } from './admin.schema.js'
import type { PartitionInput, PartitionOut } from '../routing-data.schema.js'
import { partitionFromRow } from '../rows.js'

export interface PartitionRef {
  readonly id: string
  readonly name: string
  readonly defaultGroup: string
  readonly extraPrefixChars: string
}

/**
 * The partition, or 404. `lock` holds its row until commit: writers of one partition queue up,
 * so what a write checks (names free, references present) still holds when it commits, and the
 * data_version triggers, which update this row anyway, cannot deadlock.
 */
export async function requirePartition (db: Kysely<Database>, name: string, lock = false): Promise<PartitionRef> {
  const query = db.selectFrom('partition').select(['id', 'name', 'default_group', 'extra_prefix_chars']).where('name', '=', name)
  const row = await (lock ? query.forUpdate() : query).executeTakeFirst()
  if (row === undefined) throw partitionNotFound(name)
  return { id: row.id, name: row.name, defaultGroup: row.default_group, extraPrefixChars: row.extra_prefix_chars }
}

interface Holdings { gateways: number, carriers: number, rules: number, callerGroups: number }

function describeHoldings (h: Holdings): string {
  const parts = ([[h.gateways, 'gateway'], [h.carriers, 'carrier'], [h.rules, 'rule'], [h.callerGroups, 'caller group']] as const)
    .filter(([count]) => count > 0)
    .map(([count, noun]) => `${count} ${noun}${count === 1 ? '' : 's'}`)
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1) ?? ''}`
}

const settingsJson = (settings: unknown): string => JSON.stringify(settings ?? {})

/** Writes the whole of `input` over the stored partition (the caller checked the name). */
async function write (trx: Kysely<Database>, name: string, input: PartitionInput): Promise<PartitionOut> {
  const row = await trx.updateTable('partition')
    .set({ default_group: input.default_group ?? 'default', extra_prefix_chars: input.extra_prefix_chars ?? '', description: input.description ?? '', settings: settingsJson(input.settings) })
    .where('name', '=', name).returningAll().executeTakeFirst()
  if (row === undefined) throw partitionNotFound(name)
  return partitionFromRow(row)
}

export function createPartitionRepository (db: Kysely<Database>) {
  return {
    async list (page: Page): Promise<ListResult<PartitionOut>> {
      return await inTransaction(db, 'read', async (trx) => {
        const { total } = await trx.selectFrom('partition').select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow()
        const rows = await trx.selectFrom('partition').selectAll().orderBy('name').limit(page.limit).offset(page.offset).execute()
        return { items: rows.map(partitionFromRow), total: Number(total), ...page }
      })
    },

    async get (name: string): Promise<PartitionOut> {
      return await inTransaction(db, 'read', async (trx) => {
        const row = await trx.selectFrom('partition').selectAll().where('name', '=', name).executeTakeFirst()
        if (row === undefined) throw partitionNotFound(name)
        return partitionFromRow(row)
      })
    },

    async create (input: PartitionInput): Promise<PartitionOut> {
      return await inTransaction(db, 'write', async (trx) => {
        const existing = await trx.selectFrom('partition').select('id').where('name', '=', input.name).executeTakeFirst()
        if (existing !== undefined) throw new AppError(409, 'already_exists', `partition ${quote(input.name)} already exists`)
        const row = await trx.insertInto('partition').values({
          name: input.name,
          default_group: input.default_group ?? 'default',
          extra_prefix_chars: input.extra_prefix_chars ?? '',
          description: input.description ?? '',
          settings: settingsJson(input.settings)
        }).returningAll().executeTakeFirstOrThrow()
        return partitionFromRow(row)
      })
    },

    /** PUT: omitted fields take their defaults; the name cannot change. */
    async replace (name: string, input: PartitionInput): Promise<PartitionOut> {
      if (input.name !== name) throw immutableId('name', input.name, name)
      return await inTransaction(db, 'write', async (trx) => await write(trx, name, input))
    },

    /** PATCH: merged into the stored partition, then written whole as PUT would. */
    async patch (name: string, patch: PartitionPatch): Promise<PartitionOut> {
      if (patch.name !== undefined && patch.name !== name) throw immutableId('name', patch.name, name)
      return await inTransaction(db, 'write', async (trx) => {
        const current = await trx.selectFrom('partition').selectAll().where('name', '=', name).forUpdate().executeTakeFirst()
        if (current === undefined) throw partitionNotFound(name)
        const { default_group: defaultGroup, extra_prefix_chars: extraPrefixChars, description, settings } = partitionFromRow(current)
        return await write(trx, name, { name, default_group: defaultGroup, extra_prefix_chars: extraPrefixChars, description, settings, ...patch })
      })
    },

    /** Without `force`, a partition that still holds data is kept and the answer says what it holds. */
    async remove (name: string, force: boolean): Promise<void> {
      await inTransaction(db, 'write', async (trx) => {
        const partition = await requirePartition(trx, name, true)
        if (!force) {
          const counts = await trx.selectNoFrom((eb) => [
            eb.selectFrom('gateway').where('partition_id', '=', partition.id).select(eb.fn.countAll<string>().as('n')).as('gateways'),
            eb.selectFrom('carrier').where('partition_id', '=', partition.id).select(eb.fn.countAll<string>().as('n')).as('carriers'),
            eb.selectFrom('rule').where('partition_id', '=', partition.id).select(eb.fn.countAll<string>().as('n')).as('rules'),
            eb.selectFrom('caller_group').where('partition_id', '=', partition.id).select(eb.fn.countAll<string>().as('n')).as('caller_groups')
          ]).executeTakeFirstOrThrow()
          const holdings = { gateways: Number(counts.gateways), carriers: Number(counts.carriers), rules: Number(counts.rules), callerGroups: Number(counts.caller_groups) }
          if (Object.values(holdings).some((count) => count > 0)) {
            throw new AppError(409, 'not_empty', `partition ${quote(name)} still holds ${describeHoldings(holdings)}; add ?force=true to delete it with its data`)
          }
        }
        // Everything else cascades; references between gateways, carriers and rules are checked at commit.
        await trx.deleteFrom('partition').where('id', '=', partition.id).execute()
      })
    }
  }
}
export type PartitionRepository = ReturnType<typeof createPartitionRepository>
