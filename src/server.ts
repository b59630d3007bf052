/**
 * `rtroute serve`: config → database (given or embedded) → app → listen, with the database
 * connected in the background (an outage at start is not a crash) and a graceful shutdown.
 */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { buildApp } from './app.js'
import { redactUrl, type Config } from './config.js'
import { createDb, type Db } from './db.js'
import { createDbMonitor, type DbMonitor } from './db-monitor.js'
import { closeHttpGracefully } from './drain.js'
import { resolveDatabase, type DatabaseTarget } from './database-target.js'
import { superviseEmbedded, type EmbeddedSupervisor } from './embedded-supervisor.js'
import { createEventBus, type EventBus } from './events.js'
import { exposureWarning } from './exposure.js'
import { migrateToLatest } from './migrate.js'
import { PACKAGE_VERSION } from './paths.js'
import { seedDemo } from './routing/admin/demo.js'
import { createPartitionDataRepository } from './routing/admin/partition-data.repository.js'
import { createSnapshotRepository } from './routing/snapshot/snapshot.repository.js'
import { createRouteTables } from './routing/snapshot/route-tables.js'
import { createPgListener } from './pg-listener.js'
import { createDispatcher } from './dispatcher/dispatcher.js'
import { countProbeResults, createMetrics } from './observability/metrics.js'
import { createObservability, type Observability } from './observability/observability.js'
import { createThresholds, queryTimeCheck, thresholdLimits } from './observability/thresholds.js'
import { createExternalGroups } from './status/external-groups.js'
import { createStatusGroupRepository } from './status/status-group.repository.js'
import { RING_SIZES, StatusRegistry } from './status/status-registry.js'

/** NOTIFY channel of data changes (migration 0002's triggers). */
const DATA_CHANNEL = 'rtroute_data'

/** Status values of `core`/`main`, as OpenSIPS uses them. */
export const CORE_STATUS = Object.freeze({ initialising: -1, running: 1, terminating: -2 })

export interface Server {
  readonly app: FastifyInstance
  readonly registry: StatusRegistry
  readonly bus: EventBus
  /** Metrics, events, alerts (tests reach the alert check and the Registry through it). */
  readonly observability: Observability
  /** The URL the server listens on. */
  readonly url: string
  /** Graceful shutdown: readiness off, drain, stop accepting, finish in-flight requests, close the database. */
  close: (reason: string) => Promise<void>
}

function displayUrl (config: Config, port: number): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

