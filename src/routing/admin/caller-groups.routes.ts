/** /v1/partitions/:partition/caller-groups: CRUD of the caller → group entries of a partition, by numeric id. */
import { PartitionParamsSchema } from '../routing-data.schema.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CallerGroupPatchSchema, CallerGroupQuerySchema, ListSchema, NumericIdParamsSchema, parseId, parsePage, readErrors, writeErrors } from './admin.schema.js'
import type { CallerGroupRepository } from './caller-group.repository.js'
import { CallerGroupInputSchema, CallerGroupWithIdSchema } from '../routing-data.schema.js'

export interface CallerGroupRoutesOptions {
  readonly callerGroups: CallerGroupRepository
}

const tags = ['caller groups']

export const callerGroupRoutes: FastifyPluginAsyncTypebox<CallerGroupRoutesOptions> = async (app, { callerGroups }) => {
  app.get('/v1/partitions/:partition/caller-groups', {
    schema: {
      tags,
      summary: 'List a partition\'s caller group entries by id, filtered by kind or group',
      params: PartitionParamsSchema,
      querystring: CallerGroupQuerySchema,
      response: { 200: ListSchema(CallerGroupWithIdSchema), ...readErrors }
    }
  }, async (request) => {
    const { kind, group } = request.query
    return await callerGroups.list(request.params.partition, parsePage(request.query), { kind, group })
  })

  app.post('/v1/partitions/:partition/caller-groups', {
    schema: {
      tags,
      summary: 'Add a caller group entry (a CIDR, From user@domain or From domain mapped to a group)',
      params: PartitionParamsSchema,
      body: CallerGroupInputSchema,
      response: { 201: CallerGroupWithIdSchema, ...writeErrors }
    }
  }, async (request, reply) => {
    const { partition } = request.params
    const entry = await callerGroups.create(partition, request.body)
    return await reply.code(201).header('location', `/v1/partitions/${partition}/caller-groups/${entry.id}`).send(entry)
  })

  app.get('/v1/partitions/:partition/caller-groups/:id', {
    schema: { tags, summary: 'Read a caller group entry', params: NumericIdParamsSchema, response: { 200: CallerGroupWithIdSchema, ...readErrors } }
  }, async (request) => await callerGroups.get(request.params.partition, parseId(request.params.id)))

  app.put('/v1/partitions/:partition/caller-groups/:id', {
    schema: {
      tags,
      summary: 'Replace a caller group entry',
      params: NumericIdParamsSchema,
      body: CallerGroupInputSchema,
      response: { 200: CallerGroupWithIdSchema, ...writeErrors }
    }
  }, async (request) => await callerGroups.replace(request.params.partition, parseId(request.params.id), request.body))

  app.patch('/v1/partitions/:partition/caller-groups/:id', {
    schema: {
      tags,
      summary: 'Change some fields of a caller group entry; the result is validated whole',
      params: NumericIdParamsSchema,
      body: CallerGroupPatchSchema,
      response: { 200: CallerGroupWithIdSchema, ...writeErrors }
    }
  }, async (request) => await callerGroups.patch(request.params.partition, parseId(request.params.id), request.body))

  app.delete('/v1/partitions/:partition/caller-groups/:id', {
    schema: { tags, summary: 'Delete a caller group entry', params: NumericIdParamsSchema, response: { 204: Type.Null(), ...writeErrors } }
  }, async (request, reply) => {
    await callerGroups.remove(request.params.partition, parseId(request.params.id))
    return await reply.code(204).send(null)
  })
}
