/** HTTP shapes of the status and reports API: the OpenSIPS MI shapes in snake_case (README maps them). */
import { Type, type Static } from 'typebox'

export const NameSchema = Type.String({ pattern: '^[A-Za-z0-9_.:;-]{1,64}$', description: 'group or identifier name' })

export const GroupParamsSchema = Type.Object({ group: NameSchema })
export const IdentifierParamsSchema = Type.Object({ group: NameSchema, identifier: NameSchema })

/** `status_report:get`: {"Readiness", "Status", "Details"}. */
export const StatusSchema = Type.Object({
  readiness: Type.Boolean(),
  status: Type.Integer(),
  details: Type.String()
})

export const IdentifierStatusSchema = Type.Object({
  name: Type.String(),
  readiness: Type.Boolean(),
  status: Type.Integer(),
  details: Type.String()
})

/** `status_report:status [group]`: {"Name", "Identifiers": [...]}, plus the group's own readiness. */
export const GroupStatusSchema = Type.Object({
  name: Type.String(),
  readiness: Type.Boolean(),
  required: Type.Boolean(),
  external: Type.Boolean(),
  identifiers: Type.Array(IdentifierStatusSchema)
})

export const ReportSchema = Type.Object({
  timestamp: Type.Integer({ description: 'unix seconds' }),
  date: Type.String({ description: 'ctime format, UTC' }),
  log: Type.String()
})

/** `status_report:reports [group [identifier]]`: {"Name", "Reports": [...]} per identifier. */
export const IdentifierReportsSchema = Type.Object({
  name: Type.String(),
  reports: Type.Array(ReportSchema)
})

export const GroupReportsSchema = Type.Object({
  name: Type.String(),
  identifiers: Type.Array(IdentifierReportsSchema)
})

/** `status_report:identifiers [group]`: {"Group", "Identifiers": [names]}. */
export const GroupIdentifiersSchema = Type.Object({
  group: Type.String(),
  identifiers: Type.Array(Type.String())
})

export const CreateGroupSchema = Type.Object({
  required: Type.Optional(Type.Boolean({ default: false, description: '/readyz waits for this group' })),
  ring_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'reports kept per identifier (default 50)' }))
}, { additionalProperties: false })
export type CreateGroup = Static<typeof CreateGroupSchema>

export const SetStatusSchema = Type.Object({
  status: Type.Integer({ not: { const: 0 }, minimum: -1_000_000, maximum: 1_000_000, description: '> 0 ready, < 0 not ready; 0 is refused' }),
  details: Type.Optional(Type.String({ maxLength: 1024 }))
}, { additionalProperties: false })
export type SetStatus = Static<typeof SetStatusSchema>

export const AddReportSchema = Type.Object({
  log: Type.String({ minLength: 1, maxLength: 4096 })
}, { additionalProperties: false })
export type AddReport = Static<typeof AddReportSchema>

export const ReadinessSchema = Type.Object({
  ready: Type.Boolean(),
  not_ready: Type.Array(Type.Object({
    group: Type.String(),
    identifier: Type.String(),
    status: Type.Integer(),
    details: Type.String()
  }))
})
