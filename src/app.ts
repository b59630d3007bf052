/** Builds the HTTP app from ready dependencies. Never listens, never reads process.env. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { adminAuth } from './admin-auth.js'
import { errorHandler, notFoundHandler } from './errors.js'
import type { ExternalGroups } from './status/external-groups.js'
import { healthRoutes } from './status/health.routes.js'
import { statusRoutes } from './status/status.routes.js'
import type { StatusRegistry } from './status/status-registry.js'

export interface AppDeps {
  readonly registry: StatusRegistry
  readonly externalGroups: ExternalGroups
}

export interface AppOptions {
  /** A pino logger; false (the default, for tests) logs nothing. */
  readonly logger?: FastifyBaseLogger | false
  readonly bodyLimit?: number
  /** Admin bearer tokens; empty → the admin API answers loopback clients only. */
  readonly adminTokens?: readonly string[]
}

export async function buildApp (deps: AppDeps, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger === undefined || opts.logger === false ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: opts.bodyLimit ?? 1_048_576,
    // Per-request log lines cost a third of the throughput on the routing path: decisions are counted, not logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)

  await app.register(healthRoutes, { registry: deps.registry })
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminAuth(opts.adminTokens ?? []))
    await admin.register(statusRoutes, { registry: deps.registry, externalGroups: deps.externalGroups })
  })
  return app
}
