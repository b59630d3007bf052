/** Configuration: parsed once from the environment into a frozen, typed object. Pure. */
import path from 'node:path'
import { boolVar, intVar, present, type Env, type VarSpec } from './env-vars.js'

export type { VarSpec } from './env-vars.js'
import { loadObservabilityConfig, OBSERVABILITY_VARS, type ObservabilityConfig } from './observability/observability-config.js'
import { loadSecurityConfig, SECURITY_VARS, type SecurityConfig } from './security-config.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface Config {
  readonly port: number
  readonly host: string
  /** PostgreSQL to use; undefined → embedded PostgreSQL in `embeddedPgDir`. */
  readonly databaseUrl: string | undefined
  readonly dataDir: string
  readonly embeddedPgDir: string
  /** 0 picks a free port at start. */
  readonly embeddedPgPort: number
  readonly adminTokens: readonly string[]
  readonly logLevel: LogLevel
  /** Largest accepted request body, bytes. */
  readonly bodyLimit: number
  readonly dbPoolMax: number
  /** A query without an answer by then fails (and is retried where that applies). */
  readonly dbQueryTimeoutMs: number
  /** Backoff between connection attempts while the database is unreachable. */
  readonly dbRetryMinMs: number
  readonly dbRetryMaxMs: number
  /** How often a connected instance checks that the database still answers. */
  readonly dbHealthIntervalMs: number
  /** Time between readiness turning false and the listener closing (load balancers drain). */
  readonly shutdownDrainMs: number
  /** Hard limit for a graceful shutdown; past it the process exits non-zero. */
  readonly shutdownTimeoutMs: number
  /** Seed the demo partition into an empty embedded database. */
  readonly demo: boolean
  /** Partition of a routing query that names none. */
  readonly defaultPartition: string
  /** Safety sweep: compare every partition's data version with what is loaded. */
  readonly reloadIntervalMs: number
  /** Folds a burst of change notifications into one reload. */
  readonly reloadDebounceMs: number
  /** Retry-After of a not_ready routing answer. */
  readonly retryAfterS: number
  /** Local address and port the OPTIONS prober sends from (0: any port). */
  readonly probeAddress: string
  readonly probePort: number
  /** The prober's own SIP name (Via/Contact host); must not be a gateway's address. */
  readonly probePublicAddress: string
  readonly probeFromUri: string
  /** Probing switch when none was set over HTTP yet. */
  readonly probing: boolean
  readonly probeConcurrency: number
  /** How often a standby tries the prober lock and the leader checks its connection. */
  readonly leaderHeartbeatMs: number
  /** Gateway events kept while the database is away. */
  readonly healthQueueMax: number
  /** How often call events are written to PostgreSQL and the cluster's call counts read back. */
  readonly capacitySyncMs: number
  /** Metrics, event thresholds, alerts, webhooks and the event stream. */
  readonly observability: ObservabilityConfig
  /** Who may use the proxy paths, and the admin API's rate limit. */
  readonly security: SecurityConfig
}


