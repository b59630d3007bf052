/** /v1/partitions: create, list, read, replace, patch and delete routing partitions. */
import { PartitionParamsSchema } from '../routing-data.schema.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ForceQuerySchema, ListSchema, PageQuerySchema, PartitionPatchSchema, parsePage, readErrors, writeErrors } from './admin.schema.js'
import type { PartitionRepository } from './partition.repository.js'
import { PartitionInputSchema, PartitionSchema } from '../routing-data.schema.js'

export interface PartitionRoutesOptions {
  readonly partitions: PartitionRepository
}

const tags = ['partitions']

export const partitionRoutes: FastifyPluginAsyncTypebox<PartitionRoutesOptions> = async (app, { partitions }) => {
  app.get('/v1/partitions', {
    schema: { tags, summary: 'List partitions by name', querystring: PageQuerySchema, response: { 200: ListSchema(PartitionSchema), ...readErrors } }
  }, async (request) => await partitions.list(parsePage(request.query)))

  app.post('/v1/partitions', {
    schema: { tags, summary: 'Create a partition', body: PartitionInputSchema, response: { 201: PartitionSchema, ...writeErrors } }
  }, async (request, reply) => {
    const partition = await partitions.create(request.body)
    return await reply.code(201).header('location', `/v1/partitions/${partition.name}`).send(partition)
  })

  app.get('/v1/partitions/:partition', {
    schema: { tags, summary: 'Read a partition, with its data_version', params: PartitionParamsSchema, response: { 200: PartitionSchema, ...readErrors } }
  }, async (request) => await partitions.get(request.params.partition))

  app.put('/v1/partitions/:partition', {
    schema: {
      tags,
      summary: 'Replace a partition\'s settings (omitted fields take their defaults; the name cannot change)',
      params: PartitionParamsSchema,
      body: PartitionInputSchema,
      response: { 200: PartitionSchema, ...writeErrors }
    }
  }, async (request) => await partitions.replace(request.params.partition, request.body))

  app.patch('/v1/partitions/:partition', {
    schema: {
      tags,
      summary: 'Change some of a partition\'s settings',
      params: PartitionParamsSchema,
      body: PartitionPatchSchema,
      response: { 200: PartitionSchema, ...writeErrors }
    }
  }, async (request) => await partitions.patch(request.params.partition, request.body))

  app.delete('/v1/partitions/:partition', {
    schema: {
      tags,
      summary: 'Delete a partition; one that still holds data needs ?force=true and takes its data with it',
      params: PartitionParamsSchema,
      querystring: ForceQuerySchema,
      response: { 204: Type.Null(), ...writeErrors }
    }
  }, async (request, reply) => {
    await partitions.remove(request.params.partition, request.query.force === 'true')
    return await reply.code(204).send(null)
  })
}
