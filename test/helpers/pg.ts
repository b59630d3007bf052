/** A fresh database per test file on the run's PostgreSQL, migrated by the production migrator. */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { createDb, type Db } from '../../src/db.js'
import { migrateToLatest } from '../../src/migrate.js'

export interface TestDatabase {
  readonly name: string
  readonly url: string
  readonly db: Db
  /** Closes the pool and drops the database. */
  drop: () => Promise<void>
}

export function adminUrl (): string {
  return inject('pgAdminUrl')
}

async function admin (statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

export function databaseUrl (name: string): string {
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return url.toString()
}

/** An empty database; `migrate: false` leaves it without tables. */
export async function createTestDatabase (options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `rtroute_test_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = databaseUrl(name)
  const db = createDb({ url, poolMax: 5, onPoolError: () => {} })
  if (options.migrate !== false) await migrateToLatest(db.kysely)
  return {
    name,
    url,
    db,
    drop: async () => {
      await db.close()
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
}
