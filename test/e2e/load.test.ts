/**
 * Load run (opt-in: scripts/e2e-load.sh, or RTROUTE_E2E_LOAD=1): SIPp places calls at a fixed rate
 * through Kamailio (the shipped config, http_client variant) routed by rtroute to a SIPp gateway,
 * set up as the end-to-end tests are, and every call must complete. Prints SIPp's summary.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI } from '../helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { kamailioArgs, startKamailio, type Kamailio } from './helpers/kamailio.js'
import { startRtroute, type Rtroute } from './helpers/rtroute.js'
import { describeCall, placeCalls, startGateway, type Gateway } from './helpers/sipp.js'
import { findTools, skipMessage } from './helpers/tools.js'

const tools = findTools()
const enabled = process.env.RTROUTE_E2E_LOAD === '1'
const RATE = Number(process.env.RTROUTE_E2E_LOAD_RATE ?? 100)
const SECONDS = Number(process.env.RTROUTE_E2E_LOAD_SECONDS ?? 30)
const HOLD_MS = Number(process.env.RTROUTE_E2E_LOAD_HOLD_MS ?? 1000)
// Each SIP worker is held for one synchronous query (about a millisecond here); 16 leaves room
// for bursts and a slow query at 100+ calls/s. Size it as calls/s x worst query latency, and more.
const CHILDREN = Number(process.env.RTROUTE_E2E_LOAD_CHILDREN ?? 16)

if (!enabled) console.log('[e2e] load run skipped: run scripts/e2e-load.sh (or set RTROUTE_E2E_LOAD=1)')
else if (tools.missing.length > 0) console.warn(skipMessage(tools.missing))

describe.skipIf(!enabled || tools.missing.length > 0)('load through Kamailio and rtroute', () => {
  let work: string
  let db: TestDatabase
  let rtroute: Rtroute
  let gateway: Gateway
  let kamailio: Kamailio

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``)
    work = await mkdtemp(path.join(os.tmpdir(), 'rtroute-load-'))
    db = await createTestDatabase()
    rtroute = await startRtroute({ DATABASE_URL: db.url })
    gateway = await startGateway(tools.sipp ?? 'sipp', work, 'carrier', { kind: 'answer' })
    await rtroute.load('load', {
      gateways: [{ id: 'carrier', address: gateway.address, probe_mode: 'never' }],
      rules: [{ prefix: '44', targets: [{ gateway: 'carrier' }] }]
    })
    const options = { kamailio: tools.kamailio ?? 'kamailio', dir: path.join(work, 'kamailio'), rtrouteUrl: rtroute.url, partition: 'load', children: CHILDREN }
    kamailio = await startKamailio(options)
    console.log(`[load] kamailio ${kamailioArgs(options, kamailio.port).join(' ')}`)
  })

  afterAll(async () => {
    await kamailio?.stop()
    await gateway?.stop()
    await rtroute?.stop()
    await db?.drop()
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  it(`${RATE} calls/s for ${SECONDS} s complete without a failed call`, async () => {
    const calls = RATE * SECONDS
    const started = Date.now()
    const result = await placeCalls({
      sipp: tools.sipp ?? 'sipp',
      dir: work,
      proxyPort: kamailio.port,
      number: '442071838750',
      calls,
      rate: RATE,
      limit: RATE * 10,
      holdMs: HOLD_MS,
      timeoutS: SECONDS + 60,
      trace: false
    })
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const { stats } = result
    console.log(`[load] ${calls} calls at ${RATE}/s (hold ${HOLD_MS} ms, ${CHILDREN} Kamailio workers) in ${seconds} s; ` +
      `SIPp exit code ${String(result.exitCode)}; successful ${stats['SuccessfulCall(C)']}, failed ${stats['FailedCall(C)']}, ` +
      `retransmissions ${stats['Retransmissions(C)']}; INVITE to 200 (includes the gateway's 100 ms ring) ` +
      `mean ${stats['ResponseTime1(C)']}, stdev ${stats['ResponseTime1StDev(C)']}\n${result.summary}`)
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.summary).toMatch(new RegExp(`Successful call\\s+\\|\\s+\\d+\\s+\\|\\s+${calls}\\s`))
    expect(result.summary).toMatch(/Failed call\s+\|\s+\d+\s+\|\s+0\s/)
  }, (SECONDS + 120) * 1000)
})
