#!/usr/bin/env node
/** The `rtroute` command: serve, migrate and (later) data tools. Flags override environment variables. */
import { readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Logger } from 'pino'
import { DROUTING_HELP, DROUTING_OPTIONS, droutingUsageProblem, importFromDrouting } from './cli-drouting.js'
import { routeCommand } from './cli-route.js'
import { CONFIG_VARS, ConfigError, loadConfig, redactUrl, type Config } from './config.js'
import type { VarSpec } from './env-vars.js'
import { createDb } from './db.js'
import { createLogger } from './logger.js'
import { migrateToLatest } from './migrate.js'
import { PACKAGE_VERSION } from './paths.js'
import { serializePartitionData } from './routing/admin/export-document.js'
import { importPartition } from './routing/admin/import-partition.js'
import { createPartitionDataRepository, type PartitionDataRepository } from './routing/admin/partition-data.repository.js'
import { resolveDatabase } from './database-target.js'
import { serve } from './server.js'

/** sysexits.h: 64 usage error, 78 configuration error. */
const EXIT_USAGE = 64
const EXIT_CONFIG = 78

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  'no-demo': { type: 'boolean' },
  partition: { type: 'string', short: 'P' },
  'dry-run': { type: 'boolean' },
  'allow-empty': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  url: { type: 'string' },
  group: { type: 'string' },
  'call-id': { type: 'string' },
  from: { type: 'string' },
  'source-ip': { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean' },
  ...DROUTING_OPTIONS
} as const satisfies ParseArgsConfig['options']

/** Each flag stands for one environment variable, so config is parsed and checked in one place. */
const FLAG_ENV: Record<string, string> = {
  port: 'PORT',
  host: 'HOST',
  'database-url': 'DATABASE_URL',
  'data-dir': 'RTROUTE_DATA_DIR',
  'log-level': 'LOG_LEVEL'
}

/** One line per variable, from the same settings tables as the parser and the README's table. */
function describeVar (v: VarSpec): string {
  const kind = v.bounds === undefined ? v.type : `${v.type} ${v.bounds[0]} to ${v.bounds[1]}`
  return `  ${v.name.padEnd(30)} ${v.help} (${kind}, ${v.default === '(unset)' ? 'unset by default' : `default ${v.default}`})`
}

function help (): string {
  const vars = CONFIG_VARS.map(describeVar).join('\n')
  return `rtroute: SIP routing API for Kamailio (rtjson) and OpenSIPS

Usage: rtroute <command> [options]

Commands:
  serve      run the HTTP service (applies migrations at start; without DATABASE_URL,
             runs an embedded PostgreSQL in the data directory)
  migrate    apply pending database migrations and exit
  import FILE [--partition P] [--dry-run] [--allow-empty]
             replace a partition with the data document in FILE (- for stdin), all or
             nothing; --dry-run prints the validation result and the diff only; a document
             that leaves out a section, empties the partition or drops more than
             RTROUTE_IMPORT_MAX_DROP_PERCENT of it is refused unless --allow-empty
${DROUTING_HELP}  export [--partition P] [--output FILE]
             print a partition's data document (the same as GET /v1/partitions/P/data)
  route NUMBER [--partition P] [--group G] [--call-id C] [--from URI] [--source-ip IP]
             [--at ISO-TIME] [--url URL] [--json]
             ask a running rtroute where NUMBER would go and why (GET /v1/partitions/P/route);
             --url defaults to http://127.0.0.1:$PORT, the token to RTROUTE_ADMIN_TOKEN

Options:
  -p, --port N             HTTP port (PORT)
      --host ADDR          listen address (HOST)
      --database-url URL   PostgreSQL URL (DATABASE_URL)
      --data-dir DIR       data directory for the embedded PostgreSQL (RTROUTE_DATA_DIR)
      --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (LOG_LEVEL)
      --no-demo            do not seed the demo partition (RTROUTE_DEMO=false)
  -P, --partition NAME     partition for import/export (default: default)
      --dry-run            import: validate and diff, write nothing
      --allow-empty        import: accept a document that would wipe the partition
  -o, --output FILE        export: write to FILE instead of stdout
  -h, --help               this help
      --version            print the version

Environment:
${vars}

Exit codes: 0 ok, 1 failure, ${EXIT_USAGE} bad usage, ${EXIT_CONFIG} bad configuration.
`
}

function fail (code: number, message: string): never {
  process.stderr.write(`rtroute: ${message}\n`)
  process.exit(code)
}

/** Opens the database (given, embedded, or the embedded one a running `serve` holds), migrated. */
async function withDatabase<T> (config: Config, command: string, fn: (repository: PartitionDataRepository, log: Logger) => Promise<T>): Promise<T> {
  const log = createLogger(config.logLevel, undefined, 2)
  const target = await resolveDatabase(config, log, command)
  const db = createDb({ url: target.url, poolMax: 2, onPoolError: () => {} })
  try {
    const results = await migrateToLatest(db.kysely)
    if (results.length === 0) log.info(`database ${redactUrl(target.url)} is up to date`)
    for (const result of results) log.info(`migration ${result.migrationName}: ${result.status}`)
    return await fn(createPartitionDataRepository(db.kysely), log)
  } finally {
    await db.close()
    await target.embedded?.stop()
  }
}

