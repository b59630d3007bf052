/**
 * `rtroute import --from-drouting URL`: OpenSIPS drouting tables into rtroute partitions, one per
 * drouting partition (or the one named), through the one import flow (import-partition.ts): every
 * document is checked (validated, diffed, wipe guard) before the first is written, and each is
 * written all or nothing. Reading is drouting-reader.ts, the mapping drouting-map.ts (pure).
 */
import type { ParseArgsConfig } from 'node:util'
import { extraPrefixCharsProblem, formatDroutingCounts, formatNote, mapDrouting, type DroutingMapping } from './routing/admin/drouting-map.js'
import { readDroutingPartitions, readDroutingTables, type DroutingSource } from './routing/admin/drouting-reader.js'
import { DEFAULT_TABLE_NAMES } from './routing/admin/drouting-tables.js'
import { importPartition, type ImportOptions, type WithRepository } from './routing/admin/import-partition.js'

export const DROUTING_OPTIONS = {
  'from-drouting': { type: 'string' },
  strict: { type: 'boolean' },
  'table-gateways': { type: 'string' },
  'table-carriers': { type: 'string' },
  'table-rules': { type: 'string' },
  'table-groups': { type: 'string' },
  'table-partitions': { type: 'string' },
  'extra-prefix-chars': { type: 'string' },
  'default-group': { type: 'string' }
} as const satisfies ParseArgsConfig['options']

export const DROUTING_HELP = `  import --from-drouting URL [--partition P] [--strict] [--dry-run] [--allow-empty]
         [--table-gateways T] [--table-carriers T] [--table-rules T] [--table-groups T]
         [--table-partitions T] [--extra-prefix-chars C] [--default-group G]
             read OpenSIPS drouting tables from the PostgreSQL URL into one partition per
             dr_partitions row (or the one --partition names; without dr_partitions rows,
             the tables named by the --table-* flags, drouting's modparams, into partition P);
             prints drouting's "N loaded (N discarded)" and, per row, what is not carried and
             the decision taken; --strict refuses the import when anything routes differently;
             --dry-run prints the diff against each current partition
`

export type DroutingFlags = Partial<Record<keyof typeof DROUTING_OPTIONS, string | boolean | undefined>> & {
  readonly partition: string | undefined
  readonly dryRun: boolean
  readonly allowEmpty: boolean
}

const PARTITION_NAME = /^[A-Za-z0-9_-]{1,64}$/
const GROUP_NAME = /^[A-Za-z0-9_.-]{1,64}$/
const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined)

interface Out { readonly out: (line: string) => void, readonly err: (line: string) => void }

/** The partitions to read: dr_partitions' rows when it has any, else one from the flags' tables. */
async function sources (url: string, flags: DroutingFlags): Promise<DroutingSource[] | string> {
  const tables = {
    gateways: str(flags['table-gateways']) ?? DEFAULT_TABLE_NAMES.gateways,
    carriers: str(flags['table-carriers']) ?? DEFAULT_TABLE_NAMES.carriers,
    rules: str(flags['table-rules']) ?? DEFAULT_TABLE_NAMES.rules,
    groups: str(flags['table-groups']) ?? DEFAULT_TABLE_NAMES.groups
  }
  const listed = await readDroutingPartitions(url, str(flags['table-partitions']) ?? 'dr_partitions', tables)
  if (listed === undefined) return [{ partition: flags.partition ?? 'default', url, tables }]
  const chosen = flags.partition === undefined ? listed : listed.filter((s) => s.partition === flags.partition)
  if (chosen.length === 0) return `no drouting partition ${JSON.stringify(flags.partition)} (dr_partitions lists ${listed.map((s) => JSON.stringify(s.partition)).join(', ')})`
  const bad = chosen.find((s) => !PARTITION_NAME.test(s.partition))
  return bad === undefined ? chosen : `drouting partition ${JSON.stringify(bad.partition)}: rtroute partition names are 1 to 64 of A-Z a-z 0-9 _ -; import it alone with --partition after renaming it`
}

