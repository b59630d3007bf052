/** A throwaway embedded PostgreSQL for the bench (temp dir, free port), with one migrated database per data set. */
import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { createDb } from '../../dist/db.js'
import { startEmbeddedPostgres } from '../../dist/embedded-postgres.js'
import { migrateToLatest } from '../../dist/migrate.js'
import { LOAD_CORE, pin } from './procs.mjs'

/**
 * PostgreSQL on the load generator's core, so that the server's core is the server's: a reload's
 * page queries would otherwise take turns with the server on its core, and the server's figures
 * would measure the scheduler. New backends inherit the postmaster's affinity; the running
 * auxiliary processes are pinned too.
 */
async function pinPostgres (dataDir) {
  const postmaster = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]
  pin(postmaster, LOAD_CORE)
  let children = ''
  try { children = execFileSync('pgrep', ['-P', postmaster], { encoding: 'utf8' }) } catch {}
  for (const pid of children.split('\n').filter(Boolean)) pin(pid, LOAD_CORE)
}

export async function startBenchPostgres () {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-bench-'))
  // As root, PostgreSQL runs as user postgres, which must reach the data directory.
  await chmod(dir, 0o755)
  const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: 0, database: 'rtroute_bench' })
  await pinPostgres(path.join(dir, 'pg'))
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
