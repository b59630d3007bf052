/**
 * A real rtroute (`startServer`) on a fresh test database, optionally reaching PostgreSQL through
 * the TCP proxy so a test can cut it off, and one `close()` for all of it.
 */
import type { Logger } from 'pino'
import { loadConfig } from '../../src/config.js'
import type { Env } from '../../src/env-vars.js'
import { createLogger } from '../../src/logger.js'
import { startServer, type Server } from '../../src/server.js'
import { createTestDatabase, type TestDatabase } from './pg.js'
import { createTcpProxy, type TcpProxy } from './tcp-proxy.js'

interface DatabaseTarget { readonly url: string }

export interface TestServerOptions<D extends DatabaseTarget> {
  /** Reach PostgreSQL through a TCP proxy, open at start or closed (unreachable until `proxy.open()`). */
  proxy?: 'open' | 'closed'
  /** Migrate the fresh database first; by default the server does, on its first connection, as in production. */
  migrate?: boolean
  /** A database to use instead of a fresh one (a second instance on the same data); `close()` leaves it alone. */
  database?: D
  /** Silent by default. */
  log?: Logger
}

export interface TestServer<D extends DatabaseTarget = TestDatabase, P extends TcpProxy | undefined = TcpProxy | undefined> {
  readonly server: Server
  /** The fresh database, or the one given. */
  readonly database: D
  readonly proxy: P
  /** Closes the server ('test over'), then the proxy, then drops the database if it was made here. */
  close: () => Promise<void>
}

/**
 * `env` is the server's environment on top of PORT=0 and HOST=127.0.0.1; DATABASE_URL is always
 * the database's (through the proxy, with `proxy`).
 */
export function startTestServer<D extends DatabaseTarget = TestDatabase> (
  env: Env, options: TestServerOptions<D> & { proxy: 'open' | 'closed' }): Promise<TestServer<D, TcpProxy>>
export function startTestServer<D extends DatabaseTarget = TestDatabase> (
  env: Env, options?: TestServerOptions<D>): Promise<TestServer<D>>
export async function startTestServer<D extends DatabaseTarget> (env: Env, options: TestServerOptions<D> = {}): Promise<TestServer<D>> {
  const fresh = options.database === undefined ? await createTestDatabase({ migrate: options.migrate === true }) : undefined
  // Only a call without `database` makes one, and for it D is its default, TestDatabase.
  const database = (options.database ?? fresh) as D
  let proxy: TcpProxy | undefined
  try {
    let url = database.url
    if (options.proxy !== undefined) {
      const target = new URL(database.url)
      proxy = await createTcpProxy(target.hostname, Number(target.port))
      if (options.proxy === 'open') await proxy.open()
      target.host = `127.0.0.1:${proxy.port}`
      url = target.toString()
    }
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env, DATABASE_URL: url })
    const server = await startServer(config, options.log ?? createLogger('silent', false))
    const close = async (): Promise<void> => {
      await server.close('test over')
      await proxy?.close()
      await fresh?.drop()
    }
    return { server, database, proxy, close }
  } catch (err) {
    await proxy?.close()
    await fresh?.drop()
    throw err
  }
}

/**
 * Waits until every server's database is connected and migrated (`db/main` ready): from then on
 * its admin API writes. Readiness itself may need more (the required partitions loaded).
 */
export async function untilDatabaseReady (...servers: Server[]): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!servers.every((s) => s.registry.requireIdentifier('db', 'main').ready)) {
    if (Date.now() > deadline) throw new Error('the database did not become ready within 30 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
