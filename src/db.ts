/** The database: table types (hand-written, one *Table per table) and the kysely instance over a pg pool. */
import { Kysely, PostgresDialect, type Generated, type Selectable } from 'kysely'
import pg from 'pg'

export interface StatusGroupTable {
  name: string
  required: Generated<boolean>
  ring_size: Generated<number>
  created_at: Generated<Date>
}
export type StatusGroupRow = Selectable<StatusGroupTable>

export interface Database {
  status_group: StatusGroupTable
}

export interface DbOptions {
  readonly url: string
  readonly poolMax: number
  /** Idle clients that lose their server emit errors; they must be logged, never thrown. */
  readonly onPoolError: (err: Error) => void
  readonly connectionTimeoutMs?: number
}

export interface Db {
  readonly kysely: Kysely<Database>
  readonly pool: pg.Pool
  close: () => Promise<void>
}

export function createDb (options: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    application_name: 'rtroute'
  })
  pool.on('error', options.onPoolError)
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  let closed: Promise<void> | undefined
  return {
    kysely,
    pool,
    // kysely's destroy() ends the pool; closing twice is harmless.
    close: async () => { closed ??= kysely.destroy(); await closed }
  }
}
