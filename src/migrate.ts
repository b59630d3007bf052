/** Forward-only SQL migrations from migrations/*.sql, applied by kysely's Migrator. */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely'
import { MIGRATIONS_DIR } from './paths.js'

/** kysely's FileMigrationProvider imports modules only; ours reads plain SQL files. */
export function sqlMigrationProvider (dir: string = MIGRATIONS_DIR): MigrationProvider {
  return {
    async getMigrations () {
      const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort()
      const migrations: Record<string, Migration> = {}
      for (const file of files) {
        const text = await readFile(path.join(dir, file), 'utf8')
        // No parameters, so pg uses the simple protocol and a file may hold many statements.
        migrations[file.replace(/\.sql$/, '')] = { up: async (db) => { await sql.raw(text).execute(db) } }
      }
      return migrations
    }
  }
}

export class MigrationError extends Error {
  constructor (readonly migration: string | undefined, cause: unknown) {
    super(`migration ${migration ?? '(unknown)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'MigrationError'
  }
}

/**
 * Applies every pending migration. Safe when several instances start at once: kysely's
 * Migrator holds a PostgreSQL advisory lock for the whole run, and each migration runs in
 * its own transaction.
 */
export async function migrateToLatest (db: Kysely<any>, dir?: string): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: sqlMigrationProvider(dir) })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')
    throw new MigrationError(failed?.migrationName, error)
  }
  return results
}
