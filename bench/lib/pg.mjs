/** A throwaway embedded PostgreSQL for the bench (temp dir, free port), with one migrated database per data set. */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { createDb } from '../../dist/db.js'
import { startEmbeddedPostgres } from '../../dist/embedded-postgres.js'
import { migrateToLatest } from '../../dist/migrate.js'

export async function startBenchPostgres () {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-bench-'))
  // As root, PostgreSQL runs as user postgres, which must reach the data directory.
  await chmod(dir, 0o755)
  const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: 0, database: 'rtroute_bench' })
  const urlOf = (name) => {
    const url = new URL(server.url)
    url.pathname = `/${name}`
    return url.toString()
  }
  return {
    /** Creates and migrates a database; returns its URL. */
    async createDatabase (name) {
      const admin = new pg.Client({ connectionString: server.adminUrl })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE ${name}`)
      } finally {
        await admin.end()
      }
      const db = createDb({ url: urlOf(name), poolMax: 2, onPoolError: () => {} })
      try {
        await migrateToLatest(db.kysely)
      } finally {
        await db.close()
      }
      return urlOf(name)
    },
    async stop () {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
