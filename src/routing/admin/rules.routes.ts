/** /v1/partitions/:partition/rules: CRUD of a partition's prefix rules with their ordered targets, by numeric id. */
import { PartitionParamsSchema } from '../routing-data.schema.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ListSchema, NumericIdParamsSchema, RulePatchSchema, RuleQuerySchema, parseId, parsePage, readErrors, writeErrors } from './admin.schema.js'
import type { RuleRepository } from './rule.repository.js'
import { RuleInputSchema, RuleSchema } from '../routing-data.schema.js'

export interface RuleRoutesOptions {
  readonly rules: RuleRepository
}

const tags = ['rules']

export const ruleRoutes: FastifyPluginAsyncTypebox<RuleRoutesOptions> = async (app, { rules }) => {
  app.get('/v1/partitions/:partition/rules', {
    schema: {
      tags,
      summary: 'List a partition\'s rules by id, filtered by exact prefix, prefix start or group',
      params: PartitionParamsSchema,
      querystring: RuleQuerySchema,
      response: { 200: ListSchema(RuleSchema), ...readErrors }
    }
  }, async (request) => {
    const { prefix, prefix_starts: prefixStarts, group } = request.query
    return await rules.list(request.params.partition, parsePage(request.query), { prefix, prefixStarts, group })
  })

  app.post('/v1/partitions/:partition/rules', {
    schema: {
      tags,
      summary: 'Create a rule; groups default to the partition\'s default group, an id in the body is kept',
      params: PartitionParamsSchema,
      body: RuleInputSchema,
      response: { 201: RuleSchema, ...writeErrors }
    }
  }, async (request, reply) => {
    const { partition } = request.params
    const rule = await rules.create(partition, request.body)
    return await reply.code(201).header('location', `/v1/partitions/${partition}/rules/${rule.id}`).send(rule)
  })

  app.get('/v1/partitions/:partition/rules/:id', {
    schema: { tags, summary: 'Read a rule', params: NumericIdParamsSchema, response: { 200: RuleSchema, ...readErrors } }
  }, async (request) => await rules.get(request.params.partition, parseId(request.params.id)))

  app.put('/v1/partitions/:partition/rules/:id', {
    schema: {
      tags,
      summary: 'Replace a rule and its targets (omitted fields take their defaults; the id cannot change)',
      params: NumericIdParamsSchema,
      body: RuleInputSchema,
      response: { 200: RuleSchema, ...writeErrors }
    }
  }, async (request) => await rules.replace(request.params.partition, parseId(request.params.id), request.body))

  app.patch('/v1/partitions/:partition/rules/:id', {
    schema: {
      tags,
      summary: 'Change some fields of a rule (a given targets list or time_window replaces the field); the result is validated whole',
      params: NumericIdParamsSchema,
      body: RulePatchSchema,
      response: { 200: RuleSchema, ...writeErrors }
    }
  }, async (request) => await rules.patch(request.params.partition, parseId(request.params.id), request.body))

  app.delete('/v1/partitions/:partition/rules/:id', {
    schema: { tags, summary: 'Delete a rule', params: NumericIdParamsSchema, response: { 204: Type.Null(), ...writeErrors } }
  }, async (request, reply) => {
    await rules.remove(request.params.partition, parseId(request.params.id))
    return await reply.code(204).send(null)
  })
}
