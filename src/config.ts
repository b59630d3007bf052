/**
 * Configuration: parsed once from the environment into a frozen, typed object. Pure. Each module
 * declares its own variables in one table (this file the server's; the dispatcher, observability
 * and security slices in theirs); --help and the README's table list them in the same order.
 */
import path from 'node:path'
import { DISPATCHER_SETTINGS, loadDispatcherSettings, type DispatcherSettings } from './dispatcher/dispatcher-settings.js'
import { bool, custom, int, listVar, parseSettings, present, text, type Env, type SettingsOf, type VarSpec } from './env-vars.js'
import { loadObservabilityConfig, OBSERVABILITY_SETTINGS, type ObservabilityConfig } from './observability/observability-config.js'
import { loadSecurityConfig, SECURITY_SETTINGS, type SecurityConfig } from './security-config.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

const UNSET = '(unset)'
const dataDirOf = (env: Env, cwd: string): string => path.resolve(cwd, present(env, 'RTROUTE_DATA_DIR') ?? '.rtroute')

function postgresUrl (env: Env, problems: string[]): string | undefined {
  const raw = present(env, 'DATABASE_URL')
  if (raw === undefined) return undefined
  let protocol: string
  try {
    protocol = new URL(raw).protocol
  } catch {
    problems.push('DATABASE_URL: expected a postgres:// URL')
    return undefined
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    problems.push(`DATABASE_URL: expected a postgres:// URL, got ${protocol}//…`)
    return undefined
  }
  return raw
}

function adminTokens (env: Env, problems: string[]): readonly string[] {
  const raw = present(env, 'RTROUTE_ADMIN_TOKEN')
  if (raw === undefined) return Object.freeze([])
  const tokens = raw.split(',').map((token) => token.trim()).filter((token) => token !== '')
  // The value is a secret: the message names the rule, never the token.
  if (tokens.some((token) => token.length < 16)) {
    problems.push('RTROUTE_ADMIN_TOKEN: expected comma-separated tokens of at least 16 characters each')
  }
  return Object.freeze(tokens)
}

function logLevel (env: Env, problems: string[]): LogLevel {
  const raw = present(env, 'LOG_LEVEL')?.toLowerCase()
  if (raw === undefined) return 'info'
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel
  problems.push(`LOG_LEVEL=${JSON.stringify(raw)}: expected one of ${LOG_LEVELS.join(', ')}`)
  return 'info'
}

function partitionName (env: Env, problems: string[]): string {
  const raw = present(env, 'RTROUTE_PARTITION')
  if (raw === undefined) return 'default'
  if (/^[A-Za-z0-9_-]{1,64}$/.test(raw)) return raw
  problems.push(`RTROUTE_PARTITION=${JSON.stringify(raw)}: expected 1 to 64 letters, digits, _ or -`)
  return 'default'
}

function partitionList (env: Env, problems: string[]): readonly string[] {
  const names = listVar(env, 'RTROUTE_REQUIRED_PARTITIONS')
  const bad = names.filter((name) => !/^[A-Za-z0-9_-]{1,64}$/.test(name))
  if (bad.length > 0) problems.push(`RTROUTE_REQUIRED_PARTITIONS: ${bad.map((name) => JSON.stringify(name)).join(', ')}: expected partition names (1 to 64 letters, digits, _ or -), comma-separated`)
  return Object.freeze([...new Set(names)])
}

