/**
 * One instance probes at a time: the holder of a PostgreSQL session advisory lock. The lock lives
 * as long as its connection; when the leader dies its session ends and another instance takes
 * over. A leader checks its connection at every heartbeat and steps down when it cannot, so a
 * leader cut off from the database stops probing instead of disagreeing with the new one.
 */
import pg from 'pg'
import type { Logger } from 'pino'

/** hashtext('rtroute:prober') would do too; a fixed key keeps the lock easy to find in pg_locks. */
export const PROBER_LOCK_KEY = 7_715_001

export interface LeaderOptions {
  readonly url: string
  readonly key?: number
  /** How often a standby tries the lock and a leader checks its connection. */
  readonly heartbeatMs: number
  readonly log: Logger
  readonly onChange: (leader: boolean) => void
}

export interface LeaderElection {
  start: () => void
  stop: () => Promise<void>
  readonly leader: boolean
}

export function createLeaderElection (options: LeaderOptions): LeaderElection {
  const key = options.key ?? PROBER_LOCK_KEY
  let client: pg.Client | undefined
  let timer: NodeJS.Timeout | undefined
  let leader = false
  let stopped = false

  const setLeader = (value: boolean): void => {
    if (leader === value) return
    leader = value
    options.log.info({ leader: value }, value ? 'this instance now probes gateways (prober lock held)' : 'this instance stopped probing (prober lock released)')
    options.onChange(value)
  }

  const drop = (): void => {
    const old = client
    client = undefined
    old?.removeAllListeners()
    old?.on('error', () => {})
    void old?.end().catch(() => {})
    setLeader(false)
  }

  const schedule = (): void => {
    if (!stopped) timer = setTimeout(() => { void beat() }, options.heartbeatMs)
  }

  async function beat (): Promise<void> {
    try {
      if (client === undefined) {
        const next = new pg.Client({ connectionString: options.url, keepAlive: true, application_name: 'rtroute-leader', connectionTimeoutMillis: options.heartbeatMs })
        next.on('error', () => { if (client === next) drop() })
        next.on('end', () => { if (client === next) drop() })
        client = next
        await next.connect()
      }
      const current = client
      if (leader) {
        await withTimeout(current.query('SELECT 1'), options.heartbeatMs)
      } else {
        const result = await withTimeout(current.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]), options.heartbeatMs)
        if (result.rows[0]?.locked === true && client === current) setLeader(true)
      }
    } catch {
      drop()
    }
    schedule()
  }

  return {
    start: () => { void beat() },
    async stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      const old = client
      client = undefined
      setLeader(false)
      // Ending the session releases the lock at once, so a standby takes over without waiting.
      old?.removeAllListeners()
      old?.on('error', () => {})
      await old?.end().catch(() => {})
    },
    get leader () { return leader }
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no answer within ${ms} ms`)) }, ms) })])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