async function importFile (config: Config, file: string, partition: string, flags: { dryRun: boolean, allowEmpty: boolean }): Promise<number> {
  const text = file === '-' ? readFileSync(0, 'utf8') : await readFile(file, 'utf8')
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (err) {
    process.stderr.write(`rtroute: ${file} is not JSON: ${(err as Error).message}\n`)
    return 1
  }
  const outcome = await importPartition(async (fn) => await withDatabase(config, 'import', fn), partition, document, {
    ...flags,
    maxDropPercent: config.importMaxDropPercent
  })
  if (outcome.kind === 'invalid') {
    for (const p of outcome.problems) process.stderr.write(`${p.path}: ${p.message}\n`)
    process.stderr.write(`rtroute: ${outcome.problems.length} problem(s) in ${file}; nothing was written\n`)
    return 1
  }
  if (outcome.kind === 'refused') {
    process.stderr.write(`rtroute: ${outcome.refusal.error}: ${outcome.refusal.message}\n`)
    return 1
  }
  const { valid, problems, summary, diff, refused } = outcome.report
  if (outcome.kind === 'checked') {
    process.stdout.write(`${JSON.stringify({ partition, valid, problems, summary, diff, ...(refused === undefined ? {} : { refused }) }, null, 2)}\n`)
    return valid && refused === undefined ? 0 : 1
  }
  process.stdout.write(`${outcome.created ? 'created' : 'replaced'} partition "${partition}" (data version ${outcome.version}): ${summary}\n`)
  return 0
}

async function exportPartition (config: Config, partition: string, output: string | undefined): Promise<number> {
  return await withDatabase(config, 'export', async (repository) => {
    const loaded = await repository.load(partition)
    if (loaded === undefined) {
      process.stderr.write(`rtroute: partition "${partition}" not found\n`)
      return 1
    }
    // Byte for byte what GET /v1/partitions/:partition/data answers (no trailing newline).
    const text = serializePartitionData(loaded.data)
    if (output === undefined) process.stdout.write(text)
    else await writeFile(output, text)
    return 0
  })
}

async function main (argv: string[]): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    fail(EXIT_USAGE, `${(err as Error).message}\n\n${help()}`)
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    process.stdout.write(help())
    return
  }
  if (values.version === true) {
    process.stdout.write(`${PACKAGE_VERSION}\n`)
    return
  }
  const [command, ...rest] = positionals
  if (command === undefined) fail(EXIT_USAGE, `no command given\n\n${help()}`)
  const fromDrouting = values['from-drouting']
  const expected = (command === 'import' && fromDrouting === undefined) || command === 'route' ? 1 : 0
  if (rest.length !== expected) fail(EXIT_USAGE, rest.length > expected ? `unexpected arguments: ${rest.slice(expected).join(' ')}` : `${command} needs ${command === 'route' ? 'a NUMBER' : 'a FILE'}`)
  const partition = values.partition ?? 'default'
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(partition)) fail(EXIT_USAGE, `--partition ${JSON.stringify(partition)}: expected 1 to 64 letters, digits, _ or -`)
  const droutingUsage = fromDrouting === undefined ? undefined : droutingUsageProblem(values)
  if (droutingUsage !== undefined) fail(EXIT_USAGE, droutingUsage)

  const env: Record<string, string | undefined> = { ...process.env }
  for (const [flag, name] of Object.entries(FLAG_ENV)) {
    const value = values[flag as keyof typeof values]
    if (typeof value === 'string') env[name] = value
  }
  if (values['no-demo'] === true) env.RTROUTE_DEMO = 'false'
  let config: Config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) fail(EXIT_CONFIG, `invalid configuration:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`)
    throw err
  }

  switch (command) {
    case 'serve':
      await serve(config, createLogger(config.logLevel))
      return
    case 'migrate':
      await withDatabase(config, 'migrate', async () => {})
      return
    case 'import':
      if (fromDrouting !== undefined) {
        const flags = { ...values, partition: values.partition, dryRun: values['dry-run'] === true, allowEmpty: values['allow-empty'] === true }
        process.exitCode = await withDatabase(config, 'import', async (repository) => await importFromDrouting(fromDrouting, flags, async (fn) => await fn(repository),
          config.importMaxDropPercent, { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) }))
        return
      }
      process.exitCode = await importFile(config, rest[0] ?? '-', partition, { dryRun: values['dry-run'] === true, allowEmpty: values['allow-empty'] === true })
      return
    case 'export':
      process.exitCode = await exportPartition(config, partition, values.output)
      return
    case 'route':
      process.exitCode = await routeCommand({
        url: values.url ?? `http://127.0.0.1:${config.port}`,
        token: config.adminTokens[0],
        partition,
        number: rest[0] ?? '',
        group: values.group,
        callId: values['call-id'],
        from: values.from,
        sourceIp: values['source-ip'],
        at: values.at,
        json: values.json === true
      })
      return
    default:
      fail(EXIT_USAGE, `unknown command ${JSON.stringify(command)}\n\n${help()}`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`rtroute: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
