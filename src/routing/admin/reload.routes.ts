/**
 * POST /v1/partitions/:partition/reload: reload a partition now, by hand (drouting:reload). It reads
 * the partition's head and every rule's stored-row hash and compares them with the loaded snapshot,
 * reading and compiling only the rows that differ (`mode: verified`); a change of the partition's
 * extra_prefix_chars, more than 10,000 rules differing, or `?full=true` read and compile the partition
 * whole (`mode: full`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorSchema } from '../../errors.js'
import { PartitionParamsSchema } from '../routing-data.schema.js'
import type { RouteTables } from '../snapshot/route-tables.js'

export const ReloadSchema = Type.Object({
  partition: Type.String(),
  ok: Type.Boolean(),
  data_version: Type.Optional(Type.Integer()),
  checksum: Type.Optional(Type.String()),
  duration_ms: Type.Number(),
  counts: Type.Optional(Type.Record(Type.String(), Type.Object({ loaded: Type.Integer(), discarded: Type.Integer() }))),
  error: Type.Optional(Type.String()),
  /** verified: every row compared, the differing ones read; full: read and compiled whole. */
  mode: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('verified'), Type.Literal('incremental')]))
})

const ReloadQuerySchema = Type.Object({
  full: Type.Optional(Type.Boolean({ description: 'read and compile the whole partition even when comparing its rows would do' }))
}, { additionalProperties: false })

export const reloadRoutes: FastifyPluginAsyncTypebox<{ readonly tables: RouteTables }> = async (app, { tables }) => {
  app.post('/v1/partitions/:partition/reload', {
    schema: {
      tags: ['routing'],
      summary: 'Reload a partition now (drouting:reload); a failed reload keeps serving the previous snapshot',
      params: PartitionParamsSchema,
      querystring: ReloadQuerySchema,
      response: { 200: ReloadSchema, 404: ErrorSchema, 503: ReloadSchema }
    }
  }, async (request, reply) => {
    const outcome = await tables.reload(request.params.partition, request.query.full === true ? 'full' : 'verify')
    if (outcome.removed === true) throw new AppError(404, 'not_found', `partition "${request.params.partition}" not found`)
    const body = {
      partition: outcome.partition,
      ok: outcome.ok,
      data_version: outcome.version,
      checksum: outcome.checksum,
      duration_ms: outcome.durationMs,
      counts: outcome.counts,
      error: outcome.error,
      mode: outcome.mode
    }
    return await reply.code(outcome.ok ? 200 : 503).send(body)
  })
}
