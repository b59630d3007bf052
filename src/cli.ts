#!/usr/bin/env node
/** The `rtroute` command: serve, migrate and (later) data tools. Flags override environment variables. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { CONFIG_VARS, ConfigError, loadConfig, redactUrl, type Config } from './config.js'
import { createDb } from './db.js'
import { createLogger } from './logger.js'
import { migrateToLatest } from './migrate.js'
import { PACKAGE_ROOT } from './paths.js'
import { resolveDatabase, serve } from './server.js'

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
  'no-demo': { type: 'boolean' }
} as const satisfies ParseArgsConfig['options']

/** Each flag stands for one environment variable, so config is parsed and checked in one place. */
const FLAG_ENV: Record<string, string> = {
  port: 'PORT',
  host: 'HOST',
  'database-url': 'DATABASE_URL',
  'data-dir': 'RTROUTE_DATA_DIR',
  'log-level': 'LOG_LEVEL'
}

function help (): string {
  const vars = CONFIG_VARS.map((v) => `  ${v.name.padEnd(30)} ${v.meaning} (default ${v.default})`).join('\n')
  return `rtroute: SIP routing API for Kamailio (rtjson) and OpenSIPS

Usage: rtroute <command> [options]

Commands:
  serve      run the HTTP service (applies migrations at start; without DATABASE_URL,
             runs an embedded PostgreSQL in the data directory)
  migrate    apply pending database migrations and exit

Options:
  -p, --port N             HTTP port (PORT)
      --host ADDR          listen address (HOST)
      --database-url URL   PostgreSQL URL (DATABASE_URL)
      --data-dir DIR       data directory for the embedded PostgreSQL (RTROUTE_DATA_DIR)
      --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (LOG_LEVEL)
      --no-demo            do not seed the demo partition (RTROUTE_DEMO=false)
  -h, --help               this help
      --version            print the version

Environment:
${vars}

Exit codes: 0 ok, 1 failure, ${EXIT_USAGE} bad usage, ${EXIT_CONFIG} bad configuration.
`
}

function version (): string {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

function fail (code: number, message: string): never {
  process.stderr.write(`rtroute: ${message}\n`)
  process.exit(code)
}

async function migrate (config: Config): Promise<void> {
  const log = createLogger(config.logLevel)
  const target = await resolveDatabase(config, log)
  const db = createDb({ url: target.url, poolMax: 1, onPoolError: () => {} })
  try {
    const results = await migrateToLatest(db.kysely)
    if (results.length === 0) log.info(`database ${redactUrl(target.url)} is up to date`)
    for (const result of results) log.info(`migration ${result.migrationName}: ${result.status}`)
  } finally {
    await db.close()
    await target.embedded?.stop()
  }
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
    process.stdout.write(`${version()}\n`)
    return
  }
  const [command, ...rest] = positionals
  if (command === undefined) fail(EXIT_USAGE, `no command given\n\n${help()}`)
  if (rest.length > 0) fail(EXIT_USAGE, `unexpected arguments: ${rest.join(' ')}`)

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
      await migrate(config)
      return
    default:
      fail(EXIT_USAGE, `unknown command ${JSON.stringify(command)}\n\n${help()}`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`rtroute: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
