/**
 * Keeps the database connection honest: connects at start with backoff (an outage is not a crash),
 * runs the start-up work once connected, then checks the connection periodically. Its findings
 * are the `db`/`main` status identifier and its reports.
 */
import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import { backoffDelay } from './retry.js'
import type { Identifier } from './status/status-registry.js'

/** Status values of `db`/`main`, documented in the README. */
export const DB_STATUS = Object.freeze({
  /** Never reached since start: routing has no data to serve. */
  unreachable: -2,
  connecting: -1,
  connected: 1,
  /** Was connected, lost it: still ready, everything serves from memory. */
  degraded: 2
})

export interface DbMonitorOptions {
  readonly kysely: Kysely<any>
  readonly identifier: Identifier
  readonly log: Logger
  /** Where the database is, for logs and reports (password already redacted). */
  readonly target: string
  readonly retryMinMs: number
  readonly retryMaxMs: number
  readonly healthIntervalMs: number
  /** Start-up work (migrations, loading): runs once per process, retried with the connection until it succeeds. */
  readonly onFirstConnect: () => Promise<void>
  /** Runs after every recovery from an outage. */
  readonly onReconnect?: () => Promise<void>
  readonly random?: () => number
}

export interface DbMonitor {
  start: () => void
  stop: () => void
  /** Checks the connection now rather than at the next interval (the database was just restarted). */
  checkNow: () => void
  /** Resolves once the first connection and its start-up work succeeded. */
  readonly ready: Promise<void>
}

const describe = (err: unknown): string => {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
  }
  return String(err)
}

export function createDbMonitor (options: DbMonitorOptions): DbMonitor {
  const { identifier, log, target } = options
  const random = options.random ?? Math.random
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let failures = 0
  let lostAt = 0
  /** The periodic checks began (after the first connection), and whether one is running now. */
  let checking = false
  let inCheck = false
  let resolveReady!: () => void
  const ready = new Promise<void>((resolve) => { resolveReady = resolve })

  const schedule = (ms: number, fn: () => Promise<void>): void => {
    if (stopped) return
    timer = setTimeout(() => { void fn() }, ms)
  }

  const ping = async (): Promise<void> => { await sql`SELECT 1`.execute(options.kysely) }

  const retryDelay = (): number => backoffDelay(failures - 1, options.retryMinMs, options.retryMaxMs, random)

  async function connect (): Promise<void> {
    try {
      await ping()
      await options.onFirstConnect()
    } catch (err) {
      failures++
      const delay = retryDelay()
      identifier.set(DB_STATUS.unreachable, `unreachable: ${describe(err)}`)
      if (failures === 1) identifier.report(`database ${target} unreachable: ${describe(err)}`)
      log.warn({ attempt: failures, retryInMs: delay, err: describe(err) }, `database ${target} unreachable, retrying`)
      schedule(delay, connect)
      return
    }
    identifier.set(DB_STATUS.connected, 'connected')
    identifier.report(`connected to database ${target}${failures > 0 ? ` after ${failures} failed attempts` : ''}`)
    log.info({ attempts: failures + 1 }, `connected to database ${target}`)
    failures = 0
    resolveReady()
    checking = true
    schedule(options.healthIntervalMs, check)
  }

  async function check (): Promise<void> {
    inCheck = true
    try {
      await checkOnce()
    } finally {
      inCheck = false
    }
  }

  async function checkOnce (): Promise<void> {
    try {
      await ping()
    } catch (err) {
      failures++
      if (failures === 1) {
        lostAt = Date.now()
        identifier.set(DB_STATUS.degraded, `connection lost, serving from memory: ${describe(err)}`)
        identifier.report(`database connection lost: ${describe(err)}`)
      }
      const delay = Math.min(retryDelay(), options.healthIntervalMs)
      log.warn({ attempt: failures, retryInMs: delay, err: describe(err) }, `database ${target} unreachable, retrying`)
      schedule(delay, check)
      return
    }
    if (failures > 0) {
      const seconds = ((Date.now() - lostAt) / 1000).toFixed(1)
      failures = 0
      identifier.set(DB_STATUS.connected, 'connected')
      identifier.report(`database connection restored after ${seconds} s`)
      log.info(`database ${target} reachable again after ${seconds} s`)
      try {
        await options.onReconnect?.()
      } catch (err) {
        log.error({ err }, 'work after database reconnect failed')
      }
    }
    schedule(options.healthIntervalMs, check)
  }

  return {
    ready,
    start () {
      identifier.set(DB_STATUS.connecting, 'connecting')
      void connect()
    },
    checkNow () {
      if (stopped || !checking || inCheck) return
      if (timer !== undefined) clearTimeout(timer)
      void check()
    },
    stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
