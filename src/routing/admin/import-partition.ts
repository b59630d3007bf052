/**
 * The one import flow of a whole partition, for the HTTP route and the CLI alike: validate every
 * problem at once, diff against what is stored, check that the document does not wipe the
 * partition by accident, then either stop (dry run, invalid, refused) or replace the partition in
 * one transaction.
 */
import { diffPartitionData, summariseDiff, validatePartitionData, type ImportData, type PartitionDiff, type Validated } from './partition-data.js'
import type { PartitionDataRepository, PartitionSizes } from './partition-data.repository.js'
import type { PartitionData } from '../routing-data.schema.js'

export type ImportProblem = Validated['problems'][number]

/** An import that is valid but would wipe data the document may have left out by mistake. */
export interface ImportRefusal {
  readonly error: 'would_wipe'
  readonly message: string
}

/** What an import found: its problems, and the change it makes (or would make) to the partition. */
export interface ImportReport {
  readonly dryRun: boolean
  readonly valid: boolean
  readonly problems: ImportProblem[]
  readonly diff: PartitionDiff
  readonly summary: string
  /** Why the import is (or, in a dry run, would be) refused although valid. */
  readonly refused?: ImportRefusal
}

export type ImportOutcome =
  /** Refused before the database was touched: nothing was written. */
  | { readonly kind: 'invalid', readonly problems: ImportProblem[] }
  /** Valid, but it would wipe the partition and the request did not allow it: nothing was written. */
  | { readonly kind: 'refused', readonly report: ImportReport, readonly refusal: ImportRefusal }
  /** A dry run: validated, diffed and checked, nothing written. */
  | { readonly kind: 'checked', readonly report: ImportReport }
  | { readonly kind: 'written', readonly report: ImportReport, readonly created: boolean, readonly version: number }

export interface ImportOptions {
  readonly dryRun: boolean
  /** Import even a document that leaves out a section, empties the partition or drops more than `maxDropPercent` of it. */
  readonly allowEmpty: boolean
  /** The share of the partition's rows (gateways, carriers, rules, caller groups together) an import may drop. */
  readonly maxDropPercent: number
}

/** Runs `fn` with a repository: the HTTP route's own, or a database the CLI opens only when needed. */
export type WithRepository = <T>(fn: (repository: PartitionDataRepository) => Promise<T>) => Promise<T>

/** Every section of the document: an import replaces all of them, so each must be given (an empty list for none). */
export const SECTIONS = ['partition', 'gateways', 'carriers', 'rules', 'caller_groups'] as const

const sizesOf = (data: PartitionData | ImportData | undefined): PartitionSizes => ({
  gateways: data?.gateways.length ?? 0,
  carriers: data?.carriers.length ?? 0,
  rules: data?.rules.length ?? 0,
  callerGroups: data?.caller_groups.length ?? 0
})
const total = (s: PartitionSizes): number => s.gateways + s.carriers + s.rules + s.callerGroups
const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`
const quoted = (names: readonly string[]): string => names.map((name) => JSON.stringify(name)).join(', ')

interface WipeCheck {
  readonly partition: string
  /** Sections the document leaves out. */
  readonly missing: readonly string[]
  readonly before: PartitionSizes
  readonly after: PartitionSizes
  readonly maxDropPercent: number
}

/** The refusal of an import that would wipe what the partition holds, or undefined when it is safe. */
export function wipeRefusal ({ partition, missing, before, after, maxDropPercent }: WipeCheck): ImportRefusal | undefined {
  const reasons: string[] = []
  if (missing.length > 0) {
    reasons.push(`the document has no ${quoted(missing)} section (an import replaces the whole partition: give every section, an empty list for none)`)
  }
  const had = total(before)
  const dropped = had - total(after)
  const share = had === 0 ? 0 : (dropped * 100) / had
  if (had > 0 && total(after) === 0) {
    reasons.push(`would empty partition ${JSON.stringify(partition)} (${count(before.gateways, 'gateway')}, ${count(before.carriers, 'carrier')}, ` +
      `${count(before.rules, 'rule')}, ${count(before.callerGroups, 'caller group')} → nothing)`)
  } else if (before.rules > 0 && after.rules === 0) {
    reasons.push(`would leave partition ${JSON.stringify(partition)} without rules (${before.rules} → 0): every call would get no_route`)
  } else if (share > maxDropPercent) {
    const changes = (['gateways', 'carriers', 'rules', 'callerGroups'] as const).filter((k) => after[k] < before[k])
      .map((k) => `${k === 'callerGroups' ? 'caller groups' : k} ${before[k]} → ${after[k]}`)
    reasons.push(`would drop ${dropped} of the ${had} rows of partition ${JSON.stringify(partition)} ` +
      `(${Math.round(share)} %, more than the ${maxDropPercent} % an import may drop): ${changes.join(', ')}`)
  }
  if (reasons.length === 0) return undefined
  return { error: 'would_wipe', message: `${reasons.join('; ')}; nothing was written; send ?allow_empty=true (rtroute import --allow-empty) to import it anyway` }
}

/** Thrown inside the write transaction when the partition changed since the check and the import now wipes it. */
class Refused extends Error {
  constructor (readonly refusal: ImportRefusal) { super(refusal.message) }
}

export async function importPartition (withRepository: WithRepository, partition: string, document: unknown, options: ImportOptions): Promise<ImportOutcome> {
  const { dryRun, allowEmpty } = options
  const { data, problems } = validatePartitionData(document)
  if (problems.length > 0 && !dryRun) return { kind: 'invalid', problems }
  const missing = problems.length > 0 ? [] : SECTIONS.filter((section) => !Object.hasOwn(document as object, section))
  const check = (before: PartitionSizes): ImportRefusal | undefined => allowEmpty || problems.length > 0
    ? undefined
    : wipeRefusal({ partition, missing, before, after: sizesOf(data), maxDropPercent: options.maxDropPercent })
  return await withRepository(async (repository) => {
    const current = await repository.load(partition)
    const diff = diffPartitionData(current?.data, data)
    const refused = check(sizesOf(current?.data))
    const report: ImportReport = { dryRun, valid: problems.length === 0, problems, diff, summary: summariseDiff(diff), ...(refused === undefined ? {} : { refused }) }
    if (dryRun) return { kind: 'checked', report }
    if (refused !== undefined) return { kind: 'refused', report, refusal: refused }
    try {
      // Checked again under the partition's lock: another import may have filled it since it was read.
      const { created, version } = await repository.replace(partition, data, (sizes) => {
        const late = check(sizes)
        if (late !== undefined) throw new Refused(late)
      })
      return { kind: 'written', report, created, version }
    } catch (err) {
      if (err instanceof Refused) return { kind: 'refused', report: { ...report, refused: err.refusal }, refusal: err.refusal }
      throw err
    }
  })
}
