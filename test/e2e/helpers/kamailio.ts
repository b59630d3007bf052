/**
 * A real Kamailio running the shipped deploy/kamailio/kamailio.cfg (the http_client define, or the
 * default http_async_client variant when that module is at hand), in the foreground (-DD -E), on
 * 127.0.0.1 and a free port, with its runtime dir, pid file and ctl socket in a folder of its own.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { PACKAGE_ROOT } from '../../../src/paths.js'
import { startProcess, type Proc } from './processes.js'
import { ASYNC_MODULE_SCRIPT, KAMAILIO_INSTALL_HINT } from './tools.js'
import { freeUdpPort, sipOptions } from './udp.js'

export const KAMAILIO_CFG = path.join(PACKAGE_ROOT, 'deploy', 'kamailio', 'kamailio.cfg')

export interface KamailioOptions {
  readonly kamailio: string
  /** A folder for this instance's runtime files. */
  readonly dir: string
  /** Base URL of rtroute, or several separated by spaces (RTROUTE_URL). */
  readonly rtrouteUrl: string
  readonly partition?: string
  /** X-Rtroute-Secret to send on every request to rtroute (RTROUTE_SECRET). */
  readonly secret?: string
  /** SIP workers (CHILDREN); with http_client each holds one call during its query. */
  readonly children?: number
  /** The config's HTTP module: http_client (-A WITH_HTTP_CLIENT, the default here) or http_async_client. */
  readonly http?: HttpModule
  /** Kamailio's module search path (-L), when a module lives outside the default folder. */
  readonly modulePath?: string
  /** Shared memory in MB (-m; Kamailio's default is 64), for load runs. */
  readonly shmMb?: number
  /** More pre-processor defines (-A), e.g. WITH_UAC. */
  readonly defines?: readonly string[]
}

export type HttpModule = 'http_client' | 'http_async_client'

export interface Kamailio {
  readonly port: number
  readonly proc: Proc
  output: () => string
  stop: () => Promise<void>
}

/** The command line the tests use; also what scripts/e2e-load.sh prints. */
export function kamailioArgs (options: KamailioOptions, port: number): string[] {
  const args = [
    '-f', KAMAILIO_CFG, '-DD', '-E',
    '-Y', options.dir, '-P', path.join(options.dir, 'kamailio.pid'),
    '-A', `RTROUTE_URL="${options.rtrouteUrl}"`,
    '-A', `SIP_LISTEN=udp:127.0.0.1:${port}`,
    '-A', `CTL_SOCKET="unix:${path.join(options.dir, 'kamailio_ctl')}"`,
    '-A', `CHILDREN=${options.children ?? 4}`
  ]
  if ((options.http ?? 'http_client') === 'http_client') args.push('-A', 'WITH_HTTP_CLIENT')
  if (options.partition !== undefined) args.push('-A', `RTROUTE_PARTITION="${options.partition}"`)
  if (options.secret !== undefined) args.push('-A', `RTROUTE_SECRET="${options.secret}"`)
  if (options.modulePath !== undefined) args.push('-L', options.modulePath)
  if (options.shmMb !== undefined) args.push('-m', String(options.shmMb))
  for (const define of options.defines ?? []) args.push('-A', define)
  return args
}

/** Starts Kamailio and resolves once it answers an OPTIONS with 200. */
export async function startKamailio (options: KamailioOptions): Promise<Kamailio> {
  await mkdir(options.dir, { recursive: true })
  const port = await freeUdpPort()
  const proc = startProcess('kamailio', options.kamailio, kamailioArgs(options, port), { cwd: options.dir })
  const deadline = Date.now() + 15_000
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      await proc.stop()
      const output = proc.output()
      const hint = /could not find module <http_async_client>/.test(output)
        ? `\nhttp_async_client is missing (Debian does not package it): build it with ${ASYNC_MODULE_SCRIPT}, or set RTROUTE_E2E_KAMAILIO_MODULES`
        : /could not find module|load_module/.test(output) ? `\nA module is missing: ${KAMAILIO_INSTALL_HINT}` : ''
      throw new Error(`kamailio exited before answering OPTIONS:${hint}\n${output.slice(-6000)}`)
    }
    if (await sipOptions(port, 300) === 200) break
    if (Date.now() > deadline) {
      await proc.stop()
      throw new Error(`kamailio did not answer OPTIONS on 127.0.0.1:${port} within 15 s:\n${proc.output().slice(-6000)}`)
    }
  }
  return { port, proc, output: proc.output, stop: async () => { await proc.stop() } }
}
