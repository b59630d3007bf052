/**
 * A real OpenSIPS running the shipped deploy/opensips/opensips.cfg. The config is copied into the
 * instance's folder with the modules folder prepended (`mpath`, which a build from source needs)
 * and its SETTINGS lines set for this run (SIP socket, workers, rtroute's URL, partition, secret,
 * the MI port); every other line is the shipped one. OpenSIPS runs in the foreground (-F), on
 * 127.0.0.1 and free ports, logging to stderr.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../../src/embedded-postgres.js'
import { PACKAGE_ROOT } from '../../../src/paths.js'
import { startProcess, type Proc } from './processes.js'
import { freeUdpPort, sipOptions } from './udp.js'

export const OPENSIPS_CFG = path.join(PACKAGE_ROOT, 'deploy', 'opensips', 'opensips.cfg')

export interface OpenSipsOptions {
  readonly opensips: string
  /** The modules folder (the config's mpath). */
  readonly modules: string
  /** A folder for this instance's config copy and pid file. */
  readonly dir: string
  /** Base URL of rtroute, or several separated by spaces ($shv(rtroute_url)). */
  readonly rtrouteUrl: string
  readonly partition?: string
  /** X-Rtroute-Secret to send ($shv(rtroute_secret)). */
  readonly secret?: string
  /** SIP workers (udp_workers). */
  readonly workers?: number
  /** Resolve once OPTIONS get 200 (rtroute ready), the default; false: once they get any answer. */
  readonly waitReady?: boolean
  /** Shared memory in MB (-m; OpenSIPS's default is 32). */
  readonly shmMb?: number
}

export interface OpenSips {
  readonly port: number
  /** The management interface: JSON-RPC over HTTP (mi_http). */
  readonly miUrl: string
  readonly proc: Proc
  readonly config: string
  /** Calls an MI command; resolves with the JSON-RPC `result`, throws on an `error`. */
  mi: (method: string, params?: Record<string, unknown>) => Promise<unknown>
  output: () => string
  stop: () => Promise<void>
}

/** The lines of the shipped config's SETTINGS block that a run sets, each found exactly once. */
function settings (options: OpenSipsOptions, ports: { sip: number, mi: number }): Array<[RegExp, string]> {
  return [
    [/^udp_workers = .*$/m, `udp_workers = ${options.workers ?? 4}`],
    [/^socket = .*$/m, `socket = udp:127.0.0.1:${ports.sip}`],
    [/^modparam\("cfgutils", "shvset", "rtroute_url=s:.*"\)$/m, `modparam("cfgutils", "shvset", "rtroute_url=s:${options.rtrouteUrl}")`],
    [/^modparam\("cfgutils", "shvset", "rtroute_partition=s:.*"\)$/m, `modparam("cfgutils", "shvset", "rtroute_partition=s:${options.partition ?? ''}")`],
    [/^modparam\("cfgutils", "shvset", "rtroute_secret=s:.*"\)$/m, `modparam("cfgutils", "shvset", "rtroute_secret=s:${options.secret ?? ''}")`],
    [/^modparam\("httpd", "port", .*\)$/m, `modparam("httpd", "port", ${ports.mi})`]
  ]
}

/** The shipped config with mpath first and this run's settings; throws if a settings line moved. */
export async function opensipsConfig (options: OpenSipsOptions, ports: { sip: number, mi: number }): Promise<string> {
  let text = await readFile(OPENSIPS_CFG, 'utf8')
  for (const [pattern, line] of settings(options, ports)) {
    const found = text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0
    if (found !== 1) throw new Error(`${OPENSIPS_CFG}: expected one line matching ${pattern}, found ${found}`)
    text = text.replace(pattern, line)
  }
  return `mpath = "${options.modules}/"\n${text}`
}

async function writeConfig (options: OpenSipsOptions, ports: { sip: number, mi: number }): Promise<string> {
  await mkdir(options.dir, { recursive: true })
  const file = path.join(options.dir, 'opensips.cfg')
  await writeFile(file, await opensipsConfig(options, ports))
  return file
}

/** `opensips -C -f`: the config check, with the exit code and what it printed. */
export async function checkOpenSipsConfig (options: OpenSipsOptions): Promise<{ code: number, output: string }> {
  const file = await writeConfig(options, { sip: await freeUdpPort(), mi: await freePort() })
  try {
    const { stdout, stderr } = await promisify(execFile)(options.opensips, ['-C', '-f', file], { cwd: options.dir })
    return { code: 0, output: `${stdout}${stderr}` }
  } catch (err) {
    const e = err as { code?: number, stdout?: string, stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

/** The command line the tests use; also what the load run prints. */
export function opensipsArgs (config: string, dir: string, shmMb?: number): string[] {
  return ['-F', '-f', config, '-w', dir, '-P', path.join(dir, 'opensips.pid'), ...(shmMb === undefined ? [] : ['-m', String(shmMb)])]
}

async function callMi (url: string, method: string, params?: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) })
  })
  const body = await res.json() as { result?: unknown, error?: { code: number, message: string } }
  if (body.error !== undefined) throw new Error(`MI ${method}: ${body.error.code} ${body.error.message}`)
  return body.result
}

/** Starts OpenSIPS and resolves once it answers OPTIONS (with 200 unless `waitReady` is false). */
export async function startOpenSips (options: OpenSipsOptions): Promise<OpenSips> {
  const ports = { sip: await freeUdpPort(), mi: await freePort() }
  const config = await writeConfig(options, ports)
  const proc = startProcess('opensips', options.opensips, opensipsArgs(config, options.dir, options.shmMb), { cwd: options.dir })
  const waitReady = options.waitReady ?? true
  const deadline = Date.now() + 15_000
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      await proc.stop()
      throw new Error(`opensips exited before answering OPTIONS:\n${proc.output().slice(-6000)}`)
    }
    const code = await sipOptions(ports.sip, 300)
    if (code === 200 || (code !== undefined && !waitReady)) break
    if (Date.now() > deadline) {
      await proc.stop()
      throw new Error(`opensips did not answer OPTIONS${waitReady ? ' with 200' : ''} on 127.0.0.1:${ports.sip} within 15 s ` +
        `(last answer: ${String(code)}):\n${proc.output().slice(-6000)}`)
    }
    if (code !== undefined) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const miUrl = `http://127.0.0.1:${ports.mi}/mi`
  return {
    port: ports.sip,
    miUrl,
    proc,
    config,
    mi: async (method, params) => await callMi(miUrl, method, params),
    output: proc.output,
    stop: async () => { await proc.stop() }
  }
}
