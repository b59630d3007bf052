/**
 * The one import flow of a whole partition, for the HTTP route and the CLI alike: validate every
 * problem at once, diff against what is stored, then either stop (dry run, or invalid) or replace
 * the partition in one transaction.
 */
import { diffPartitionData, summariseDiff, validatePartitionData, type PartitionDiff, type Validated } from './partition-data.js'
import type { PartitionDataRepository } from './partition-data.repository.js'

export type ImportProblem = Validated['problems'][number]

/** What an import found: its problems, and the change it makes (or would make) to the partition. */
export interface ImportReport {
  readonly dryRun: boolean
  readonly valid: boolean
  readonly problems: ImportProblem[]
  readonly diff: PartitionDiff
  readonly summary: string
}

export type ImportOutcome =
  /** Refused before the database was touched: nothing was written. */
  | { readonly kind: 'invalid', readonly problems: ImportProblem[] }
  /** A dry run: validated and diffed, nothing written. */
  | { readonly kind: 'checked', readonly report: ImportReport }
  | { readonly kind: 'written', readonly report: ImportReport, readonly created: boolean, readonly version: number }

/** Runs `fn` with a repository: the HTTP route's own, or a database the CLI opens only when needed. */
export type WithRepository = <T>(fn: (repository: PartitionDataRepository) => Promise<T>) => Promise<T>

export async function importPartition (withRepository: WithRepository, partition: string, document: unknown, dryRun: boolean): Promise<ImportOutcome> {
  const { data, problems } = validatePartitionData(document)
  if (problems.length > 0 && !dryRun) return { kind: 'invalid', problems }
  return await withRepository(async (repository) => {
    const diff = diffPartitionData((await repository.load(partition))?.data, data)
    const report: ImportReport = { dryRun, valid: problems.length === 0, problems, diff, summary: summariseDiff(diff) }
    if (dryRun) return { kind: 'checked', report }
    const { created, version } = await repository.replace(partition, data)
    return { kind: 'written', report, created, version }
  })
}
