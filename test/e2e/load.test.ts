/**
 * Load run (opt-in: scripts/e2e-load.sh, or RTROUTE_E2E_LOAD=1): SIPp places calls at a fixed rate
 * through Kamailio (the shipped config; RTROUTE_E2E_LOAD_HTTP picks the variant, default the
 * config's own http_async_client) routed by rtroute, set up as the end-to-end tests are, and every
 * call must complete. Each call is one query and, by default, one failover: the first gateway
 * answers 503 (reported as feedback), the second answers. Prints SIPp's summary.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { CLI } from '../helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { kamailioArgs, startKamailio, type HttpModule, type Kamailio } from './helpers/kamailio.js'
import { startRtroute, type Rtroute } from './helpers/rtroute.js'
import { describeCall, placeCalls, startGateway, type Gateway } from './helpers/sipp.js'
import { findAsyncHttpModule, findTools, skipMessage } from './helpers/tools.js'

const tools = findTools()
const enabled = process.env.RTROUTE_E2E_LOAD === '1'
const RATE = Number(process.env.RTROUTE_E2E_LOAD_RATE ?? 100)
const SECONDS = Number(process.env.RTROUTE_E2E_LOAD_SECONDS ?? 30)
const HOLD_MS = Number(process.env.RTROUTE_E2E_LOAD_HOLD_MS ?? 1000)
// With http_client each SIP worker is held for one synchronous query (about a millisecond here);
// 16 leaves room for bursts and a slow query at 100+ calls/s. Size it as calls/s x worst query
// latency, and more. With http_async_client no worker waits for rtroute.
const CHILDREN = Number(process.env.RTROUTE_E2E_LOAD_CHILDREN ?? 16)
// Kamailio's shared memory (-m, MB). Its default, 64, ran out at 1000 calls/s here with
// http_async_client: every query in flight holds curl's buffers in shared memory.
const SHM_MB = Number(process.env.RTROUTE_E2E_LOAD_SHM_MB ?? 512)
const HTTP = (process.env.RTROUTE_E2E_LOAD_HTTP ?? 'http_async_client') as HttpModule
// Calls placed first, at up to 100/s and not counted: rtroute's first requests run cold (JIT), and
// at hundreds of calls/s that first second backs queries up into hundreds of new connections.
const WARMUP_S = Number(process.env.RTROUTE_E2E_LOAD_WARMUP_S ?? 5)
// 1: every call is first offered to a gateway that answers 503, then fails over; 0: one gateway.
const FAILOVER = (process.env.RTROUTE_E2E_LOAD_FAILOVER ?? '1') !== '0'

if (!enabled) console.log('[e2e] load run skipped: run scripts/e2e-load.sh (or set RTROUTE_E2E_LOAD=1)')
else if (tools.missing.length > 0) console.warn(skipMessage(tools.missing))

describe.skipIf(!enabled || tools.missing.length > 0)('load through Kamailio and rtroute', () => {
  let work: string
  let db: TestDatabase
  let rtroute: Rtroute
  let gateway: Gateway
  let busy: Gateway | undefined
  let kamailio: Kamailio

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``)
    if (HTTP !== 'http_client' && HTTP !== 'http_async_client') throw new Error(`RTROUTE_E2E_LOAD_HTTP=${String(HTTP)}: http_async_client or http_client`)
    const asyncModule = findAsyncHttpModule()
    if (HTTP === 'http_async_client' && !asyncModule.available) {
      throw new Error(`${asyncModule.message}\n(or run the blocking variant: RTROUTE_E2E_LOAD_HTTP=http_client)`)
    }
    work = await mkdtemp(path.join(os.tmpdir(), 'rtroute-load-'))
    db = await createTestDatabase()
    rtroute = await startRtroute({ DATABASE_URL: db.url })
    gateway = await startGateway(tools.sipp ?? 'sipp', work, 'carrier', { kind: 'answer' })
    if (FAILOVER) busy = await startGateway(tools.sipp ?? 'sipp', work, 'busy', { kind: 'reject', code: 503, reason: 'Service Unavailable' })
    await rtroute.load('load', {
      // The 503s are reported and accepted (202) but do not count against the gateway (only a
      // 699 would), so it stays up and every call fails over, not only the first few.
      ...(busy === undefined ? {} : { partition: { settings: { feedback_failure_codes: '699' } } }),
      gateways: [
        ...(busy === undefined ? [] : [{ id: 'busy', address: busy.address, probe_mode: 'never' }]),
        { id: 'carrier', address: gateway.address, probe_mode: 'never' }
      ],
      rules: [{ prefix: '44', targets: [...(busy === undefined ? [] : [{ gateway: 'busy' }]), { gateway: 'carrier' }], sort: 'ordered' }]
    })
    const options = {
      kamailio: tools.kamailio ?? 'kamailio',
      dir: path.join(work, 'kamailio'),
      rtrouteUrl: rtroute.url,
      partition: 'load',
      children: CHILDREN,
      shmMb: SHM_MB,
      http: HTTP,
      modulePath: HTTP === 'http_async_client' ? asyncModule.modulePath : undefined
    }
    kamailio = await startKamailio(options)
    console.log(`[load] kamailio ${kamailioArgs(options, kamailio.port).join(' ')}`)
  })

  afterAll(async () => {
    await kamailio?.stop()
    await gateway?.stop()
    await busy?.stop()
    await rtroute?.stop()
    await db?.drop()
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  it(`${RATE} calls/s for ${SECONDS} s (${HTTP}${FAILOVER ? ', each failing over once' : ''}) complete without a failed call`, async () => {
    onTestFailed(() => { console.log(`--- kamailio output (tail) ---\n${kamailio.output().slice(-8000)}`) })
    const call = { sipp: tools.sipp ?? 'sipp', dir: work, proxyPort: kamailio.port, number: '442071838750', holdMs: HOLD_MS, trace: false }
    if (WARMUP_S > 0) {
      const rate = Math.min(RATE, 100)
      const warm = await placeCalls({ ...call, calls: rate * WARMUP_S, rate, limit: rate * 10, timeoutS: WARMUP_S + 30 })
      console.log(`[load] warm-up (not counted): ${rate * WARMUP_S} calls at ${rate}/s, successful ${warm.stats['SuccessfulCall(C)']}, failed ${warm.stats['FailedCall(C)']}`)
      // Let the warm-up's calls and their events finish.
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
    const calls = RATE * SECONDS
    const started = Date.now()
    const result = await placeCalls({ ...call, calls, rate: RATE, limit: RATE * 10, timeoutS: SECONDS + 60 })
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const { stats } = result
    console.log(`[load] ${calls} calls at ${RATE}/s (${HTTP}, ${FAILOVER ? '503 then 200' : 'one gateway'}, hold ${HOLD_MS} ms, ${CHILDREN} Kamailio workers, ${SHM_MB} MB shm) in ${seconds} s; ` +
      `SIPp exit code ${String(result.exitCode)}; call rate ${stats['CallRate(C)']} cps, created ${stats['OutgoingCall(C)']}, ` +
      `successful ${stats['SuccessfulCall(C)']}, failed ${stats['FailedCall(C)']}, retransmissions ${stats['Retransmissions(C)']}; ` +
      `INVITE to 200 (includes the gateway's 100 ms ring) mean ${stats['ResponseTime1(C)']}, stdev ${stats['ResponseTime1StDev(C)']}\n${result.summary}`)
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.summary).toMatch(new RegExp(`Successful call\\s+\\|\\s+\\d+\\s+\\|\\s+${calls}\\s`))
    expect(result.summary).toMatch(/Failed call\s+\|\s+\d+\s+\|\s+0\s/)
  }, (WARMUP_S + SECONDS + 160) * 1000)
})