export async function startServer (config: Config, log: Logger): Promise<Server> {
  const bus = createEventBus((err, name) => { log.error({ err, event: name }, 'event listener failed') })
  const registry = new StatusRegistry(bus)
  // Before the database: it reports every query's time to the thresholds.
  const metrics = createMetrics(new Registry())
  const thresholds = createThresholds({ bus, metrics, log, limits: thresholdLimits(config.observability) })
  bus.on('E_CORE_SR_STATUS_CHANGED', (event) => {
    log.info({ event: 'E_CORE_SR_STATUS_CHANGED', ...event },
      `status ${event.group}/${event.identifier}: ${event.old_status} → ${event.status} (${event.details})`)
  })
  const core = registry.createGroup('core', { required: true, ringSize: RING_SIZES.core })
    .add('main', { status: CORE_STATUS.initialising, details: 'initialising' })
  const dbGroup = registry.createGroup('db', { required: true, ringSize: RING_SIZES.partition })
  const dbStatus = dbGroup.add('main', { status: -1, details: 'connecting' })
  core.report('initialising')

  const target = await resolveDatabase(config, log, 'serve')
  const db = createDb({
    url: target.url,
    poolMax: config.dbPoolMax,
    queryTimeoutMs: config.dbQueryTimeoutMs,
    onQuery: queryTimeCheck(thresholds),
    onPoolError: (err) => { log.warn({ err: err.message }, 'idle database connection failed') }
  })
  const externalGroups = createExternalGroups(registry, createStatusGroupRepository(db.kysely))
  const partitionData = createPartitionDataRepository(db.kysely)
  const routingGroup = registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
  const dispatcher = createDispatcher({
    kysely: db.kysely,
    url: target.url,
    settings: config.dispatcher,
    retryMinMs: config.dbRetryMinMs,
    retryMaxMs: config.dbRetryMaxMs,
    bus,
    log,
    eventsOf: (partition) => routingGroup.get(`${partition};events`),
    onProbeResults: (partition, results) => { countProbeResults(metrics, partition, results) }
  })
  const tables = createRouteTables({
    repository: createSnapshotRepository(db.kysely),
    group: routingGroup,
    log,
    debounceMs: config.reloadDebounceMs,
    retryMinMs: config.dbRetryMinMs,
    retryMaxMs: config.dbRetryMaxMs,
    required: [config.defaultPartition, ...config.requiredPartitions],
    onLoad: dispatcher.sync,
    onRemove: dispatcher.drop,
    // Reloads begin once the database monitor starts (below), when `observability` exists.
    onReloaded: (outcome) => { observability.onReloaded(outcome) }
  })
  const observability = createObservability({
    bus,
    log,
    config: config.observability,
    metrics,
    thresholds,
    statusRegistry: registry,
    tables,
    store: dispatcher.store,
    capacity: dispatcher.capacity,
    kysely: db.kysely,
    isLeader: dispatcher.isLeader,
    version: PACKAGE_VERSION
  })
  const listener = createPgListener({
    url: target.url,
    channels: [DATA_CHANNEL, ...dispatcher.channels],
    onNotification: (channel, payload) => {
      if (channel === DATA_CHANNEL) tables.notify(payload)
      else dispatcher.onNotification(channel, payload)
    },
    // What changed while nobody listened: partitions by data version, gateway state read again.
    onListening: () => {
      void tables.sweep('listening for changes')
      void dispatcher.resync().catch(() => {})
    },
    log,
    retryMinMs: config.dbRetryMinMs,
    retryMaxMs: config.dbRetryMaxMs
  })
  let sweepTimer: NodeJS.Timeout | undefined
  /** Migrated, status groups loaded, demo seeded: the admin API may use the database (src/database-gate.ts). */
  let databaseReady = false
  /** Start-up work of the first connection, and whether a shutdown began (it waits for that work to stop). */
  let starting: Promise<void> = Promise.resolve()
  let stopping = false
  const monitor = createDbMonitor({
    kysely: db.kysely,
    identifier: dbStatus,
    log,
    target: redactUrl(target.url),
    retryMinMs: config.dbRetryMinMs,
    retryMaxMs: config.dbRetryMaxMs,
    healthIntervalMs: config.dbHealthIntervalMs,
    onFirstConnect: async () => {
      starting = (async () => {
        const applied = await migrateToLatest(db.kysely)
        for (const result of applied) log.info(`migration ${result.migrationName}: ${result.status}`)
        await externalGroups.load()
        // Only into a fresh embedded database: a real deployment's data is never touched.
        if (target.embedded !== undefined && config.demo) await seedDemo(partitionData, log)
        databaseReady = true
        // A SIGTERM during start-up: start nothing the shutdown has already stopped (it would keep the process alive).
        if (stopping) return
        await dispatcher.start()
        if (stopping) return
        listener.start()
        await tables.sweep('start')
        if (stopping) return
        sweepTimer = setInterval(() => { void tables.sweep('periodic') }, config.reloadIntervalMs)
      })()
      await starting
    },
    onReconnect: async () => {
      await tables.sweep('database reconnected')
      await dispatcher.resync()
    }
  })
  const supervisor = target.embedded === undefined
    ? undefined
    : superviseEmbedded({
      server: target.embedded,
      identifier: dbGroup.add('embedded', { status: 1, details: 'running' }),
      log,
      retryMinMs: config.dbRetryMinMs,
      retryMaxMs: config.dbRetryMaxMs,
      // What waits for the database goes now rather than at its next backoff.
      onRestarted: () => { monitor.checkNow(); void dispatcher.store.flush(); void dispatcher.capacity.sync() }
    })

  let app: FastifyInstance
  try {
    app = await buildApp({ registry, externalGroups, db: db.kysely, routing: { tables, health: dispatcher.view, onRouted: dispatcher.capacity.onRouted }, dispatcher, observability }, {
      logger: log,
      bodyLimit: config.bodyLimit,
      importMaxDropPercent: config.importMaxDropPercent,
      databaseReady: () => databaseReady,
      adminTokens: config.adminTokens,
      version: PACKAGE_VERSION,
      defaultPartition: config.defaultPartition,
      retryAfterS: config.retryAfterS,
      proxyGuard: { allow: config.security.proxyAllow, secrets: config.security.proxySecrets },
      trustProxy: config.security.trustProxy,
      adminRateLimit: { max: config.security.adminRateMax, windowMs: config.security.adminRateWindowMs }
    })
    await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog })
  } catch (err) {
    observability.stop()
    await listener.stop()
    await closeDatabase(db, monitor, target, supervisor, log)
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const url = displayUrl(config, port)
  core.set(CORE_STATUS.running, 'running')
  core.report('running')
  log.info(`rtroute listening on ${url}`)
  const exposure = exposureWarning({
    host: config.host,
    proxyRoutes: app.routeAccess.proxy,
    proxyAllow: config.security.proxyAllow,
    proxySecret: config.security.proxySecrets.length > 0,
    trustProxy: config.security.trustProxy,
    adminToken: config.adminTokens.length > 0
  })
  if (exposure !== undefined) log.warn(exposure)
  else if (config.adminTokens.length === 0) log.warn('RTROUTE_ADMIN_TOKEN is unset: the admin API answers loopback clients only')
  monitor.start()
  observability.start()

  let closing: Promise<void> | undefined
  const close = async (reason: string): Promise<void> => {
    closing ??= shutdown(reason)
    await closing
  }
  const shutdown = async (reason: string): Promise<void> => {
    // Readiness turns false first, so load balancers stop sending before the listener closes.
    stopping = true
    // A postmaster that exits from now on (Ctrl-C reaches it too) is not restarted.
    const supervised = supervisor?.stop()
    core.set(CORE_STATUS.terminating, 'terminating')
    core.report(`terminating: ${reason}`)
    log.info({ reason, drainMs: config.shutdownDrainMs }, 'shutting down')
    // Serving as usual while load balancers see readiness false; then the listener closes without resetting anyone (src/drain.ts).
    if (config.shutdownDrainMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
    await closeHttpGracefully(app)
    observability.stop()
    monitor.stop()
    await starting.catch(() => {})
    if (sweepTimer !== undefined) clearInterval(sweepTimer)
    tables.stop()
    await dispatcher.stop()
    await listener.stop()
    await supervised
    await closeDatabase(db, monitor, target, supervisor, log)
    log.info('stopped')
  }
  return { app, registry, bus, observability, url, close }
}

async function closeDatabase (db: Db, monitor: DbMonitor, target: DatabaseTarget, supervisor: EmbeddedSupervisor | undefined, log: Logger): Promise<void> {
  monitor.stop()
  await db.close().catch((err: unknown) => { log.warn({ err }, 'closing the database pool failed') })
  await supervisor?.stop()
  if (target.embedded !== undefined) {
    await target.embedded.stop()
    log.info('embedded PostgreSQL stopped')
  }
}

/** Runs the server until SIGINT/SIGTERM; a second signal, or a shutdown past its time limit, exits at once. */
export async function serve (config: Config, log: Logger): Promise<void> {
  // eslint-disable-next-line prefer-const -- read by onSignal before start-up assigns it
  let server: Server | undefined
  let signalled: NodeJS.Signals | undefined
  const close = (running: Server, signal: NodeJS.Signals): void => {
    running.close(signal).then(() => { process.exitCode = 0 }, (err: unknown) => {
      log.error({ err }, 'shutdown failed')
      process.exitCode = 1
    })
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      log.warn(`${signal} again: exiting without waiting`)
      process.exit(130)
    }
    signalled = signal
    setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown took too long: exiting')
      process.exit(1)
    }, config.shutdownTimeoutMs).unref()
    if (server !== undefined) close(server, signal)
  }
  // Installed before start-up: a signal meanwhile (an embedded PostgreSQL starting, say) closes
  // the server once it exists, instead of killing the process with its PostgreSQL orphaned.
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('unhandledRejection', (err) => { log.error({ err }, 'unhandled promise rejection') })
  server = await startServer(config, log)
  if (signalled !== undefined) close(server, signalled)
}
