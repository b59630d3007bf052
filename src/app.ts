/** Builds the HTTP app from ready dependencies. Never listens, never reads process.env. */
import type { GatewayHealthView, Route } from './routing/decide/decision.js'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { adminAuth } from './admin-auth.js'
import { databaseGate } from './database-gate.js'
import { createFailureLimiter, type AdminRateLimitOptions } from './admin-rate-limit.js'
import { matcher, trustProxyOption } from './client-address.js'
import { callsRoutes } from './dispatcher/calls.routes.js'
import type { CapacityStore } from './dispatcher/capacity-store.js'
import { feedbackRoutes } from './dispatcher/feedback.routes.js'
import type { GatewayStateRepository } from './dispatcher/gateway-state.repository.js'
import type { HealthStore } from './dispatcher/health-store.js'
import { stateRoutes } from './dispatcher/state.routes.js'
import { errorHandler, notFoundHandler } from './errors.js'
import type { Kysely } from 'kysely'
import type { Database } from './db.js'
import { routingAdminRoutes } from './routing/admin/admin.routes.js'
import { dataRoutes } from './routing/admin/data.routes.js'
import { explainRoutes } from './routing/decide/explain.routes.js'
import { reloadRoutes } from './routing/admin/reload.routes.js'
import type { RouteTables } from './routing/snapshot/route-tables.js'
import { routingRoutes } from './routing/decide/routing.routes.js'
import { observabilityAdminRoutes, observabilityPublicRoutes, type ObservabilityAppDeps } from './observability/observability.routes.js'
import { createPartitionDataRepository } from './routing/admin/partition-data.repository.js'
import { documentAdminScope, registerOpenApi } from './openapi.js'
import { registerStrictJsonParser } from './json-body.js'
import { registerProxyGuard, type ProxyGuardOptions } from './proxy-guard.js'
import { LOOPBACK_NETWORKS } from './net.js'
import { createValidatorCompiler } from './validation.js'
import type { ExternalGroups } from './status/external-groups.js'
import { healthRoutes } from './status/health.routes.js'
import { statusRoutes } from './status/status.routes.js'
import type { StatusRegistry } from './status/status-registry.js'

export interface AppDeps {
  readonly registry: StatusRegistry
  readonly externalGroups: ExternalGroups
  /** The routing data's database; without it the admin data routes are not mounted (unit tests). */
  readonly db?: Kysely<Database>
  /** The loaded partitions and the gateway health the decision reads; without them no routing routes. */
  readonly routing?: RoutingDeps
  readonly dispatcher?: DispatcherDeps
  /** Metrics, events, webhooks and the status page; without it none of those routes are mounted. */
  readonly observability?: ObservabilityAppDeps
}

export interface RoutingDeps {
  readonly tables: RouteTables
  /** Gateway health of a partition, as the decision reads it. */
  readonly health: (partition: string) => GatewayHealthView
  readonly now?: () => number
  /** Told of every routed answer (capacity leases). */
  readonly onRouted?: (partition: string, callId: string, routes: readonly Route[]) => void
}

/** Gateway health: the store the feedback and state routes act on. */
export interface DispatcherDeps {
  readonly store: HealthStore
  readonly repository: GatewayStateRepository
  readonly isLeader: () => boolean
  /** Capacity accounting: call events, lease moves on failover, counts in the state routes. */
  readonly capacity?: CapacityStore
}

export interface AppOptions {
  /** A pino logger; false (the default, for tests) logs nothing. */
  readonly logger?: FastifyBaseLogger | false
  readonly bodyLimit?: number
  /** Admin bearer tokens; empty → the admin API answers loopback clients only. */
  readonly adminTokens?: readonly string[]
  /** Serve /openapi.json and /docs (on by default). */
  readonly docs?: boolean
  readonly version?: string
  /** The partition of a routing query that names none (default `default`). */
  readonly defaultPartition?: string
  /** Retry-After seconds on a not_ready answer (default 5). */
  readonly retryAfterS?: number
  /** Source allow-list and shared secret of the proxy paths (default: loopback only, no secret). */
  readonly proxyGuard?: Omit<ProxyGuardOptions, 'trusted'>
  /** Reverse proxies (canonical CIDRs) whose X-Forwarded-For is believed (default: none). */
  readonly trustProxy?: readonly string[]
  /** Limit on failed admin authentications per client address (default: none). */
  readonly adminRateLimit?: AdminRateLimitOptions
  /** The share of a partition (percent of its rows) an import may drop without ?allow_empty=true (default 50). */
  readonly importMaxDropPercent?: number
  /**
   * Whether the database is connected and migrated (serve passes it; tests that bring a migrated
   * database leave it out). Until it is, admin calls that need the database answer 503 db_unavailable.
   */
  readonly databaseReady?: () => boolean
}