export const CONFIG_VARS: readonly VarSpec[] = [
  { name: 'PORT', default: '8080', meaning: 'HTTP port rtroute listens on' },
  { name: 'HOST', default: '0.0.0.0', meaning: 'address rtroute listens on' },
  { name: 'DATABASE_URL', default: '(unset)', meaning: 'PostgreSQL connection URL; unset → embedded PostgreSQL' },
  { name: 'RTROUTE_DATA_DIR', default: './.rtroute', meaning: 'data directory; the embedded PostgreSQL lives in its `pg` folder' },
  { name: 'RTROUTE_PG_DIR', default: '$RTROUTE_DATA_DIR/pg', meaning: 'embedded PostgreSQL data directory' },
  { name: 'RTROUTE_PG_PORT', default: '0', meaning: 'embedded PostgreSQL port on 127.0.0.1; 0 picks a free port' },
  { name: 'RTROUTE_ADMIN_TOKEN', default: '(unset)', meaning: 'admin bearer token(s), comma-separated; unset → admin API answers loopback clients only' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'RTROUTE_BODY_LIMIT', default: '1048576', meaning: 'largest request body in bytes (imports included)' },
  { name: 'RTROUTE_DB_POOL_MAX', default: '10', meaning: 'PostgreSQL connections per instance' },
  { name: 'RTROUTE_DB_QUERY_TIMEOUT_MS', default: '60000', meaning: 'a query without an answer by then fails instead of waiting on a dead connection' },
  { name: 'RTROUTE_DB_RETRY_MIN_MS', default: '250', meaning: 'first delay between connection attempts' },
  { name: 'RTROUTE_DB_RETRY_MAX_MS', default: '10000', meaning: 'longest delay between connection attempts' },
  { name: 'RTROUTE_DB_HEALTH_INTERVAL_MS', default: '5000', meaning: 'how often a connected instance checks the database' },
  { name: 'RTROUTE_SHUTDOWN_DRAIN_MS', default: '0', meaning: 'on SIGTERM/SIGINT, time between /readyz turning 503 and the listener closing' },
  { name: 'RTROUTE_SHUTDOWN_TIMEOUT_MS', default: '10000', meaning: 'hard limit for a graceful shutdown' },
  { name: 'RTROUTE_DEMO', default: 'true', meaning: 'seed the demo partition into an empty embedded database (`--no-demo` turns it off)' },
  { name: 'RTROUTE_PARTITION', default: 'default', meaning: 'partition of a routing query that names none' },
  { name: 'RTROUTE_RELOAD_INTERVAL_MS', default: '60000', meaning: 'safety sweep: reload partitions whose data version differs from the loaded one (catches missed notifications)' },
  { name: 'RTROUTE_RELOAD_DEBOUNCE_MS', default: '50', meaning: 'folds a burst of change notifications into one reload' },
  { name: 'RTROUTE_RETRY_AFTER_S', default: '5', meaning: 'Retry-After seconds of a not_ready routing answer' },
  { name: 'RTROUTE_PROBING', default: 'true', meaning: 'probe gateways with SIP OPTIONS until switched over HTTP (`PUT /v1/probing`)' },
  { name: 'RTROUTE_PROBE_ADDRESS', default: '0.0.0.0', meaning: 'local address the OPTIONS prober sends from' },
  { name: 'RTROUTE_PROBE_PORT', default: '0', meaning: 'local UDP port of the prober; 0 picks a free port' },
  { name: 'RTROUTE_PROBE_PUBLIC_ADDRESS', default: 'rtroute.invalid', meaning: "the prober's SIP host name in Via/Contact (never a gateway's address)" },
  { name: 'RTROUTE_PROBE_FROM', default: 'sip:rtroute@rtroute.invalid', meaning: 'From URI of OPTIONS probes' },
  { name: 'RTROUTE_PROBE_CONCURRENCY', default: '50', meaning: 'probes in flight at once in a round' },
  { name: 'RTROUTE_LEADER_HEARTBEAT_MS', default: '2000', meaning: 'how often a standby tries the prober lock and the prober checks its connection' },
  { name: 'RTROUTE_HEALTH_QUEUE_MAX', default: '100000', meaning: 'gateway events (feedback, probe results) kept while the database is away' },
  { name: 'RTROUTE_CAPACITY_SYNC_MS', default: '200', meaning: 'how often call events are written and the cluster\'s call counts read (bounds the cross-instance error of capacity limits)' },
  ...OBSERVABILITY_VARS,
  ...SECURITY_VARS
]

function urlVar (env: Env, name: string, problems: string[]): string | undefined {
  const raw = present(env, name)
  if (raw === undefined) return undefined
  let protocol: string
  try {
    protocol = new URL(raw).protocol
  } catch {
    problems.push(`${name}: expected a postgres:// URL`)
    return undefined
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    problems.push(`${name}: expected a postgres:// URL, got ${protocol}//…`)
    return undefined
  }
  return raw
}

function levelVar (env: Env, problems: string[]): LogLevel {
  const raw = present(env, 'LOG_LEVEL')?.toLowerCase()
  if (raw === undefined) return 'info'
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel
  problems.push(`LOG_LEVEL=${JSON.stringify(raw)}: expected one of ${LOG_LEVELS.join(', ')}`)
  return 'info'
}

function tokensVar (env: Env, problems: string[]): string[] {
  const raw = present(env, 'RTROUTE_ADMIN_TOKEN')
  if (raw === undefined) return []
  const tokens = raw.split(',').map((token) => token.trim()).filter((token) => token !== '')
  // The value is a secret: the message names the rule, never the token.
  if (tokens.some((token) => token.length < 16)) {
    problems.push('RTROUTE_ADMIN_TOKEN: expected comma-separated tokens of at least 16 characters each')
  }
  return tokens
}

