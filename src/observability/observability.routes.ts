/**
 * The HTTP side of observability. Public: GET /metrics (unless RTROUTE_METRICS_AUTH) and the status
 * page's static files (the page holds no data; it reads the admin API with the operator's token).
 * Admin: the event stream, webhook subscriptions and the overview the page renders.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, onRequestAsyncHookHandler } from 'fastify'
import { Type } from 'typebox'
import type { CallEvent } from '../dispatcher/call-events.js'
import type { FeedbackReport } from '../dispatcher/feedback.js'
import { AppError } from '../errors.js'
import { PACKAGE_ROOT } from '../paths.js'
import type { RoutingObserver } from '../routing/decide/decision.js'
import { parseEventNames, type EventStream } from './event-stream.js'
import type { Metrics } from './metrics.js'
import { overviewRoutes, type OverviewRoutesOptions } from './overview.routes.js'
import type { SubscriptionRepository } from './subscription.repository.js'
import { subscriptionRoutes } from './subscriptions.routes.js'

/** What buildApp needs from the observability assembly (src/observability/observability.ts). */
export interface ObservabilityAppDeps {
  readonly metrics: Metrics
  /** GET /metrics behind the admin authentication. */
  readonly metricsAuth: boolean
  readonly stream: EventStream
  readonly subscriptions?: SubscriptionRepository
  readonly routingObserver?: RoutingObserver
  readonly onFeedback?: (report: FeedbackReport) => void
  readonly onCallEvent?: (event: CallEvent) => void
  readonly instance: string
  readonly isLeader?: () => boolean
}

export const PUBLIC_DIR = path.join(PACKAGE_ROOT, 'public')
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8'
}

export const observabilityPublicRoutes: FastifyPluginAsyncTypebox<ObservabilityAppDeps & { adminAuth: onRequestAsyncHookHandler }> = async (app, options) => {
  const { registry } = options.metrics
  app.get('/metrics', {
    ...(options.metricsAuth ? { onRequest: options.adminAuth } : {}),
    schema: { tags: ['status'], summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] }
  }, async (_request, reply) => {
    return await reply.header('content-type', registry.contentType).send(await registry.metrics())
  })

  // Read once at start: the page is served from memory, from the package itself (no CDN, no network).
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(path.join(PUBLIC_DIR, name)) }]))
  const serve = (name: string) => async (_request: unknown, reply: FastifyReply) => {
    const file = files.get(name) as { type: string, body: Buffer }
    return await reply.header('content-type', file.type).header('cache-control', 'no-cache').send(file.body)
  }
  app.get('/', { schema: { hide: true } }, serve('index.html'))
  app.get('/status/status.js', { schema: { hide: true } }, serve('status.js'))
  app.get('/status/status.css', { schema: { hide: true } }, serve('status.css'))
}

export const observabilityAdminRoutes: FastifyPluginAsyncTypebox<ObservabilityAppDeps & Omit<OverviewRoutesOptions, 'instance' | 'isLeader'>> = async (app, options) => {
  const { stream } = options
  // Open streams would hold the listener open: they are ended before the server closes.
  app.addHook('preClose', async () => { stream.close() })

  app.get('/v1/events', {
    schema: {
      tags: ['events'],
      summary: 'Live events as Server-Sent Events (text/event-stream); ?events=E_A,E_B chooses, default all',
      querystring: Type.Object({ events: Type.Optional(Type.String({ maxLength: 1024 })) }),
      produces: ['text/event-stream']
    }
  }, async (request, reply) => {
    const { names, unknown } = parseEventNames(request.query.events)
    if (unknown.length > 0) throw new AppError(400, 'validation_error', `unknown event ${unknown.join(', ')}`)
    reply.hijack()
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no'
    })
    stream.attach(reply.raw, names)
  })

  const answers = options.metrics.answers
  await app.register(overviewRoutes, {
    registry: options.registry, tables: options.tables, store: options.store, capacity: options.capacity, answersTotal: () => answers.total(), instance: options.instance, isLeader: options.isLeader
  })
  if (options.subscriptions !== undefined) await app.register(subscriptionRoutes, { repository: options.subscriptions })
}