function report (source: DroutingSource, mapping: DroutingMapping, io: Out): void {
  io.out(`partition "${source.partition}" (${source.tables.gateways}, ${source.tables.carriers}, ${source.tables.rules}, ${source.tables.groups}): ${formatDroutingCounts(mapping.counts)}`)
  for (const note of mapping.notes) io.out(`  ${formatNote(note)}${note.lossy ? '' : ' [as drouting]'}`)
}

/** A bad --extra-prefix-chars or --default-group, found before any database is opened; undefined when both are fine. */
export function droutingUsageProblem (flags: Pick<DroutingFlags, 'extra-prefix-chars' | 'default-group'>): string | undefined {
  const defaultGroup = str(flags['default-group']) ?? 'default'
  return extraPrefixCharsProblem(str(flags['extra-prefix-chars']) ?? '') ??
    (GROUP_NAME.test(defaultGroup) ? undefined : `--default-group ${JSON.stringify(defaultGroup)}: expected 1 to 64 of A-Z a-z 0-9 _ . -`)
}

export async function importFromDrouting (url: string, flags: DroutingFlags, withRepository: WithRepository, maxDropPercent: number, io: Out): Promise<number> {
  const extraPrefixChars = str(flags['extra-prefix-chars']) ?? ''
  const defaultGroup = str(flags['default-group']) ?? 'default'
  const usage = droutingUsageProblem(flags)
  if (usage !== undefined) {
    io.err(`rtroute: ${usage}`)
    return 1
  }
  const found = await sources(url, flags)
  if (typeof found === 'string') {
    io.err(`rtroute: ${found}`)
    return 1
  }
  const mapped: Array<{ source: DroutingSource, mapping: DroutingMapping }> = []
  for (const source of found) {
    const mapping = mapDrouting(await readDroutingTables(source.url, source.tables), {
      extraPrefixChars, defaultGroup, description: `imported from OpenSIPS drouting (${source.tables.rules})`
    })
    report(source, mapping, io)
    mapped.push({ source, mapping })
  }
  const lossy = mapped.flatMap((m) => m.mapping.notes.filter((n) => n.lossy))
  if (flags.strict === true && lossy.length > 0) {
    io.err(`rtroute: --strict: ${lossy.length} row(s) would route differently or lose a value (listed above); nothing was written`)
    return 1
  }
  const options = (dryRun: boolean): ImportOptions => ({ dryRun, allowEmpty: flags.allowEmpty, maxDropPercent })
  // Every partition is checked before the first is written: a bad one stops them all.
  let ok = true
  for (const { source, mapping } of mapped) {
    const outcome = await importPartition(withRepository, source.partition, mapping.document, options(true))
    if (outcome.kind !== 'checked') continue
    const { valid, problems, summary, diff, refused } = outcome.report
    if (flags.dryRun) io.out(JSON.stringify({ partition: source.partition, valid, problems, summary, diff, ...(refused === undefined ? {} : { refused }) }, null, 2))
    for (const p of problems) io.err(`${source.partition}: ${p.path}: ${p.message}`)
    if (refused !== undefined) io.err(`rtroute: ${source.partition}: ${refused.error}: ${refused.message}`)
    ok &&= valid && refused === undefined
  }
  if (!ok) {
    if (!flags.dryRun) io.err('rtroute: nothing was written')
    return 1
  }
  if (flags.dryRun) return 0
  for (const { source, mapping } of mapped) {
    const outcome = await importPartition(withRepository, source.partition, mapping.document, options(false))
    if (outcome.kind === 'written') {
      io.out(`${outcome.created ? 'created' : 'replaced'} partition "${source.partition}" (data version ${outcome.version}): ${outcome.report.summary}`)
    } else {
      io.err(`rtroute: ${source.partition}: ${outcome.kind === 'refused' ? outcome.refusal.message : 'invalid'}; not written`)
      return 1
    }
  }
  return 0
}