function partitionVar (env: Env, problems: string[]): string {
  const raw = present(env, 'RTROUTE_PARTITION')
  if (raw === undefined) return 'default'
  if (/^[A-Za-z0-9_-]{1,64}$/.test(raw)) return raw
  problems.push(`RTROUTE_PARTITION=${JSON.stringify(raw)}: expected 1 to 64 letters, digits, _ or -`)
  return 'default'
}

export class ConfigError extends Error {
  constructor (readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
  }
}

/** Parses the environment. Throws a ConfigError naming every bad key. */
export function loadConfig (env: Env, cwd = process.cwd()): Config {
  const problems: string[] = []
  const dataDir = path.resolve(cwd, present(env, 'RTROUTE_DATA_DIR') ?? '.rtroute')
  const retryMin = intVar(env, 'RTROUTE_DB_RETRY_MIN_MS', 250, 10, 60_000, problems)
  const retryMax = intVar(env, 'RTROUTE_DB_RETRY_MAX_MS', 10_000, 10, 600_000, problems)
  if (retryMax < retryMin) {
    problems.push('RTROUTE_DB_RETRY_MAX_MS: expected a value not below RTROUTE_DB_RETRY_MIN_MS')
  }
  const config: Config = {
    port: intVar(env, 'PORT', 8080, 0, 65_535, problems),
    host: present(env, 'HOST') ?? '0.0.0.0',
    databaseUrl: urlVar(env, 'DATABASE_URL', problems),
    dataDir,
    embeddedPgDir: path.resolve(cwd, present(env, 'RTROUTE_PG_DIR') ?? path.join(dataDir, 'pg')),
    embeddedPgPort: intVar(env, 'RTROUTE_PG_PORT', 0, 0, 65_535, problems),
    adminTokens: Object.freeze(tokensVar(env, problems)),
    logLevel: levelVar(env, problems),
    bodyLimit: intVar(env, 'RTROUTE_BODY_LIMIT', 1_048_576, 1024, 1_073_741_824, problems),
    dbPoolMax: intVar(env, 'RTROUTE_DB_POOL_MAX', 10, 1, 1000, problems),
    dbQueryTimeoutMs: intVar(env, 'RTROUTE_DB_QUERY_TIMEOUT_MS', 60_000, 100, 3_600_000, problems),
    dbRetryMinMs: retryMin,
    dbRetryMaxMs: retryMax,
    dbHealthIntervalMs: intVar(env, 'RTROUTE_DB_HEALTH_INTERVAL_MS', 5000, 100, 3_600_000, problems),
    shutdownDrainMs: intVar(env, 'RTROUTE_SHUTDOWN_DRAIN_MS', 0, 0, 600_000, problems),
    shutdownTimeoutMs: intVar(env, 'RTROUTE_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000, problems),
    demo: boolVar(env, 'RTROUTE_DEMO', true, problems),
    defaultPartition: partitionVar(env, problems),
    reloadIntervalMs: intVar(env, 'RTROUTE_RELOAD_INTERVAL_MS', 60_000, 1000, 86_400_000, problems),
    reloadDebounceMs: intVar(env, 'RTROUTE_RELOAD_DEBOUNCE_MS', 50, 0, 60_000, problems),
    retryAfterS: intVar(env, 'RTROUTE_RETRY_AFTER_S', 5, 0, 3600, problems),
    probeAddress: present(env, 'RTROUTE_PROBE_ADDRESS') ?? '0.0.0.0',
    probePort: intVar(env, 'RTROUTE_PROBE_PORT', 0, 0, 65_535, problems),
    probePublicAddress: present(env, 'RTROUTE_PROBE_PUBLIC_ADDRESS') ?? 'rtroute.invalid',
    probeFromUri: present(env, 'RTROUTE_PROBE_FROM') ?? 'sip:rtroute@rtroute.invalid',
    probing: boolVar(env, 'RTROUTE_PROBING', true, problems),
    probeConcurrency: intVar(env, 'RTROUTE_PROBE_CONCURRENCY', 50, 1, 10_000, problems),
    leaderHeartbeatMs: intVar(env, 'RTROUTE_LEADER_HEARTBEAT_MS', 2000, 100, 600_000, problems),
    healthQueueMax: intVar(env, 'RTROUTE_HEALTH_QUEUE_MAX', 100_000, 100, 10_000_000, problems),
    capacitySyncMs: intVar(env, 'RTROUTE_CAPACITY_SYNC_MS', 200, 20, 60_000, problems),
    observability: loadObservabilityConfig(env, problems),
    security: loadSecurityConfig(env, problems)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/** The URL with its password replaced, for logs and reports. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable URL)'
  }
}
