/**
 * POST /kamailio/feedback: the proxy's failure route reports a failed (or answered) branch.
 * Classified by the partition's codes, counted once per (call, gateway), applied to memory at once
 * and queued for the database: the answer (202) never waits for PostgreSQL.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorSchema } from '../errors.js'
import { requireTable, type RouteTables } from '../routing/snapshot/route-tables.js'
import { EntityIdSchema, PartitionNameSchema } from '../routing/routing-data.schema.js'
import { classifyFeedback, createFeedbackDedupe, type FeedbackCounted, type FeedbackReport } from './feedback.js'
import type { HealthStore } from './health-store.js'
import { namedGateway } from './named-gateway.js'

export interface FeedbackRoutesOptions {
  readonly tables: RouteTables
  readonly store: HealthStore
  readonly defaultPartition: string
  readonly now?: () => number
  /** Told of every placed report (metrics: per-gateway failures by code class, reports by how they counted). */
  readonly onReport?: (report: FeedbackReport) => void
  /** A branch failed (any final code >= 300): the proxy moves on to the next route, and so does the call's capacity lease. */
  readonly onBranchFailed?: (partition: string, callId: string, gateway: string) => void
}

export const FeedbackSchema = Type.Object({
  call_id: Type.String({ minLength: 1, maxLength: 256 }),
  partition: Type.Optional(PartitionNameSchema),
  gateway: Type.Optional(EntityIdSchema),
  dst_uri: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'used when gateway is absent' })),
  code: Type.Integer({ minimum: 100, maximum: 699, description: 'final reply code of the branch ($T_reply_code)' }),
  reason: Type.Optional(Type.String({ maxLength: 256 })),
  local: Type.Optional(Type.Union([Type.Boolean(), Type.Integer({ minimum: 0, maximum: 1 })], { description: 'true when the proxy generated the reply itself (408 on timeout)' }))
}, { additionalProperties: true })

const AcceptedSchema = Type.Object({
  accepted: Type.Boolean(),
  counted: Type.Union([Type.Literal('failure'), Type.Literal('success'), Type.Literal('ignored'), Type.Literal('duplicate')]),
  partition: Type.String(),
  gateway: Type.String(),
  state: Type.String({ description: 'the gateway state on this instance after the report' })
})

export const feedbackRoutes: FastifyPluginAsyncTypebox<FeedbackRoutesOptions> = async (app, { tables, store, defaultPartition, now = Date.now, onReport, onBranchFailed }) => {
  // Bounded: a flood of distinct calls evicts the oldest keys instead of growing memory.
  const dedupe = createFeedbackDedupe({ maxEntries: 100_000, ttlMs: 10 * 60_000, now })

  app.post('/kamailio/feedback', {
    config: { proxy: true },
    schema: {
      tags: ['proxy'],
      summary: 'Failover feedback from the failure route: a failed branch counts against its gateway',
      body: FeedbackSchema,
      response: { 202: AcceptedSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const body = request.body
    const partition = body.partition ?? defaultPartition
    const table = requireTable(tables, partition)
    if (body.gateway === undefined && body.dst_uri === undefined) throw new AppError(400, 'validation_error', 'body must have gateway or dst_uri')
    const gatewayId = namedGateway(table, partition, body)
    const local = body.local === true || body.local === 1
    const kind = classifyFeedback(body.code, local, store.configOf(partition).feedback)
    let counted: FeedbackCounted = kind
    if (kind !== 'ignored' && dedupe.seen(`${partition}\u0000${gatewayId}\u0000${body.call_id}`)) counted = 'duplicate'
    if (counted === 'failure' || counted === 'success') {
      const text = `${local ? 'local ' : ''}${body.code}${body.reason === undefined ? '' : ` ${body.reason}`}`
      store.submit(partition, gatewayId, { kind: counted, reason: `failover feedback ${text}` })
      request.log.debug({ callId: body.call_id, partition, gateway: gatewayId, code: body.code, local, counted }, 'failover feedback')
    }
    onReport?.({ partition, gateway: gatewayId, code: body.code, local, counted })
    if (body.code >= 300) onBranchFailed?.(partition, body.call_id, gatewayId)
    const state = store.get(partition, gatewayId)?.health.state ?? 'active'
    return await reply.code(202).send({ accepted: true, counted, partition, gateway: gatewayId, state })
  })
}
