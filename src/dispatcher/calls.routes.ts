/**
 * POST /kamailio/calls: the proxy's call events for capacity accounting, keyed by Call-ID.
 * `start` on the 200 OK of the initial INVITE turns the call's lease into a call; `end` (BYE,
 * CANCEL, final failure) frees it. Counted in memory at once, written to the database by the next
 * sync: the answer (202) never waits for PostgreSQL.
 */
import { limited } from '../routing/decide/decision.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema } from '../errors.js'
import { requireTable, type RouteTables } from '../routing/snapshot/route-tables.js'
import { EntityIdSchema, PartitionNameSchema } from '../routing/routing-data.schema.js'
import type { CapacityStore } from './capacity-store.js'
import type { CallEvent } from './call-events.js'
import { namedGateway } from './named-gateway.js'

export interface CallsRoutesOptions {
  readonly tables: RouteTables
  readonly capacity: Pick<CapacityStore, 'started' | 'ended'>
  readonly defaultPartition: string
  /** Told of every accepted event (metrics). */
  readonly onEvent?: (event: CallEvent) => void
}

export const CallEventSchema = Type.Object({
  event: Type.Union([Type.Literal('start'), Type.Literal('end')], { description: 'start: the call was answered (200 OK); end: BYE, CANCEL or final failure' }),
  call_id: Type.String({ minLength: 1, maxLength: 256 }),
  partition: Type.Optional(PartitionNameSchema),
  gateway: Type.Optional(EntityIdSchema),
  dst_uri: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'used when gateway is absent' })),
  code: Type.Optional(Type.Integer({ minimum: 100, maximum: 699, description: 'the SIP code that started or ended the call (informational)' }))
}, { additionalProperties: true })

const AcceptedSchema = Type.Object({
  accepted: Type.Boolean(),
  event: Type.String(),
  call_id: Type.String(),
  partition: Type.String(),
  gateway: Type.Union([Type.String(), Type.Null()], { description: 'the gateway the call is counted on, when the event named one' })
})

export const callsRoutes: FastifyPluginAsyncTypebox<CallsRoutesOptions> = async (app, { tables, capacity, defaultPartition, onEvent }) => {
  app.post('/kamailio/calls', {
    config: { proxy: true },
    schema: {
      tags: ['proxy'],
      summary: 'Call start and end events: leases become calls, ended calls free their gateway\'s capacity',
      body: CallEventSchema,
      response: { 202: AcceptedSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const body = request.body
    const partition = body.partition ?? defaultPartition
    const table = requireTable(tables, partition)
    let gateway: string | null = null
    if (body.event === 'start' && (body.gateway !== undefined || body.dst_uri !== undefined)) {
      gateway = namedGateway(table, partition, body)
    }
    if (body.event === 'start') {
      const compiled = gateway === null ? undefined : table.gateways.get(gateway)
      capacity.started(partition, body.call_id, gateway, compiled !== undefined && limited(compiled))
    } else {
      capacity.ended(partition, body.call_id)
    }
    onEvent?.({ partition, event: body.event })
    request.log.debug({ callId: body.call_id, partition, event: body.event, gateway }, 'call event')
    return await reply.code(202).send({ accepted: true, event: body.event, call_id: body.call_id, partition, gateway })
  })
}