/**
 * The app's logger with fastify's serializers of `req` and `res` (what it would add to a logger it
 * owned): a request or reply in a log line is its method, URL and address, or its status, never
 * its headers. Built once; per-request children inherit them.
 */
function requestLogger (log: FastifyBaseLogger): FastifyBaseLogger {
  return log.child({}, {
    serializers: {
      req: (request: FastifyRequest) => ({ method: request.method, url: request.url, host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort }),
      res: (reply: FastifyReply) => ({ statusCode: reply.statusCode })
    }
  })
}

export async function buildApp (deps: AppDeps, opts: AppOptions = {}): Promise<FastifyInstance> {
  const trustProxy = trustProxyOption(opts.trustProxy ?? [])
  const trusted = matcher(opts.trustProxy ?? [])
  const log = opts.logger === undefined || opts.logger === false ? undefined : requestLogger(opts.logger)
  const app = Fastify({
    // Per-request log lines cost a third of the throughput on the routing path: decisions are
    // counted, not logged. So fastify gets no logger of its own: with one it builds, for every
    // request, a pino child and the response listeners of request logging even with that logging
    // off. request.log is still the app's logger: a child with the request id on every route
    // (this factory), the logger itself on the proxy paths (routing.routes.ts).
    logger: false,
    ...(log === undefined ? {} : { childLoggerFactory: (_none, bindings, options) => log.child(bindings, options) }),
    // Still off: request.log is a real logger, and fastify's own per-request lines would use it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1_048_576,
    // A request that reaches a connection still open during shutdown is answered, not refused (src/drain.ts).
    return503OnClosing: false,
    // request.ip believes X-Forwarded-For from these hops only (src/client-address.ts).
    ...(trustProxy === undefined ? {} : { trustProxy })
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  registerStrictJsonParser(app)
  registerProxyGuard(app, { ...(opts.proxyGuard ?? { allow: LOOPBACK_NETWORKS, secrets: [] }), trusted })
  if (opts.docs !== false) await registerOpenApi(app, opts.version ?? '0.0.0', { proxySecret: (opts.proxyGuard?.secrets.length ?? 0) > 0 })

  const defaultPartition = opts.defaultPartition ?? 'default'
  const limiter = opts.adminRateLimit === undefined ? undefined : createFailureLimiter(opts.adminRateLimit)
  const authenticate = adminAuth(opts.adminTokens ?? [], { trusted, ...(limiter === undefined ? {} : { limiter }) })
  await app.register(healthRoutes, { registry: deps.registry })
  if (deps.observability !== undefined) await app.register(observabilityPublicRoutes, { ...deps.observability, adminAuth: authenticate })
  const { routing } = deps
  if (routing !== undefined) {
    await app.register(routingRoutes, {
      ...routing,
      defaultPartition,
      retryAfterS: opts.retryAfterS ?? 5,
      observer: deps.observability?.routingObserver,
      log
    })
    if (deps.dispatcher !== undefined) {
      const capacity = deps.dispatcher.capacity
      await app.register(feedbackRoutes, {
        tables: routing.tables,
        store: deps.dispatcher.store,
        defaultPartition,
        onReport: deps.observability?.onFeedback,
        onBranchFailed: capacity?.failover
      })
      if (capacity !== undefined) {
        await app.register(callsRoutes, { tables: routing.tables, capacity, defaultPartition, onEvent: deps.observability?.onCallEvent })
      }
    }
  }
  await app.register(async (admin) => {
    admin.addHook('onRequest', authenticate)
    admin.addHook('onRoute', documentAdminScope)
    if (opts.databaseReady !== undefined) admin.addHook('onRequest', databaseGate(opts.databaseReady, opts.retryAfterS ?? 5))
    await admin.register(statusRoutes, { registry: deps.registry, externalGroups: deps.externalGroups })
    if (deps.db !== undefined) {
      await admin.register(dataRoutes, { repository: createPartitionDataRepository(deps.db), maxDropPercent: opts.importMaxDropPercent ?? 50 })
      await admin.register(routingAdminRoutes, { db: deps.db })
    }
    if (routing !== undefined) {
      await admin.register(explainRoutes, routing)
      await admin.register(reloadRoutes, { tables: routing.tables })
    }
    if (routing !== undefined && deps.dispatcher !== undefined) {
      await admin.register(stateRoutes, { tables: routing.tables, ...deps.dispatcher })
    }
    if (deps.observability !== undefined) {
      await admin.register(observabilityAdminRoutes, { ...deps.observability, registry: deps.registry, tables: routing?.tables, store: deps.dispatcher?.store, capacity: deps.dispatcher?.capacity })
    }
  })
  return app
}
