/**
 * The end-to-end stack one describe block runs against: a fresh database, the built rtroute, a
 * recorder in front of it (what Kamailio asked and what it was answered), and Kamailio with the
 * shipped config; SIPp gateways started per test and stopped after it.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, onTestFailed } from 'vitest'
import { CLI } from '../../helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../../helpers/pg.js'
import { startKamailio, type HttpModule, type Kamailio, type KamailioOptions } from './kamailio.js'
import { startRecorder, startRtroute, type Recorder, type Rtroute } from './rtroute.js'
import { placeCalls, startGateway, type CallOptions, type CallResult, type Gateway, type GatewayBehaviour } from './sipp.js'
import { findAsyncHttpModule, findTools, skipMessage } from './tools.js'

const tools = findTools()
if (tools.missing.length > 0) console.warn(skipMessage(tools.missing))
const asyncModule = findAsyncHttpModule()

/** Whether the stack can run here, and the HTTP module variants to run it with. */
export const e2e = {
  missing: tools.missing,
  kamailio: tools.kamailio ?? 'kamailio',
  sipp: tools.sipp ?? 'sipp',
  asyncModule,
  variants: (asyncModule.available ? ['http_client', 'http_async_client'] : ['http_client']) as HttpModule[]
}

interface Stoppable { stop: () => Promise<void> }

/** Registers the hooks of one describe block; the parts are there from its beforeAll on. */
export function useKamailioStack (variant: HttpModule, options: { tmpPrefix: string, partition: string }) {
  let work = ''
  let db: TestDatabase | undefined
  let rtroute: Rtroute | undefined
  let recorder: Recorder | undefined
  let kamailio: Kamailio | undefined
  let gateways: Gateway[] = []
  const extra: Stoppable[] = []
  const started = <T>(part: T | undefined, name: string): T => {
    if (part === undefined) throw new Error(`${name} is not started (use it inside a test)`)
    return part
  }
  const proxyOptions = { kamailio: e2e.kamailio, http: variant, modulePath: asyncModule.modulePath }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`)
    work = await mkdtemp(path.join(os.tmpdir(), options.tmpPrefix))
    db = await createTestDatabase()
    rtroute = await startRtroute({ DATABASE_URL: db.url })
    recorder = await startRecorder(rtroute.url)
    kamailio = await startKamailio({ ...proxyOptions, dir: path.join(work, 'kamailio'), rtrouteUrl: recorder.url, partition: options.partition })
  })

  afterEach(async () => {
    await Promise.all(gateways.map(async (gw) => { await gw.stop() }))
    gateways = []
    await Promise.all(extra.splice(0).map(async (p) => { await p.stop() }))
  })

  afterAll(async () => {
    await kamailio?.stop()
    await recorder?.close()
    await rtroute?.stop()
    await db?.drop()
    if (work !== '') await rm(work, { recursive: true, force: true })
  })

  return {
    get work (): string { return work },
    get rtroute (): Rtroute { return started(rtroute, 'rtroute') },
    get recorder (): Recorder { return started(recorder, 'the recorder') },
    get kamailio (): Kamailio { return started(kamailio, 'Kamailio') },

    /** A SIPp gateway for this test. */
    async gateway (name: string, behaviour: GatewayBehaviour): Promise<Gateway> {
      const gw = await startGateway(e2e.sipp, work, name, behaviour)
      gateways.push(gw)
      return gw
    },

    /** SIPp calls to `number` through the stack's Kamailio. */
    call: async (number: string, callOptions: Partial<CallOptions> = {}): Promise<CallResult> =>
      await placeCalls({ sipp: e2e.sipp, dir: work, proxyPort: started(kamailio, 'Kamailio').port, number, ...callOptions }),

    /** Another Kamailio with the shipped config (in `dir` under the work folder), stopped after the test. */
    async extraKamailio (dir: string, more: Pick<KamailioOptions, 'rtrouteUrl'> & Partial<KamailioOptions>): Promise<Kamailio> {
      const proxy = await startKamailio({ ...proxyOptions, dir: path.join(work, dir), ...more })
      extra.push(proxy)
      return proxy
    },

    /** Anything else the test started, stopped after it. */
    track (part: Stoppable): void { extra.push(part) },

    /** On failure, prints the tail of Kamailio's output and whatever `more` returns. */
    dumpOnFailure (more?: () => string): void {
      onTestFailed(() => {
        if (more !== undefined) console.log(more())
        console.log(`--- kamailio output (tail) ---\n${kamailio?.output().slice(-6000) ?? ''}`)
      })
    }
  }
}
