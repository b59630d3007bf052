/** /v1/partitions/:partition/carriers: CRUD of a partition's carriers with their ordered gateway lists. */
import { PartitionParamsSchema } from '../routing-data.schema.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CarrierPatchSchema, EntityParamsSchema, IdPrefixQuerySchema, ListSchema, parsePage, readErrors, writeErrors } from './admin.schema.js'
import type { CarrierRepository } from './carrier.repository.js'
import { CarrierInputSchema, CarrierSchema } from '../routing-data.schema.js'

export interface CarrierRoutesOptions {
  readonly carriers: CarrierRepository
}

const tags = ['carriers']

export const carrierRoutes: FastifyPluginAsyncTypebox<CarrierRoutesOptions> = async (app, { carriers }) => {
  app.get('/v1/partitions/:partition/carriers', {
    schema: {
      tags,
      summary: 'List a partition\'s carriers by id, optionally those whose id starts with id_prefix',
      params: PartitionParamsSchema,
      querystring: IdPrefixQuerySchema,
      response: { 200: ListSchema(CarrierSchema), ...readErrors }
    }
  }, async (request) => await carriers.list(request.params.partition, parsePage(request.query), { idPrefix: request.query.id_prefix }))

  app.post('/v1/partitions/:partition/carriers', {
    schema: { tags, summary: 'Create a carrier with its ordered gateway list', params: PartitionParamsSchema, body: CarrierInputSchema, response: { 201: CarrierSchema, ...writeErrors } }
  }, async (request, reply) => {
    const { partition } = request.params
    const carrier = await carriers.create(partition, request.body)
    return await reply.code(201).header('location', `/v1/partitions/${partition}/carriers/${encodeURIComponent(carrier.id)}`).send(carrier)
  })

  app.get('/v1/partitions/:partition/carriers/:id', {
    schema: { tags, summary: 'Read a carrier', params: EntityParamsSchema, response: { 200: CarrierSchema, ...readErrors } }
  }, async (request) => await carriers.get(request.params.partition, request.params.id))

  app.put('/v1/partitions/:partition/carriers/:id', {
    schema: {
      tags,
      summary: 'Replace a carrier and its gateway list (omitted fields take their defaults; the id cannot change)',
      params: EntityParamsSchema,
      body: CarrierInputSchema,
      response: { 200: CarrierSchema, ...writeErrors }
    }
  }, async (request) => await carriers.replace(request.params.partition, request.params.id, request.body))

  app.patch('/v1/partitions/:partition/carriers/:id', {
    schema: {
      tags,
      summary: 'Change some fields of a carrier (a given gateways list replaces the list); the result is validated whole',
      params: EntityParamsSchema,
      body: CarrierPatchSchema,
      response: { 200: CarrierSchema, ...writeErrors }
    }
  }, async (request) => await carriers.patch(request.params.partition, request.params.id, request.body))

  app.delete('/v1/partitions/:partition/carriers/:id', {
    schema: {
      tags,
      summary: 'Delete a carrier no rule uses (409 lists the rules)',
      params: EntityParamsSchema,
      response: { 204: Type.Null(), ...writeErrors }
    }
  }, async (request, reply) => {
    await carriers.remove(request.params.partition, request.params.id)
    return await reply.code(204).send(null)
  })
}
