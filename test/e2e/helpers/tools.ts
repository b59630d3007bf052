/**
 * Finds the kamailio, sipp and opensips binaries, and says how to install them when they are
 * missing; finds the http_async_client module that Debian does not package
 * (scripts/kamailio-async-module.sh).
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { PACKAGE_ROOT } from '../../../src/paths.js'

/** The Debian packages behind each binary (Debian 12: Kamailio 5.6, SIPp 3.6). */
export const PACKAGES = {
  kamailio: ['kamailio', 'kamailio-extra-modules', 'kamailio-utils-modules'],
  sipp: ['sip-tester']
} as const

export type Tool = keyof typeof PACKAGES

// kamailio lives in /usr/sbin, which is not on every user's PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin']

export function findBinary (name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''), ...EXTRA_DIRS]
  for (const dir of dirs) {
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

export interface Tools {
  readonly kamailio: string | undefined
  readonly sipp: string | undefined
  readonly missing: Tool[]
}

export function findTools (): Tools {
  const kamailio = findBinary('kamailio')
  const sipp = findBinary('sipp')
  const missing: Tool[] = []
  if (kamailio === undefined) missing.push('kamailio')
  if (sipp === undefined) missing.push('sipp')
  return { kamailio, sipp, missing }
}

/** One line for the test log: which binary is missing and the command that installs it. */
export function skipMessage (missing: Tool[]): string {
  const packages = missing.flatMap((tool) => PACKAGES[tool]).join(' ')
  return `[e2e] skipped: ${missing.join(' and ')} not found (looked in PATH and ${EXTRA_DIRS.join(', ')}). ` +
    `Install with: apt-get update && apt-get install -y --no-install-recommends ${packages}`
}

/** The same packages, for an error that means a module package is missing although kamailio is there. */
export const KAMAILIO_INSTALL_HINT = `apt-get install -y --no-install-recommends ${PACKAGES.kamailio.join(' ')}`

/** Where Kamailio's modules are: Debian's multiarch folder, or the usual other places. */
function kamailioModuleDir (): string | undefined {
  const multiarch = existsSync('/usr/lib') ? readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/kamailio/modules`) : []
  const candidates = [...multiarch, '/usr/lib64/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/local/lib64/kamailio/modules', '/usr/local/lib/kamailio/modules']
  return candidates.find((dir) => existsSync(path.join(dir, 'tm.so')))
}

export interface AsyncHttpModule {
  readonly available: boolean
  /** Kamailio's -L value when the module lives outside the default folder. */
  readonly modulePath?: string
  readonly message: string
}

/** What provides the module: the script, and the folder it keeps it in (KAMAILIO_ASYNC_MODULE_ROOT/<kamailio package version>). */
export const ASYNC_MODULE_SCRIPT = 'scripts/kamailio-async-module.sh'
const ASYNC_MODULE_ROOT = process.env.KAMAILIO_ASYNC_MODULE_ROOT ?? '/usr/local/lib/kamailio-async'

/** The installed kamailio package's version (5.6.3-2), which keys the script's folder. */
function kamailioPackageVersion (): string | undefined {
  try {
    // eslint-disable-next-line no-template-curly-in-string -- dpkg-query's own format, not a template
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'kamailio'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return version === '' ? undefined : version
  } catch {
    return undefined
  }
}

/** Under CI the default variant must run: a missing module fails the run instead of dropping the variant. */
export const ASYNC_MODULE_REQUIRED = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0'

/**
 * http_async_client, for testing the config's default variant: in RTROUTE_E2E_KAMAILIO_MODULES (a
 * folder holding a http_async_client.so built for this Kamailio), in the folder
 * scripts/kamailio-async-module.sh builds it into, or in Kamailio's module folder.
 */
export function findAsyncHttpModule (): AsyncHttpModule {
  const dir = kamailioModuleDir()
  const both = (extra: string): string => dir === undefined ? extra : `${dir}:${extra}`
  const extra = process.env.RTROUTE_E2E_KAMAILIO_MODULES
  if (extra !== undefined && extra !== '' && existsSync(path.join(extra, 'http_async_client.so'))) {
    return { available: true, modulePath: both(extra), message: `[e2e] http_async_client from ${extra}: both variants run` }
  }
  const version = kamailioPackageVersion()
  const built = version === undefined ? undefined : path.join(ASYNC_MODULE_ROOT, version)
  if (built !== undefined && existsSync(path.join(built, 'http_async_client.so'))) {
    return { available: true, modulePath: both(built), message: `[e2e] http_async_client from ${built} (${ASYNC_MODULE_SCRIPT}): both variants run` }
  }
  if (dir !== undefined && existsSync(path.join(dir, 'http_async_client.so'))) return { available: true, message: '[e2e] http_async_client installed: both variants run' }
  const provide = `build it with ${ASYNC_MODULE_SCRIPT} (from Debian's kamailio source), or set RTROUTE_E2E_KAMAILIO_MODULES to a folder holding http_async_client.so`
  return {
    available: false,
    message: ASYNC_MODULE_REQUIRED
      ? `[e2e] http_async_client not found (Debian does not package it) and CI is set: the http_async_client variant runs and fails; ${provide}`
      : `[e2e] http_async_client not found (Debian does not package it): only the http_client variant runs; ${provide} to run the default variant too`
  }
}

/** Where tools/opensips/install.sh puts OpenSIPS by default (Debian does not package it). */
export const OPENSIPS_PREFIX = '/opt/opensips-3.6.8'
/** The install script, from a clone with the shared tools beside it (as CI has it). */
export const OPENSIPS_INSTALL = path.join(path.dirname(PACKAGE_ROOT), 'shared', 'tools', 'opensips', 'install.sh')

export interface OpenSipsTool {
  /** The opensips binary, or undefined when missing. */
  readonly bin: string | undefined
  /** Its modules folder, for the config's mpath (the binary has no built-in module path). */
  readonly modules: string | undefined
  /** Why it is missing, and the command that installs it. */
  readonly message: string
}

function executable (file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * OpenSIPS: OPENSIPS_BIN, else the install script's default prefix. Its modules are in
 * OPENSIPS_MODULES, else `<prefix>/lib64/opensips/modules` (or `lib/`) beside `<prefix>/sbin`.
 */
export function findOpenSips (env: NodeJS.ProcessEnv = process.env): OpenSipsTool {
  const given = env.OPENSIPS_BIN !== undefined && env.OPENSIPS_BIN !== ''
  const bin = given ? path.resolve(env.OPENSIPS_BIN ?? '') : path.join(OPENSIPS_PREFIX, 'sbin', 'opensips')
  const install = `bash ${path.relative(process.cwd(), OPENSIPS_INSTALL)} (builds OpenSIPS 3.6.8 into ${OPENSIPS_PREFIX}, about 6 minutes), then set OPENSIPS_BIN if it went elsewhere`
  if (!executable(bin)) {
    return { bin: undefined, modules: undefined, message: `OpenSIPS not found at ${bin}${given ? ' (OPENSIPS_BIN)' : ''}. Install with: ${install}` }
  }
  const prefix = path.dirname(path.dirname(bin))
  const candidates = env.OPENSIPS_MODULES !== undefined && env.OPENSIPS_MODULES !== ''
    ? [env.OPENSIPS_MODULES]
    : [path.join(prefix, 'lib64', 'opensips', 'modules'), path.join(prefix, 'lib', 'opensips', 'modules')]
  const modules = candidates.find((dir) => existsSync(path.join(dir, 'tm.so')))
  if (modules === undefined) {
    return { bin: undefined, modules: undefined, message: `OpenSIPS modules not found in ${candidates.join(' or ')} (set OPENSIPS_MODULES). Install with: ${install}` }
  }
  return { bin, modules, message: `[e2e] OpenSIPS ${bin}, modules ${modules}` }
}

/**
 * The config's variants to run, the default (http_async_client) first. Without the module it is
 * left out, except under CI, where it stays and fails on Kamailio's "could not find module".
 */
export function httpVariants (asyncModule: AsyncHttpModule): Array<'http_async_client' | 'http_client'> {
  return asyncModule.available || ASYNC_MODULE_REQUIRED ? ['http_async_client', 'http_client'] : ['http_client']
}
