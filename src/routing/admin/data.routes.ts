/** Whole-partition export and import: GET/PUT /v1/partitions/:partition/data (?dry_run=true, ?allow_empty=true). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorSchema } from '../../errors.js'
import { serializePartitionData } from './export-document.js'
import { importPartition } from './import-partition.js'
import type { PartitionDataRepository } from './partition-data.repository.js'
import { PartitionDataInputSchema, PartitionDataSchema, PartitionNameSchema } from '../routing-data.schema.js'

export interface DataRoutesOptions {
  readonly repository: PartitionDataRepository
  /** The share of a partition (percent of its rows) an import may drop without ?allow_empty=true. */
  readonly maxDropPercent: number
}

const ProblemSchema = Type.Object({ path: Type.String(), message: Type.String() })
const EntityDiffSchema = Type.Object({ added: Type.Array(Type.String()), changed: Type.Array(Type.String()), removed: Type.Array(Type.String()) })
const DiffSchema = Type.Object({
  partition: Type.Object({ changed: Type.Boolean() }),
  gateways: EntityDiffSchema,
  carriers: EntityDiffSchema,
  rules: EntityDiffSchema,
  caller_groups: EntityDiffSchema
})
const ImportResultSchema = Type.Object({
  dry_run: Type.Boolean(),
  valid: Type.Boolean(),
  problems: Type.Array(ProblemSchema),
  diff: DiffSchema,
  summary: Type.String(),
  refused: Type.Optional(Type.Object({ error: Type.Literal('would_wipe'), message: Type.String() }, {
    description: 'a dry run of an import that would be refused (400 would_wipe) without ?allow_empty=true'
  })),
  created: Type.Optional(Type.Boolean({ description: 'the partition did not exist before' })),
  data_version: Type.Optional(Type.Integer())
})
const InvalidSchema = Type.Object({ error: Type.String(), message: Type.String(), problems: Type.Optional(Type.Array(ProblemSchema)) })
const Params = Type.Object({ partition: PartitionNameSchema })

export const dataRoutes: FastifyPluginAsyncTypebox<DataRoutesOptions> = async (app, { repository, maxDropPercent }) => {
  app.get('/v1/partitions/:partition/data', {
    schema: {
      tags: ['data'],
      summary: 'Export a whole partition as one document (import it back with PUT)',
      params: Params,
      response: { 200: PartitionDataSchema, 404: ErrorSchema }
    }
  }, async (request, reply) => {
    const loaded = await repository.load(request.params.partition)
    if (loaded === undefined) throw new AppError(404, 'not_found', `partition "${request.params.partition}" not found`)
    // The same serializer as `rtroute export`: the same bytes.
    return await reply.type('application/json; charset=utf-8').serializer(serializePartitionData).send(loaded.data)
  })

  app.put('/v1/partitions/:partition/data', {
    // The body is validated below, so that an import answers every problem with its path, not the first.
    attachValidation: true,
    schema: {
      tags: ['data'],
      summary: 'Replace a whole partition in one transaction (all or nothing); ?dry_run=true validates and diffs only',
      description: 'Every section (partition, gateways, carriers, rules, caller_groups) must be given. A document that leaves one out, ' +
        'would empty the partition or leave it without rules, or would drop more than the configured share of its rows is refused ' +
        '(400 would_wipe) unless ?allow_empty=true.',
      params: Params,
      querystring: Type.Object({
        dry_run: Type.Optional(Type.Boolean({ default: false })),
        allow_empty: Type.Optional(Type.Boolean({ default: false, description: 'import even a document that would wipe the partition' }))
      }),
      body: PartitionDataInputSchema,
      response: { 200: ImportResultSchema, 201: ImportResultSchema, 400: InvalidSchema, 409: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const invalid = request.validationError
    // Only the body is re-validated below; a bad ?dry_run or ?allow_empty must never be taken for "write".
    if (invalid !== undefined && invalid.validationContext !== 'body') throw new AppError(400, 'validation_error', invalid.message)
    const { partition } = request.params
    const outcome = await importPartition(async (fn) => await fn(repository), partition, request.body, {
      dryRun: request.query.dry_run === true,
      allowEmpty: request.query.allow_empty === true,
      maxDropPercent
    })
    if (outcome.kind === 'invalid') {
      const { problems } = outcome
      const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ')
      return await reply.code(400).send({
        error: 'invalid_data',
        message: `${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was written: ${shown}${problems.length > 5 ? '; …' : ''}`,
        problems
      })
    }
    if (outcome.kind === 'refused') {
      request.log.warn({ partition, summary: outcome.report.summary }, `import refused: ${outcome.refusal.message}`)
      return await reply.code(400).send(outcome.refusal)
    }
    const { dryRun, valid, problems, diff, summary, refused } = outcome.report
    const result = { dry_run: dryRun, valid, problems, diff, summary, ...(refused === undefined ? {} : { refused }) }
    if (outcome.kind === 'checked') return result
    request.log.info({ partition, version: outcome.version, summary }, 'partition data replaced')
    return await reply.code(outcome.created ? 201 : 200).send({ ...result, created: outcome.created, data_version: outcome.version })
  })
}
