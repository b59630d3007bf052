/**
 * Keeps rtroute's own embedded PostgreSQL running: when its postmaster exits unasked (killed,
 * crashed, stopped by hand) it is started again, with the database backoff (RTROUTE_DB_RETRY_*),
 * until it runs. The `db`/`embedded` status identifier says so: not ready while the server is
 * down, so `/readyz` answers 503 until it is back (writes fail meanwhile; routing answers from memory).
 */
import type { Logger } from 'pino'
import type { EmbeddedPostgres } from './embedded-postgres.js'
import { backoffDelay } from './retry.js'
import type { Identifier } from './status/status-registry.js'

/** Status values of `db`/`embedded`, documented in the README. */
export const EMBEDDED_STATUS = Object.freeze({ running: 1, down: -1 })

export interface EmbeddedSupervisorOptions {
  readonly server: Pick<EmbeddedPostgres, 'pid' | 'onExit' | 'restart'>
  readonly identifier: Identifier
  readonly log: Logger
  readonly retryMinMs: number
  readonly retryMaxMs: number
  /** After a restart: whatever waits for the database may try now instead of at its next backoff. */
  readonly onRestarted?: () => void
  readonly random?: () => number
  readonly now?: () => number
}

export interface EmbeddedSupervisor {
  /** No more restarts; waits for one in progress. */
  stop: () => Promise<void>
}

export function superviseEmbedded (options: EmbeddedSupervisorOptions): EmbeddedSupervisor {
  const { server, identifier, log } = options
  const random = options.random ?? Math.random
  const now = options.now ?? Date.now
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let attempts = 0
  let downAt = 0
  let restarting: Promise<void> = Promise.resolve()

  identifier.set(EMBEDDED_STATUS.running, `running (PID ${server.pid ?? '?'})`)

  const schedule = (): void => {
    if (stopped) return
    const delay = backoffDelay(attempts, options.retryMinMs, options.retryMaxMs, random)
    timer = setTimeout(() => { restarting = restart() }, delay)
  }

  async function restart (): Promise<void> {
    timer = undefined
    if (stopped) return
    attempts++
    try {
      await server.restart()
    } catch (err) {
      if (stopped) return
      const reason = err instanceof Error ? err.message : String(err)
      identifier.setDetails(`down, restart attempt ${attempts} failed: ${reason}`)
      log.warn({ attempt: attempts, err: reason }, 'embedded PostgreSQL did not restart, retrying')
      schedule()
      return
    }
    if (stopped) return
    const seconds = ((now() - downAt) / 1000).toFixed(1)
    identifier.set(EMBEDDED_STATUS.running, `running (PID ${server.pid ?? '?'}), restarted after ${seconds} s`)
    identifier.report(`embedded PostgreSQL restarted after ${seconds} s (attempt ${attempts}, PID ${server.pid ?? '?'})`)
    log.info({ attempts, downMs: now() - downAt, pid: server.pid }, `embedded PostgreSQL restarted after ${seconds} s (PID ${server.pid ?? '?'})`)
    options.onRestarted?.()
  }

  server.onExit(({ pid, reason }) => {
    if (stopped) return
    downAt = now()
    attempts = 0
    identifier.set(EMBEDDED_STATUS.down, `PostgreSQL (PID ${pid ?? '?'}) exited (${reason}), restarting`)
    identifier.report(`embedded PostgreSQL (PID ${pid ?? '?'}) exited (${reason}), restarting`)
    log.error({ pid, reason }, `embedded PostgreSQL (PID ${pid ?? '?'}) exited (${reason}): restarting it`)
    schedule()
  })

  return {
    async stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await restarting
    }
  }
}
