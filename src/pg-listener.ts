/**
 * A dedicated PostgreSQL connection for LISTEN: reconnects with backoff when the server goes
 * away, and says when it (re)connected so the owner can catch up on what it may have missed.
 */
import pg from 'pg'
import type { Logger } from 'pino'
import { backoffDelay } from './retry.js'

export interface PgListenerOptions {
  readonly url: string
  readonly channels: readonly string[]
  readonly onNotification: (channel: string, payload: string) => void
  /** After every successful LISTEN: `reconnected` is false the first time. */
  readonly onListening: (reconnected: boolean) => void
  readonly log: Logger
  readonly retryMinMs: number
  readonly retryMaxMs: number
}

export interface PgListener {
  start: () => void
  stop: () => Promise<void>
  readonly listening: boolean
}

export function createPgListener (options: PgListenerOptions): PgListener {
  let client: pg.Client | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let listening = false
  let everListened = false
  let failures = 0

  const retry = (reason: string): void => {
    listening = false
    const old = client
    client = undefined
    old?.removeAllListeners()
    old?.on('error', () => {})
    void old?.end().catch(() => {})
    if (stopped) return
    failures++
    const delay = backoffDelay(failures - 1, options.retryMinMs, options.retryMaxMs, Math.random)
    if (failures === 1 || failures % 10 === 0) options.log.warn({ attempt: failures, retryInMs: delay, reason }, 'LISTEN connection lost, reconnecting')
    timer = setTimeout(connect, delay)
  }

  function connect (): void {
    if (stopped) return
    const next = new pg.Client({ connectionString: options.url, keepAlive: true, application_name: 'rtroute-listen' })
    client = next
    next.on('notification', (message) => { options.onNotification(message.channel, message.payload ?? '') })
    next.on('error', (err) => { if (client === next) retry(err.message) })
    next.on('end', () => { if (client === next) retry('connection ended') })
    next.connect()
      .then(async () => {
        for (const channel of options.channels) await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`)
        if (client !== next) return
        listening = true
        failures = 0
        const reconnected = everListened
        everListened = true
        if (reconnected) options.log.info({ channels: options.channels }, 'LISTEN connection restored')
        options.onListening(reconnected)
      })
      .catch((err: Error) => { if (client === next) retry(err.message) })
  }

  return {
    start: connect,
    async stop () {
      stopped = true
      listening = false
      if (timer !== undefined) clearTimeout(timer)
      const old = client
      client = undefined
      old?.removeAllListeners()
      old?.on('error', () => {})
      await old?.end().catch(() => {})
    },
    get listening () { return listening }
  }
}
