import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateToLatest } from '../src/migrate.js'
import { createDb } from '../src/db.js'
import { createTestDatabase, type TestDatabase } from './helpers/pg.js'

let t: TestDatabase
beforeAll(async () => { t = await createTestDatabase({ migrate: false }) })
afterAll(async () => { await t.drop() })

describe('migrations', () => {
  it('are safe when several instances start at once', async () => {
    // Four instances, four pools, one database: the migrator's advisory lock serialises them.
    const pools = Array.from({ length: 4 }, () => createDb({ url: t.url, poolMax: 2, onPoolError: () => {} }))
    try {
      const results = await Promise.all(pools.map(async (db) => await migrateToLatest(db.kysely)))
      const applied = results.flat().filter((r) => r.status === 'Success').map((r) => r.migrationName)
      expect(applied).toEqual([...new Set(applied)])
      expect(applied).toContain('0001_status_group')
    } finally {
      await Promise.all(pools.map(async (db) => { await db.close() }))
    }
    const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(t.db.kysely)
    expect(rows.rows.map((r) => r.name)).toContain('0001_status_group')
    expect(await migrateToLatest(t.db.kysely)).toEqual([])
  })
})
