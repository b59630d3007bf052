/**
 * Wire shapes of the routing data (snake_case), shared by the admin CRUD API, the whole-partition
 * import/export document and the OpenAPI document. Rules that JSON Schema cannot say (a parseable
 * SIP address, a real timezone, a window that ends after it starts) live in validate-data.ts.
 */
import { Type, type Static } from 'typebox'

/**
 * The largest numeric id (rule ids, caller group ids): every id must survive a JSON number exactly,
 * so the API, the import and the database (migration 0006) all stop at Number.MAX_SAFE_INTEGER.
 */
export const MAX_ID = Number.MAX_SAFE_INTEGER

export const PartitionNameSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'partition name' })
export const PartitionParamsSchema = Type.Object({ partition: PartitionNameSchema })
export const EntityIdSchema = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'gateway or carrier id, unique in its partition' })
export const GroupNameSchema = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'caller group name' })
export const SortSchema = Type.Union([Type.Literal('ordered'), Type.Literal('weighted'), Type.Literal('hash'), Type.Literal('least_loaded')], {
  description: 'ordered: as listed; weighted: weighted draw without replacement; hash: stable per Call-ID; least_loaded: most relative free capacity first, ties by Call-ID'
})
export const ProbeModeSchema = Type.Union([Type.Literal('never'), Type.Literal('when_down'), Type.Literal('always')])
export const AttrsSchema = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { description: 'opaque attributes returned with the route', maxProperties: 64 })
export const DescriptionSchema = Type.String({ maxLength: 1024 })
export const WeightSchema = Type.Integer({ minimum: 0, maximum: 65535 })
export const MaxCallsSchema = Type.Union([Type.Integer({ minimum: 1, maximum: 10_000_000 }), Type.Null()], { description: 'most concurrent calls (offered and not ended); null → no limit' })
export const MaxCpsSchema = Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], { description: 'most new calls per second; null → no limit' })
export const TimerSchema = Type.Union([Type.Integer({ minimum: 100, maximum: 600_000 }), Type.Null()], { description: 'milliseconds; null → the proxy default' })

const Ms = (minimum: number, maximum: number, description: string) => Type.Optional(Type.Integer({ minimum, maximum, description }))

/** Settings per partition: gateway-health thresholds, failover feedback and probing. Unset → defaults. */
export const PartitionSettingsSchema = Type.Object({
  down_after_failures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'failures within failure_window_ms that take a gateway down (default 3)' })),
  failure_window_ms: Ms(1000, 86_400_000, 'window for counting failures (default 60000)'),
  up_after_probes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'consecutive good probes that bring a down gateway back (default 2)' })),
  hold_down_ms: Ms(0, 86_400_000, 'minimum time down; without probing, the time after which it comes back (default 30000)'),
  max_hold_down_ms: Ms(0, 86_400_000, 'cap of the hold time, which doubles with each recent flap (default 600000)'),
  flap_window_ms: Ms(1000, 604_800_000, 'down transitions within this window count as flaps (default 3600000)'),
  feedback_failure_codes: Type.Optional(Type.String({
    pattern: '^\\s*[1-6][0-9]{2}(-[1-6][0-9]{2})?L?(\\s*,\\s*[1-6][0-9]{2}(-[1-6][0-9]{2})?L?)*\\s*$',
    description: 'reply codes of a failed branch that count against the gateway; L: only when the proxy generated it (default "408L,500-599,600-699")'
  })),
  probe_interval_ms: Ms(1000, 3_600_000, 'SIP OPTIONS probing interval (default 30000)'),
  probe_timeout_ms: Ms(100, 60_000, 'a probe without a final reply by then failed (default 2000)'),
  probe_accept_codes: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 699 }), { maxItems: 32, description: 'probe replies that count as alive besides 200' })),
  blind_guard_min_gateways: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'a probe round in which every gateway (at least this many) failed freezes state instead; 0 turns the guard off (default 2)' })),
  lease_ttl_ms: Ms(1000, 3_600_000, 'an offered call not reported started by then stops counting (default 120000, Kamailio\'s fr_inv_timer default)'),
  max_call_duration_ms: Ms(10_000, 604_800_000, 'a started call not reported ended by then stops counting (default 14400000, 4 h)')
}, { additionalProperties: false })
export type PartitionSettings = Static<typeof PartitionSettingsSchema>

/**
 * drouting's `extra_prefix_chars`: characters besides the digits that rule prefixes and dialled
 * numbers may hold (printable ASCII, no digits, no space). A number with any other character
 * matches no prefix and is routed by the prefixless rules only. Only characters a SIP user part
 * carries unescaped (prefix-chars.ts USER_PART_MARKS, and letters).
 */
export const ExtraPrefixCharsSchema = Type.String({
  pattern: "^[A-Za-z_.!~*'()&=+$,?/#-]{0,32}$",
  description: 'characters besides 0-9 that prefixes and numbers may hold (drouting extra_prefix_chars), e.g. "*#"; a leading + is always allowed; default none'
})

/** Any character extra_prefix_chars may name: which ones a prefix may hold besides digits depends on its partition (validate-data.ts). */
export const RulePrefixSchema = Type.String({
  pattern: "^[A-Za-z0-9_.!~*'()&=+$,?/#-]{0,32}$",
  description: 'digits (optionally after +) and the partition\'s extra_prefix_chars; empty: the prefixless rule'
})

export const PartitionSchema = Type.Object({
  name: PartitionNameSchema,
  default_group: GroupNameSchema,
  extra_prefix_chars: ExtraPrefixCharsSchema,
  description: DescriptionSchema,
  settings: PartitionSettingsSchema,
  data_version: Type.Integer({ description: 'advanced by every committed change' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
})
export type PartitionOut = Static<typeof PartitionSchema>

export const PartitionInputSchema = Type.Object({
  name: PartitionNameSchema,
  default_group: Type.Optional(GroupNameSchema),
  extra_prefix_chars: Type.Optional(ExtraPrefixCharsSchema),
  description: Type.Optional(DescriptionSchema),
  settings: Type.Optional(PartitionSettingsSchema)
}, { additionalProperties: false })
export type PartitionInput = Static<typeof PartitionInputSchema>

export const GatewaySchema = Type.Object({
  id: EntityIdSchema,
  address: Type.String({ minLength: 1, maxLength: 255, description: 'SIP URI (sip:host[:port][;transport=…]) or host[:port]' }),
  strip: Type.Integer({ minimum: 0, maximum: 64, description: 'digits removed from the number before `prefix` is added' }),
  prefix: Type.String({ pattern: '^[0-9+*#]{0,32}$', description: 'added in front of the number' }),
  socket: Type.String({ maxLength: 128, description: 'local socket proto:ip:port for Kamailio, or empty' }),
  attrs: AttrsSchema,
  probe_mode: ProbeModeSchema,
  weight: WeightSchema,
  fr_timer: TimerSchema,
  fr_inv_timer: TimerSchema,
  max_calls: MaxCallsSchema,
  max_cps: MaxCpsSchema,
  enabled: Type.Boolean({ description: 'false: never routed, never probed' }),
  description: DescriptionSchema
}, { additionalProperties: false })
export type GatewayData = Static<typeof GatewaySchema>

/** Everything but `id` may be left out; defaults fill in. */
export const GatewayInputSchema = Type.Object({
  id: EntityIdSchema,
  address: GatewaySchema.properties.address,
  strip: Type.Optional(GatewaySchema.properties.strip),
  prefix: Type.Optional(GatewaySchema.properties.prefix),
  socket: Type.Optional(GatewaySchema.properties.socket),
  attrs: Type.Optional(AttrsSchema),
  probe_mode: Type.Optional(ProbeModeSchema),
  weight: Type.Optional(WeightSchema),
  fr_timer: Type.Optional(TimerSchema),
  fr_inv_timer: Type.Optional(TimerSchema),
  max_calls: Type.Optional(MaxCallsSchema),
  max_cps: Type.Optional(MaxCpsSchema),
  enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(DescriptionSchema)
}, { additionalProperties: false })
export type GatewayInput = Static<typeof GatewayInputSchema>

export const CarrierMemberSchema = Type.Object({
  gateway: EntityIdSchema,
  weight: Type.Optional(WeightSchema)
}, { additionalProperties: false })

export const CarrierSchema = Type.Object({
  id: EntityIdSchema,
  sort: SortSchema,
  first_only: Type.Boolean({ description: 'offer only the first usable gateway of the carrier' }),
  max_calls: MaxCallsSchema,
  max_cps: MaxCpsSchema,
  enabled: Type.Boolean(),
  attrs: AttrsSchema,
  description: DescriptionSchema,
  gateways: Type.Array(Type.Object({ gateway: EntityIdSchema, weight: WeightSchema }, { additionalProperties: false }), { maxItems: 1024 })
}, { additionalProperties: false })
export type CarrierData = Static<typeof CarrierSchema>

export const CarrierInputSchema = Type.Object({
  id: EntityIdSchema,
  sort: Type.Optional(SortSchema),
  first_only: Type.Optional(Type.Boolean()),
  max_calls: Type.Optional(MaxCallsSchema),
  max_cps: Type.Optional(MaxCpsSchema),
  enabled: Type.Optional(Type.Boolean()),
  attrs: Type.Optional(AttrsSchema),
  description: Type.Optional(DescriptionSchema),
  gateways: Type.Optional(Type.Array(CarrierMemberSchema, { maxItems: 1024 }))
}, { additionalProperties: false })
export type CarrierInput = Static<typeof CarrierInputSchema>

export const WeekdaySchema = Type.Union([
  Type.Literal('mon'), Type.Literal('tue'), Type.Literal('wed'), Type.Literal('thu'), Type.Literal('fri'), Type.Literal('sat'), Type.Literal('sun')
])
export const ClockTimeSchema = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$', description: 'HH:MM local time; 24:00 ends the day' })
export const DateSchema = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD local date' })

export const TimeWindowSchema = Type.Object({
  timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA timezone, e.g. Europe/London' }),
  weekly: Type.Optional(Type.Array(Type.Object({
    days: Type.Array(WeekdaySchema, { minItems: 1, maxItems: 7 }),
    start: ClockTimeSchema,
    end: ClockTimeSchema
  }, { additionalProperties: false }), { maxItems: 32, description: 'open when any entry matches; absent or empty: every day, all day' })),
  from: Type.Optional(DateSchema),
  until: Type.Optional(DateSchema)
}, { additionalProperties: false, description: 'open on dates from..until (inclusive) and within a weekly window, in the timezone' })
export type TimeWindowData = Static<typeof TimeWindowSchema>

/** Longest timerec text accepted (drouting's dr_rules.timerec is a varchar(255); several joined by operators run longer). */
export const TIMEREC_MAX_LENGTH = 4096
export const TimerecSchema = Type.Union([Type.String({ maxLength: TIMEREC_MAX_LENGTH }), Type.Null()], {
  description: 'OpenSIPS drouting/cfgutils time recurrence: [timezone|]dtstart|dtend|duration|freq|until|interval|byday|bymonthday|byyearday|byweekno|bymonth, ' +
    'several joined by & (and), / (or), ! (not) and parentheses; null or empty: always valid'
})

export const RuleTargetSchema = Type.Union([
  Type.Object({ gateway: EntityIdSchema, weight: Type.Optional(WeightSchema) }, { additionalProperties: false }),
  Type.Object({ carrier: EntityIdSchema, weight: Type.Optional(WeightSchema) }, { additionalProperties: false })
])
export type RuleTargetData = Static<typeof RuleTargetSchema>

export const RuleSchema = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: `1 to ${MAX_ID}` }),
  groups: Type.Array(GroupNameSchema, { minItems: 1, maxItems: 64, description: 'the caller groups the rule serves; required (drouting discards a rule without groups)' }),
  prefix: RulePrefixSchema,
  priority: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: 'higher wins among rules of one prefix' }),
  time_window: Type.Union([TimeWindowSchema, Type.Null()]),
  /** Absent when null (documents written before it stay the same); with time_window, both must match. */
  timerec: Type.Optional(TimerecSchema),
  targets: Type.Array(RuleTargetSchema, { maxItems: 256 }),
  sort: SortSchema,
  max_targets: Type.Union([Type.Integer({ minimum: 1, maximum: 64 }), Type.Null()]),
  fallback: Type.Boolean({ description: 'when every target is down, try the next rule (drouting flag F)' }),
  attrs: AttrsSchema,
  enabled: Type.Boolean(),
  description: DescriptionSchema
}, { additionalProperties: false })
export type RuleData = Static<typeof RuleSchema>

export const RuleInputSchema = Type.Object({
  id: Type.Optional(RuleSchema.properties.id),
  groups: Type.Optional(RuleSchema.properties.groups),
  prefix: Type.Optional(RuleSchema.properties.prefix),
  priority: Type.Optional(RuleSchema.properties.priority),
  time_window: Type.Optional(RuleSchema.properties.time_window),
  timerec: Type.Optional(TimerecSchema),
  targets: RuleSchema.properties.targets,
  sort: Type.Optional(SortSchema),
  max_targets: Type.Optional(RuleSchema.properties.max_targets),
  fallback: Type.Optional(Type.Boolean()),
  attrs: Type.Optional(AttrsSchema),
  enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(DescriptionSchema)
}, { additionalProperties: false })
export type RuleInput = Static<typeof RuleInputSchema>

export const CallerGroupKindSchema = Type.Union([Type.Literal('cidr'), Type.Literal('from_uri'), Type.Literal('from_domain')], {
  description: 'cidr: source address; from_uri: From user@domain; from_domain: From domain'
})

/** In the data document a caller group is identified by (kind, value); the CRUD API adds a numeric id. */
export const CallerGroupSchema = Type.Object({
  kind: CallerGroupKindSchema,
  value: Type.String({ minLength: 1, maxLength: 255 }),
  group: GroupNameSchema,
  description: DescriptionSchema
}, { additionalProperties: false })
export type CallerGroupData = Static<typeof CallerGroupSchema>

export const CallerGroupInputSchema = Type.Object({
  kind: CallerGroupKindSchema,
  value: CallerGroupSchema.properties.value,
  group: GroupNameSchema,
  description: Type.Optional(DescriptionSchema)
}, { additionalProperties: false })
export type CallerGroupInput = Static<typeof CallerGroupInputSchema>

export const CallerGroupWithIdSchema = Type.Object({ id: Type.Integer(), ...CallerGroupSchema.properties }, { additionalProperties: false })

/** The whole-partition document of PUT/GET /v1/partitions/:partition/data; export → import is a round trip. */
export const PartitionDataSchema = Type.Object({
  partition: Type.Object({
    default_group: GroupNameSchema,
    /** Always in an export; optional in the type so that documents built before it stay valid. */
    extra_prefix_chars: Type.Optional(ExtraPrefixCharsSchema),
    description: DescriptionSchema,
    settings: PartitionSettingsSchema
  }, { additionalProperties: false }),
  gateways: Type.Array(GatewaySchema),
  carriers: Type.Array(CarrierSchema),
  rules: Type.Array(RuleSchema),
  caller_groups: Type.Array(CallerGroupSchema)
}, { additionalProperties: false })
export type PartitionData = Static<typeof PartitionDataSchema>

/** The import body: like the export, with defaults allowed (rule ids too may be left out). */
export const PartitionDataInputSchema = Type.Object({
  partition: Type.Optional(Type.Object({
    default_group: Type.Optional(GroupNameSchema),
    extra_prefix_chars: Type.Optional(ExtraPrefixCharsSchema),
    description: Type.Optional(DescriptionSchema),
    settings: Type.Optional(PartitionSettingsSchema)
  }, { additionalProperties: false })),
  gateways: Type.Optional(Type.Array(GatewayInputSchema)),
  carriers: Type.Optional(Type.Array(CarrierInputSchema)),
  rules: Type.Optional(Type.Array(RuleInputSchema)),
  caller_groups: Type.Optional(Type.Array(CallerGroupInputSchema))
}, { additionalProperties: false })
export type PartitionDataInput = Static<typeof PartitionDataInputSchema>
