/** Stored definitions of external status groups. */
import type { Kysely } from 'kysely'
import type { Database } from '../db.js'
import { mapDbErrors } from '../db-errors.js'

export interface StoredGroup {
  readonly name: string
  readonly required: boolean
  readonly ringSize: number
}

export function createStatusGroupRepository (db: Kysely<Database>) {
  return {
    async list (): Promise<StoredGroup[]> {
      const rows = await db.selectFrom('status_group').select(['name', 'required', 'ring_size']).orderBy('name').execute()
      return rows.map((row) => ({ name: row.name, required: row.required, ringSize: row.ring_size }))
    },
    async upsert (group: StoredGroup): Promise<void> {
      await mapDbErrors(async () => await db.insertInto('status_group')
        .values({ name: group.name, required: group.required, ring_size: group.ringSize })
        .onConflict((oc) => oc.column('name').doUpdateSet({ required: group.required, ring_size: group.ringSize }))
        .execute())
    },
    async remove (name: string): Promise<void> {
      await mapDbErrors(async () => await db.deleteFrom('status_group').where('name', '=', name).execute())
    }
  }
}
export type StatusGroupRepository = ReturnType<typeof createStatusGroupRepository>
