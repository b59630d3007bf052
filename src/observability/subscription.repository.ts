/** Webhook subscriptions in PostgreSQL (migration 0004); rows are mapped before they leave. */
import { randomUUID } from 'node:crypto'
import type { Generated, Kysely } from 'kysely'
import type { Database } from '../db.js'
import { mapDbErrors } from '../db-errors.js'
import type { EventName } from '../events.js'

export interface SubscriptionTable {
  id: string
  url: string
  events: string[]
  secret: string
  description: Generated<string>
  expires: Date | null
  created_at: Generated<Date>
}

export interface Subscription {
  readonly id: string
  readonly url: string
  readonly events: readonly EventName[]
  /** Only the sender reads it; no HTTP answer carries it. */
  readonly secret: string
  readonly description: string
  readonly expires: Date | null
  readonly createdAt: Date
}

export interface NewSubscription {
  readonly url: string
  readonly events: readonly EventName[]
  readonly secret: string
  readonly description?: string
  readonly expires: Date | null
}

type Row = { id: string, url: string, events: string[], secret: string, description: string, expires: Date | null, created_at: Date }

const toSubscription = (row: Row): Subscription => ({
  id: row.id,
  url: row.url,
  events: row.events as EventName[],
  secret: row.secret,
  description: row.description,
  expires: row.expires,
  createdAt: row.created_at
})

export function createSubscriptionRepository (kysely: Kysely<Database>) {
  // The table is this module's own: the shared Database type need not know it.
  const db = kysely.withTables<{ subscription: SubscriptionTable }>()
  // What the HTTP routes call answers 503 db_unavailable while the database is away, not a 500.
  return {
    async create (input: NewSubscription): Promise<Subscription> {
      const row = await mapDbErrors(async () => await db.insertInto('subscription')
        .values({ id: randomUUID(), url: input.url, events: [...input.events], secret: input.secret, description: input.description ?? '', expires: input.expires })
        .returningAll().executeTakeFirstOrThrow())
      return toSubscription(row)
    },
    async list (): Promise<Subscription[]> {
      const rows = await mapDbErrors(async () => await db.selectFrom('subscription').selectAll().orderBy('created_at').orderBy('id').execute())
      return rows.map(toSubscription)
    },
    async get (id: string): Promise<Subscription | undefined> {
      const row = await mapDbErrors(async () => await db.selectFrom('subscription').selectAll().where('id', '=', id).executeTakeFirst())
      return row === undefined ? undefined : toSubscription(row)
    },
    async remove (id: string): Promise<boolean> {
      const result = await mapDbErrors(async () => await db.deleteFrom('subscription').where('id', '=', id).executeTakeFirst())
      return result.numDeletedRows > 0n
    },
    /** What the alert check delivers to: expired subscriptions are deleted first. */
    async active (now: Date): Promise<Subscription[]> {
      await db.deleteFrom('subscription').where('expires', '<=', now).execute()
      const rows = await db.selectFrom('subscription').selectAll().orderBy('created_at').execute()
      return rows.map(toSubscription)
    }
  }
}
export type SubscriptionRepository = ReturnType<typeof createSubscriptionRepository>
