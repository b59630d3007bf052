/** Which database a command uses: DATABASE_URL, else the embedded PostgreSQL of the data directory (its own, or a running `serve`'s). */
import type { Logger } from 'pino'
import { redactUrl, type Config } from './config.js'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js'

export interface DatabaseTarget {
  readonly url: string
  readonly embedded: EmbeddedPostgres | undefined
}

/**
 * `serve` runs the data directory's PostgreSQL itself and refuses a directory another rtroute
 * holds; the other commands use the server of a running `serve` when there is one.
 */
export async function resolveDatabase (config: Config, log: Logger, command: string): Promise<DatabaseTarget> {
  if (config.databaseUrl !== undefined) return { url: config.databaseUrl, embedded: undefined }
  const dir = config.embeddedPgDir
  log.info({ dir }, `DATABASE_URL is unset: using the embedded PostgreSQL in ${dir}`)
  const embedded = await startEmbeddedPostgres({
    dir,
    port: config.embeddedPgPort,
    database: 'rtroute',
    command: `rtroute ${command}`,
    attach: command !== 'serve',
    onLog: (line) => { log.debug({ source: 'postgres' }, line) }
  })
  const url = redactUrl(embedded.url)
  if (embedded.attached) {
    const whose = embedded.owner === undefined ? `running without rtroute (PID ${embedded.pid ?? '?'})` : `of ${embedded.owner.command} (PID ${embedded.owner.pid})`
    log.info({ dir, url }, `attached to the embedded PostgreSQL ${whose} in ${dir}; started none`)
  } else {
    log.info({ dir, url, pid: embedded.pid },
      `embedded PostgreSQL ${embedded.initialised ? 'initialised' : 'started'} (PID ${embedded.pid ?? '?'}): data lives in ${dir}`)
  }
  return { url: embedded.url, embedded }
}
