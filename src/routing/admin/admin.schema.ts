/**
 * HTTP shapes of the routing admin API around the data shapes of routing-data.schema.ts: path
 * params, list queries, list envelopes, PATCH bodies and error answers. The app's ajv does not
 * coerce types, so numbers in paths and queries are digit strings, parsed here.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { AppError } from '../../errors.js'
import { ErrorSchema } from '../../errors.js'
import {
  CallerGroupInputSchema, CallerGroupKindSchema, CarrierInputSchema, EntityIdSchema, GatewayInputSchema, GroupNameSchema,
  MAX_ID, PartitionInputSchema, PartitionNameSchema, RuleInputSchema, RuleSchema
} from '../routing-data.schema.js'

export { ErrorSchema }

export const EntityParamsSchema = Type.Object({ partition: PartitionNameSchema, id: EntityIdSchema })
export const NumericIdParamsSchema = Type.Object({
  partition: PartitionNameSchema,
  id: Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: `numeric id, 1 to ${MAX_ID}` })
})

/** A numeric path id as a number; past MAX_ID it could not be told from its neighbours, so it is refused. */
export function parseId (id: string): number {
  const value = Number(id)
  if (!Number.isSafeInteger(value)) throw new AppError(400, 'validation_error', `params/id must be at most ${MAX_ID}, got ${id}`)
  return value
}

const DIGITS = '^[0-9]{1,15}$'
export const MAX_LIMIT = 1000
export const DEFAULT_LIMIT = 100

const PageQueryProperties = {
  limit: Type.Optional(Type.String({ pattern: DIGITS, description: `items per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})` })),
  offset: Type.Optional(Type.String({ pattern: DIGITS, description: 'items skipped (default 0)' }))
}
const IdPrefixSchema = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'only ids starting with this' })

export const PageQuerySchema = Type.Object(PageQueryProperties, { additionalProperties: false })
export const IdPrefixQuerySchema = Type.Object({ ...PageQueryProperties, id_prefix: Type.Optional(IdPrefixSchema) }, { additionalProperties: false })
export type IdPrefixQuery = Static<typeof IdPrefixQuerySchema>

export const RuleQuerySchema = Type.Object({
  ...PageQueryProperties,
  prefix: Type.Optional(RuleSchema.properties.prefix),
  prefix_starts: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_.!~*'()&=+$,?/#-]{0,32}$", description: 'only rules whose prefix starts with this' })),
  group: Type.Optional(GroupNameSchema)
}, { additionalProperties: false })
export type RuleQuery = Static<typeof RuleQuerySchema>

export const CallerGroupQuerySchema = Type.Object({
  ...PageQueryProperties,
  kind: Type.Optional(CallerGroupKindSchema),
  group: Type.Optional(GroupNameSchema)
}, { additionalProperties: false })
export type CallerGroupQuery = Static<typeof CallerGroupQuerySchema>

export const ForceQuerySchema = Type.Object({
  force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: delete the partition with all its data' }))
}, { additionalProperties: false })

export interface Page {
  readonly limit: number
  readonly offset: number
}

export function parsePage (query: { limit?: string, offset?: string }): Page {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit)
  if (limit < 1 || limit > MAX_LIMIT) throw new AppError(400, 'validation_error', `querystring/limit must be from 1 to ${MAX_LIMIT}, got ${limit}`)
  return { limit, offset: query.offset === undefined ? 0 : Number(query.offset) }
}

export interface ListResult<T> extends Page {
  readonly items: T[]
  readonly total: number
}

export const ListSchema = <T extends TSchema>(item: T) => Type.Object({
  items: Type.Array(item),
  total: Type.Integer({ description: 'items matching the filter, on every page' }),
  limit: Type.Integer(),
  offset: Type.Integer()
})

/** PATCH bodies: any subset of the input fields; the merged whole is validated as a PUT would be. */
export const PartitionPatchSchema = Type.Partial(PartitionInputSchema, { additionalProperties: false })
export const GatewayPatchSchema = Type.Partial(GatewayInputSchema, { additionalProperties: false })
export const CarrierPatchSchema = Type.Partial(CarrierInputSchema, { additionalProperties: false })
export const RulePatchSchema = Type.Partial(RuleInputSchema, { additionalProperties: false })
export const CallerGroupPatchSchema = Type.Partial(CallerGroupInputSchema, { additionalProperties: false })
export type PartitionPatch = Static<typeof PartitionPatchSchema>
export type GatewayPatch = Static<typeof GatewayPatchSchema>
export type CarrierPatch = Static<typeof CarrierPatchSchema>
export type RulePatch = Static<typeof RulePatchSchema>
export type CallerGroupPatch = Static<typeof CallerGroupPatchSchema>

export const readErrors = { 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema }
export const writeErrors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema }
