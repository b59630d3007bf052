/**
 * The whole-partition document, pure: validate every row of an import (schema and semantics,
 * every problem with its path, not just the first), fill defaults, and diff it against the
 * current data (added / changed / removed per entity).
 */
import { Compile } from 'typebox/compile'
import { canonical } from '../snapshot/data-checksum.js'
import {
  MAX_ID, PartitionDataInputSchema, type CallerGroupData, type CarrierData, type GatewayData, type PartitionData,
  type PartitionDataInput, type RuleData
} from '../routing-data.schema.js'
import { normaliseCallerGroup, normaliseCarrier, normaliseGateway, normaliseRule, type Problem } from '../validate-data.js'

/** A rule of an import may come without an id: the database gives it one. */
export type ImportRule = Omit<RuleData, 'id'> & { id: number | undefined }
export type ImportData = Omit<PartitionData, 'rules'> & { rules: ImportRule[] }

const compiled = Compile(PartitionDataInputSchema)

/** `/gateways/3/address` → `gateways[3].address`. */
export function pathOf (instancePath: string): string {
  return instancePath.split('/').slice(1).reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '')
}

function schemaProblems (input: unknown): Problem[] {
  const problems: Problem[] = []
  for (const error of compiled.Errors(input)) {
    // TypeBox reports an unknown property twice (as `false` schema and as additionalProperties); keep the named one.
    if (error.keyword === 'boolean') continue
    const params = error.params as { additionalProperties?: string[] }
    const extra = params.additionalProperties === undefined ? '' : ` (${params.additionalProperties.join(', ')})`
    problems.push({ path: pathOf(error.instancePath), message: `${error.message}${extra}` })
    if (problems.length >= 100) break
  }
  return problems
}

function duplicates<T> (items: readonly T[], key: (item: T) => string | undefined, entity: string, label: (k: string) => string): Problem[] {
  const seen = new Set<string>()
  const problems: Problem[] = []
  items.forEach((item, i) => {
    const k = key(item)
    if (k === undefined) return
    if (seen.has(k)) problems.push({ path: `${entity}[${i}]`, message: `${label(k)} appears twice` })
    seen.add(k)
  })
  return problems
}

/** Rules without an id get max + 1 onwards (partition-data.repository.ts): none of those may pass MAX_ID. */
function idsPastTheRange (rules: readonly ImportRule[]): Problem[] {
  let next = rules.reduce((max, r) => Math.max(max, r.id ?? 0), 0)
  const problems: Problem[] = []
  rules.forEach((r, i) => {
    if (r.id === undefined && ++next > MAX_ID) problems.push({ path: `rules[${i}].id`, message: `no id given, and the next one after the highest would be past ${MAX_ID}; give a free id` })
  })
  return problems
}

export interface Validated {
  readonly data: ImportData
  readonly problems: Problem[]
}

/** Validates an import document; `data` is meaningful only when `problems` is empty. */
export function validatePartitionData (input: unknown): Validated {
  const empty: ImportData = { partition: { default_group: 'default', extra_prefix_chars: '', description: '', settings: {} }, gateways: [], carriers: [], rules: [], caller_groups: [] }
  const problems = schemaProblems(input)
  if (problems.length > 0) return { data: empty, problems }
  const doc = input as PartitionDataInput
  const partition = {
    default_group: doc.partition?.default_group ?? 'default',
    extra_prefix_chars: doc.partition?.extra_prefix_chars ?? '',
    description: doc.partition?.description ?? '',
    settings: doc.partition?.settings ?? {}
  }
  const gateways = (doc.gateways ?? []).map((g, i) => normaliseGateway(g, `gateways[${i}]`))
  const gatewayIds = new Set(gateways.map((g) => g.data.id))
  const carriers = (doc.carriers ?? []).map((c, i) => normaliseCarrier(c, gatewayIds, `carriers[${i}]`))
  const refs = { gateways: gatewayIds, carriers: new Set(carriers.map((c) => c.data.id)) }
  const rules = (doc.rules ?? []).map((r, i) => normaliseRule(r, refs, partition.extra_prefix_chars, `rules[${i}]`))
  const callerGroups = (doc.caller_groups ?? []).map((c, i) => normaliseCallerGroup(c, `caller_groups[${i}]`))
  const data: ImportData = {
    partition,
    gateways: gateways.map((g) => g.data),
    carriers: carriers.map((c) => c.data),
    rules: rules.map((r) => r.data),
    caller_groups: callerGroups.map((c) => c.data)
  }
  for (const item of [...gateways, ...carriers, ...rules, ...callerGroups]) problems.push(...item.problems)
  problems.push(
    ...idsPastTheRange(data.rules),
    ...duplicates(data.gateways, (g) => g.id, 'gateways', (k) => `gateway "${k}"`),
    ...duplicates(data.carriers, (c) => c.id, 'carriers', (k) => `carrier "${k}"`),
    ...duplicates(data.rules, (r) => (r.id === undefined ? undefined : String(r.id)), 'rules', (k) => `rule id ${k}`),
    ...duplicates(data.caller_groups, (c) => `${c.kind} ${c.value}`, 'caller_groups', (k) => `caller group ${k}`)
  )
  return { data, problems }
}

export interface EntityDiff {
  readonly added: string[]
  readonly changed: string[]
  readonly removed: string[]
}

export interface PartitionDiff {
  readonly partition: { changed: boolean }
  readonly gateways: EntityDiff
  readonly carriers: EntityDiff
  readonly rules: EntityDiff
  readonly caller_groups: EntityDiff
}

function diffBy<T> (before: readonly T[], after: readonly T[], key: (item: T) => string | undefined, compare: (item: T) => string): EntityDiff {
  const old = new Map(before.map((item) => [key(item) ?? '', item]))
  const added: string[] = []
  const changed: string[] = []
  const kept = new Set<string>()
  for (const item of after) {
    const k = key(item)
    const previous = k === undefined ? undefined : old.get(k)
    if (k === undefined || previous === undefined) {
      added.push(k ?? '(new)')
      continue
    }
    kept.add(k)
    if (compare(previous) !== compare(item)) changed.push(k)
  }
  const removed = [...old.keys()].filter((k) => !kept.has(k))
  return { added, changed, removed }
}

const withoutId = ({ id: _id, ...rest }: ImportRule | RuleData): unknown => rest

export function diffPartitionData (before: PartitionData | undefined, after: ImportData): PartitionDiff {
  const b = before ?? { partition: undefined, gateways: [], carriers: [], rules: [], caller_groups: [] }
  return {
    partition: { changed: b.partition === undefined || canonical(b.partition) !== canonical(after.partition) },
    gateways: diffBy<GatewayData>(b.gateways, after.gateways, (g) => g.id, canonical),
    carriers: diffBy<CarrierData>(b.carriers, after.carriers, (c) => c.id, canonical),
    rules: diffBy<ImportRule | RuleData>(b.rules, after.rules, (r) => (r.id === undefined ? undefined : String(r.id)), (r) => canonical(withoutId(r))),
    caller_groups: diffBy<CallerGroupData>(b.caller_groups, after.caller_groups, (c) => `${c.kind} ${c.value}`, canonical)
  }
}

/** One line per entity for logs and CLI output: `gateways +2 ~1 -0`. */
export function summariseDiff (diff: PartitionDiff): string {
  const part = (name: string, d: EntityDiff): string => `${name} +${d.added.length} ~${d.changed.length} -${d.removed.length}`
  return [part('gateways', diff.gateways), part('carriers', diff.carriers), part('rules', diff.rules), part('caller_groups', diff.caller_groups)].join(', ')
}