/** The server's own variables; the README lists them first, in this order. */
export const SERVER_SETTINGS = {
  port: int('PORT', 8080, [0, 65_535], 'HTTP port rtroute listens on'),
  host: text('HOST', '0.0.0.0', 'address rtroute listens on'),
  listenBacklog: int('RTROUTE_LISTEN_BACKLOG', 4096, [1, 65_535],
    'connections the kernel queues before rtroute accepts them (capped by net.core.somaxconn); Node\'s 511 overflowed under a proxy opening a connection per query at a few hundred calls/s'),
  databaseUrl: custom({ name: 'DATABASE_URL', type: 'URL', default: UNSET, help: 'PostgreSQL connection URL; unset → embedded PostgreSQL' }, postgresUrl),
  dataDir: custom({ name: 'RTROUTE_DATA_DIR', type: 'path', default: './.rtroute', help: 'data directory; the embedded PostgreSQL lives in its `pg` folder' },
    (env, _problems, cwd) => dataDirOf(env, cwd)),
  embeddedPgDir: custom({ name: 'RTROUTE_PG_DIR', type: 'path', default: '$RTROUTE_DATA_DIR/pg', help: 'embedded PostgreSQL data directory' },
    (env, _problems, cwd) => path.resolve(cwd, present(env, 'RTROUTE_PG_DIR') ?? path.join(dataDirOf(env, cwd), 'pg'))),
  embeddedPgPort: int('RTROUTE_PG_PORT', 0, [0, 65_535], 'embedded PostgreSQL port on 127.0.0.1; 0 picks a free port'),
  adminTokens: custom({ name: 'RTROUTE_ADMIN_TOKEN', type: 'list', default: UNSET, help: 'admin bearer token(s), comma-separated, 16+ characters each; unset → the admin API answers loopback clients only' }, adminTokens),
  logLevel: custom({ name: 'LOG_LEVEL', type: 'level', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' }, logLevel),
  bodyLimit: int('RTROUTE_BODY_LIMIT', 1_048_576, [1024, 1_073_741_824], 'largest request body in bytes (imports included)'),
  importMaxDropPercent: int('RTROUTE_IMPORT_MAX_DROP_PERCENT', 50, [0, 100],
    'a whole-partition import that would drop more than this share of the partition\'s rows (gateways, carriers, rules and caller groups, in percent) is refused with 400 `would_wipe` unless it says `?allow_empty=true` (`--allow-empty` on the CLI import); so is one that leaves out a section, empties the partition or leaves it without rules'),
  dbPoolMax: int('RTROUTE_DB_POOL_MAX', 10, [1, 1000], 'PostgreSQL connections per instance'),
  dbQueryTimeoutMs: int('RTROUTE_DB_QUERY_TIMEOUT_MS', 60_000, [100, 3_600_000], 'a query without an answer by then fails instead of waiting on a dead connection'),
  dbRetryMinMs: int('RTROUTE_DB_RETRY_MIN_MS', 250, [10, 60_000], 'first delay between connection attempts'),
  dbRetryMaxMs: int('RTROUTE_DB_RETRY_MAX_MS', 10_000, [10, 600_000], 'longest delay between connection attempts (exponential, full jitter)'),
  dbHealthIntervalMs: int('RTROUTE_DB_HEALTH_INTERVAL_MS', 5000, [100, 3_600_000], 'how often a connected instance checks the database'),
  shutdownDrainMs: int('RTROUTE_SHUTDOWN_DRAIN_MS', 0, [0, 600_000],
    'on SIGTERM/SIGINT, time between `/readyz` turning 503 and the listener closing; set it to your load balancer\'s probe interval in production (the compose file uses 2000)'),
  shutdownTimeoutMs: int('RTROUTE_SHUTDOWN_TIMEOUT_MS', 10_000, [100, 600_000], 'hard limit for a graceful shutdown, after which the process exits 1'),
  demo: bool('RTROUTE_DEMO', true, 'seed the demo partition into an empty embedded database (`--no-demo` turns it off)'),
  defaultPartition: custom({ name: 'RTROUTE_PARTITION', type: 'name', default: 'default', help: 'partition of a routing query that names none; `/readyz` waits until it exists and is loaded' }, partitionName),
  requiredPartitions: custom({
    name: 'RTROUTE_REQUIRED_PARTITIONS',
    type: 'list',
    default: UNSET,
    help: 'comma-separated partitions that `/readyz` also waits for, each until it exists and is loaded (`RTROUTE_PARTITION` always is one)'
  }, partitionList),
  reloadIntervalMs: int('RTROUTE_RELOAD_INTERVAL_MS', 60_000, [1000, 86_400_000],
    'safety sweep: reload every partition whose data version differs from the loaded one (catches missed notifications)'),
  reloadDebounceMs: int('RTROUTE_RELOAD_DEBOUNCE_MS', 50, [0, 60_000], 'folds a burst of change notifications into one reload'),
  retryAfterS: int('RTROUTE_RETRY_AFTER_S', 5, [0, 3600], '`Retry-After` seconds of a `not_ready` routing answer, and of an admin call refused with `db_unavailable` before the database is migrated')
} as const

type ServerSettings = SettingsOf<typeof SERVER_SETTINGS>

export interface Config extends ServerSettings {
  /** Gateway health, probing and capacity accounting. */
  readonly dispatcher: DispatcherSettings
  /** Metrics, event thresholds, alerts, webhooks and the event stream. */
  readonly observability: ObservabilityConfig
  /** Who may use the proxy paths, and the admin API's rate limit. */
  readonly security: SecurityConfig
}

/** Every variable rtroute reads, in the README's order (test/docs.test.ts holds the two equal). */
export const CONFIG_VARS: readonly VarSpec[] = [
  ...Object.values(SERVER_SETTINGS),
  ...Object.values(DISPATCHER_SETTINGS),
  ...Object.values(SECURITY_SETTINGS),
  ...Object.values(OBSERVABILITY_SETTINGS)
]

export class ConfigError extends Error {
  constructor (readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
  }
}

/** Parses the environment. Throws a ConfigError naming every bad key. */
export function loadConfig (env: Env, cwd = process.cwd()): Config {
  const problems: string[] = []
  const server = parseSettings(SERVER_SETTINGS, env, problems, cwd)
  if (server.dbRetryMaxMs < server.dbRetryMinMs) {
    problems.push(`${SERVER_SETTINGS.dbRetryMaxMs.name}: expected a value not below ${SERVER_SETTINGS.dbRetryMinMs.name}`)
  }
  const config: Config = {
    ...server,
    dispatcher: loadDispatcherSettings(env, problems),
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
