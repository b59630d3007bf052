/** /v1/partitions/:partition/gateways: CRUD of a partition's gateways, by gateway id. */
import { PartitionParamsSchema } from '../routing-data.schema.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { EntityParamsSchema, GatewayPatchSchema, IdPrefixQuerySchema, ListSchema, parsePage, readErrors, writeErrors } from './admin.schema.js'
import type { GatewayRepository } from './gateway.repository.js'
import { GatewayInputSchema, GatewaySchema } from '../routing-data.schema.js'

export interface GatewayRoutesOptions {
  readonly gateways: GatewayRepository
}

const tags = ['gateways']

export const gatewayRoutes: FastifyPluginAsyncTypebox<GatewayRoutesOptions> = async (app, { gateways }) => {
  app.get('/v1/partitions/:partition/gateways', {
    schema: {
      tags,
      summary: 'List a partition\'s gateways by id, optionally those whose id starts with id_prefix',
      params: PartitionParamsSchema,
      querystring: IdPrefixQuerySchema,
      response: { 200: ListSchema(GatewaySchema), ...readErrors }
    }
  }, async (request) => await gateways.list(request.params.partition, parsePage(request.query), { idPrefix: request.query.id_prefix }))

  app.post('/v1/partitions/:partition/gateways', {
    schema: { tags, summary: 'Create a gateway', params: PartitionParamsSchema, body: GatewayInputSchema, response: { 201: GatewaySchema, ...writeErrors } }
  }, async (request, reply) => {
    const { partition } = request.params
    const gateway = await gateways.create(partition, request.body)
    return await reply.code(201).header('location', `/v1/partitions/${partition}/gateways/${encodeURIComponent(gateway.id)}`).send(gateway)
  })

  app.get('/v1/partitions/:partition/gateways/:id', {
    schema: { tags, summary: 'Read a gateway', params: EntityParamsSchema, response: { 200: GatewaySchema, ...readErrors } }
  }, async (request) => await gateways.get(request.params.partition, request.params.id))

  app.put('/v1/partitions/:partition/gateways/:id', {
    schema: {
      tags,
      summary: 'Replace a gateway (omitted fields take their defaults; the id cannot change)',
      params: EntityParamsSchema,
      body: GatewayInputSchema,
      response: { 200: GatewaySchema, ...writeErrors }
    }
  }, async (request) => await gateways.replace(request.params.partition, request.params.id, request.body))

  app.patch('/v1/partitions/:partition/gateways/:id', {
    schema: {
      tags,
      summary: 'Change some fields of a gateway; the result is validated whole',
      params: EntityParamsSchema,
      body: GatewayPatchSchema,
      response: { 200: GatewaySchema, ...writeErrors }
    }
  }, async (request) => await gateways.patch(request.params.partition, request.params.id, request.body))

  app.delete('/v1/partitions/:partition/gateways/:id', {
    schema: {
      tags,
      summary: 'Delete a gateway no rule or carrier uses (409 lists the users)',
      params: EntityParamsSchema,
      response: { 204: Type.Null(), ...writeErrors }
    }
  }, async (request, reply) => {
    await gateways.remove(request.params.partition, request.params.id)
    return await reply.code(204).send(null)
  })
}
