/** Shapes of the proxy-facing routing query, and of the explain and reload answers. */
import { Type, type Static } from 'typebox'
import { GroupNameSchema, PartitionNameSchema } from '../routing-data.schema.js'
import { RtjsonAnswerSchema } from './rtjson.js'

const Text = (maxLength: number, description?: string) => Type.String({ maxLength, ...(description === undefined ? {} : { description }) })

/** What a Kamailio `jansson_set` script builds; unknown fields are ignored, as rtjson ignores ours. */
export const RouteQuerySchema = Type.Object({
  call_id: Type.String({ minLength: 1, maxLength: 256, description: 'Call-ID: seeds weighted and hashed orders so retries of a call get the same order' }),
  request_uri: Type.Optional(Text(1024, 'R-URI; its user part is the number to route')),
  to_uri: Type.Optional(Text(1024, 'used for the number when request_uri is absent')),
  from_uri: Type.Optional(Text(1024, 'may select the caller group')),
  from_name: Type.Optional(Text(256)),
  from_tag: Type.Optional(Text(256)),
  to_name: Type.Optional(Text(256)),
  to_tag: Type.Optional(Text(256)),
  source_ip: Type.Optional(Text(64, 'may select the caller group (CIDR)')),
  // Scripts send $Rp/$sp as an int or as a string, depending on how they call jansson_set.
  source_port: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.String({ pattern: '^[0-9]{1,5}$' })])),
  event: Type.Optional(Text(64)),
  auth: Type.Optional(Type.Union([Type.Integer(), Type.Boolean(), Type.String({ maxLength: 16 })])),
  partition: Type.Optional(PartitionNameSchema),
  group: Type.Optional(GroupNameSchema)
}, { additionalProperties: true })
export type RouteQueryBody = Static<typeof RouteQuerySchema>

/** The Wazo C4 router's answer envelope: its Kamailio script reads top-level `success` and `rtjson`. */
export const WazoAnswerSchema = Type.Object({
  success: Type.Boolean(),
  rtjson: Type.Union([RtjsonAnswerSchema.properties.rtjson, Type.Null()]),
  reason: Type.Optional(Type.String()),
  sip_code: Type.Optional(Type.Integer()),
  sip_reason: Type.Optional(Type.String())
})

export const ExplainQuerySchema = Type.Object({
  number: Type.String({ minLength: 1, maxLength: 64, description: 'the dialled number' }),
  group: Type.Optional(GroupNameSchema),
  call_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'default: explain-<number>' })),
  from: Type.Optional(Type.String({ maxLength: 1024, description: 'From URI, for caller-group lookup' })),
  source_ip: Type.Optional(Type.String({ maxLength: 64 })),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'decide as if at this time (default: now)' }))
}, { additionalProperties: false })

/** Why a rule with a time window or timerec is valid at the instant or not (explain only). */
const TimeVerdictSchema = Type.Object({
  open: Type.Boolean(),
  text: Type.String(),
  recurrences: Type.Array(Type.Object({
    index: Type.Integer({ description: '1-based place in the timerec; 0: part of the time window' }),
    text: Type.String(),
    holds: Type.Boolean(),
    negated: Type.Boolean({ description: 'written after a ! (the expression uses the opposite)' }),
    reason: Type.String()
  }))
})

const TraceSchema = Type.Object({
  seed: Type.Integer(),
  number: Type.Optional(Type.String()),
  group: Type.Optional(Type.String()),
  group_source: Type.Optional(Type.String()),
  prefixes: Type.Array(Type.Object({ prefix: Type.String(), rules: Type.Integer() })),
  rules: Type.Array(Type.Object({ rule_id: Type.Integer(), prefix: Type.String(), priority: Type.Integer(), verdict: Type.String(), time: Type.Optional(TimeVerdictSchema) })),
  targets: Type.Array(Type.Object({
    rule_id: Type.Integer(),
    gateway: Type.Optional(Type.String()),
    carrier: Type.Optional(Type.String()),
    state: Type.Optional(Type.String()),
    verdict: Type.String()
  }))
})

export const ExplainSchema = Type.Object({
  partition: Type.String(),
  data_version: Type.Integer(),
  checksum: Type.String(),
  at: Type.String(),
  outcome: Type.String(),
  rule_id: Type.Optional(Type.Integer()),
  prefix: Type.Optional(Type.String()),
  trace: TraceSchema,
  rtjson: RtjsonAnswerSchema.properties.rtjson
})
