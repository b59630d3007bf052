/**
 * The end-to-end stack one describe block runs against: a fresh database, the built rtroute, a
 * recorder in front of it (what the proxy asked and what it was answered), and a SIP proxy
 * (Kamailio or OpenSIPS) running its shipped config; SIPp gateways started per test and stopped
 * after it.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, onTestFailed } from 'vitest'
import { CLI } from '../../helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../../helpers/pg.js'
import { startKamailio, type HttpModule, type Kamailio } from './kamailio.js'
import { startOpenSips, type OpenSips } from './opensips.js'
import { startRecorder, startRtroute, type Recorder, type Rtroute } from './rtroute.js'
import { placeCalls, startGateway, type CallOptions, type CallResult, type Gateway, type GatewayBehaviour } from './sipp.js'
import { findAsyncHttpModule, findOpenSips, findTools, httpVariants, skipMessage } from './tools.js'

const tools = findTools()
if (tools.missing.length > 0) console.warn(skipMessage(tools.missing))
const asyncModule = findAsyncHttpModule()
const opensips = findOpenSips()

/** Whether the stacks can run here, and the Kamailio HTTP module variants to run them with. */
export const e2e = {
  missing: tools.missing,
  kamailio: tools.kamailio ?? 'kamailio',
  sipp: tools.sipp ?? 'sipp',
  asyncModule,
  variants: httpVariants(asyncModule) as HttpModule[],
  opensips
}

/** What every proxy of a stack is started with; each proxy kind adds its own settings. */
export interface ProxyOptions {
  /** A folder for this instance's runtime files. */
  readonly dir: string
  /** Base URL of rtroute, or several separated by spaces (the shipped configs take a list). */
  readonly rtrouteUrl: string
  readonly partition?: string
  /** X-Rtroute-Secret to send (RTROUTE_SECRET in Kamailio's config, $shv(rtroute_secret) in OpenSIPS's). */
  readonly secret?: string
  /** OpenSIPS: resolve once it answers OPTIONS at all, not only with 200 (rtroute ready). */
  readonly waitReady?: boolean
  /** SIP worker processes (Kamailio's CHILDREN, OpenSIPS's udp_workers); the helpers' default otherwise. */
  readonly workers?: number
  /** Shared memory in MB (-m, for load runs); the proxy's own default otherwise. */
  readonly shmMb?: number
}

/** A running SIP proxy, as the scenarios see it. */
export interface Proxy {
  readonly port: number
  output: () => string
  stop: () => Promise<void>
}

export type StartProxy<P extends Proxy> = (options: ProxyOptions) => Promise<P>

/** Kamailio with the shipped config and one HTTP module variant. */
export const kamailioProxy = (variant: HttpModule): StartProxy<Kamailio> => async ({ workers, ...options }) =>
  await startKamailio({ kamailio: e2e.kamailio, http: variant, modulePath: asyncModule.modulePath, children: workers, ...options })

/** OpenSIPS with the shipped config (needs e2e.opensips.bin). */
export const opensipsProxy: StartProxy<OpenSips> = async (options) =>
  await startOpenSips({ opensips: opensips.bin ?? 'opensips', modules: opensips.modules ?? '', ...options })

interface Stoppable { stop: () => Promise<void> }

/**
 * The stack's rtroute requires this RTROUTE_PROXY_SECRET and its proxies send it, as the README
 * suggests for production; a proxy started with `secret: undefined` sends none.
 */
export const STACK_SECRET = 'e2e-stack-proxy-secret-0123456789'

export interface StackOptions {
  readonly name: string
  readonly tmpPrefix: string
  readonly partition: string
}

/** Registers the hooks of one describe block; the parts are there from its beforeAll on. */
export function useProxyStack<P extends Proxy> (startProxy: StartProxy<P>, options: StackOptions) {
  let work = ''
  let db: TestDatabase | undefined
  let rtroute: Rtroute | undefined
  let recorder: Recorder | undefined
  let proxy: P | undefined
  let gateways: Gateway[] = []
  const extra: Stoppable[] = []
  const started = <T>(part: T | undefined, name: string): T => {
    if (part === undefined) throw new Error(`${name} is not started (use it inside a test)`)
    return part
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`)
    work = await mkdtemp(path.join(os.tmpdir(), options.tmpPrefix))
    db = await createTestDatabase()
    // The suite's partition is rtroute's default, so /readyz waits for it (and the proxy's own
    // readiness, in OpenSIPS, for that): it starts empty, each test loads its own data into it.
    rtroute = await startRtroute({ DATABASE_URL: db.url, RTROUTE_PARTITION: options.partition, RTROUTE_PROXY_SECRET: STACK_SECRET })
    await rtroute.load(options.partition, { partition: {}, gateways: [], carriers: [], rules: [], caller_groups: [] })
    recorder = await startRecorder(rtroute.url)
    proxy = await startProxy({ dir: path.join(work, 'proxy'), rtrouteUrl: recorder.url, partition: options.partition, secret: STACK_SECRET })
  })

  afterEach(async () => {
    await Promise.all(gateways.map(async (gw) => { await gw.stop() }))
    gateways = []
    await Promise.all(extra.splice(0).map(async (p) => { await p.stop() }))
  })

  afterAll(async () => {
    await proxy?.stop()
    await recorder?.close()
    await rtroute?.stop()
    await db?.drop()
    if (work !== '') await rm(work, { recursive: true, force: true })
  })

  return {
    name: options.name,
    partition: options.partition,
    get work (): string { return work },
    get db (): TestDatabase { return started(db, 'the database') },
    get rtroute (): Rtroute { return started(rtroute, 'rtroute') },
    get recorder (): Recorder { return started(recorder, 'the recorder') },
    get proxy (): P { return started(proxy, options.name) },

    /** A SIPp gateway for this test. */
    async gateway (name: string, behaviour: GatewayBehaviour): Promise<Gateway> {
      const gw = await startGateway(e2e.sipp, work, name, behaviour)
      gateways.push(gw)
      return gw
    },

    /** SIPp calls to `number` through the stack's proxy, or through `via`. */
    call: async (number: string, callOptions: Partial<CallOptions> = {}, via?: Proxy): Promise<CallResult> =>
      await placeCalls({ sipp: e2e.sipp, dir: work, proxyPort: (via ?? started(proxy, options.name)).port, number, ...callOptions }),

    /**
     * Another proxy of the stack's kind with its shipped config (in `dir` under the work folder),
     * stopped after the test; it sends STACK_SECRET unless `more` sets `secret` (undefined: none).
     */
    async extraProxy (dir: string, more: Omit<ProxyOptions, 'dir'>): Promise<P> {
      const another = await startProxy({ dir: path.join(work, dir), secret: STACK_SECRET, ...more })
      extra.push(another)
      return another
    },

    /** Anything else the test started, stopped after it. */
    track (part: Stoppable): void { extra.push(part) },

    /** On failure, prints the tail of the proxy's output and whatever `more` returns. */
    dumpOnFailure (more?: () => string): void {
      onTestFailed(() => {
        if (more !== undefined) console.log(more())
        console.log(`--- ${options.name} output (tail) ---\n${proxy?.output().slice(-6000) ?? ''}`)
      })
    }
  }
}

export type ProxyStack<P extends Proxy = Proxy> = ReturnType<typeof useProxyStack<P>>
