/**
 * Failover between two rtroute instances, for every proxy's shipped config: both on the stack's
 * PostgreSQL, the proxy given both URLs. SIPp calls at a steady rate (back-to-back runs of
 * BATCH_S seconds, for as long as the restarts take on a busy machine) while one instance is
 * stopped (SIGTERM) and started again, then the other: no call may fail. The proxy sticks to the
 * instance that answered last, so the second stop is what sends calls to the restarted first one
 * (its routed answers prove it). kamailio.test.ts and opensips.test.ts run it; it logs its figures.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it } from 'vitest'
import { freePort } from '../../../src/embedded-postgres.js'
import { startRecorder, startRtroute, type Rtroute } from '../helpers/rtroute.js'
import { describeCall, type CallResult } from '../helpers/sipp.js'
import { STACK_SECRET, type ProxyStack } from '../helpers/stack.js'

const NUMBER = '442071838750'
const RATE = 20
/** Each SIPp run places RATE × BATCH_S calls; runs follow each other until the restarts are done. */
const BATCH_S = 2
/** How long an instance stays stopped before it is started again. */
const DOWN_MS = 2000

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Routed answers this instance (this process) gave, from its /metrics. */
async function routedAnswers (instance: Rtroute): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text()
  return text.split('\n')
    .filter((line) => line.startsWith('rtroute_routing_answers_total{') && line.includes('result="routed"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

export function failoverScenarios (s: ProxyStack): void {
  it(`fails over between two rtroute instances: calls at ${RATE}/s while one is stopped (SIGTERM) and restarted, then the other, and none fails`, async () => {
    const gw = await s.gateway('failover', { kind: 'answer' })
    await s.rtroute.load(s.partition, {
      gateways: [{ id: 'fo', address: gw.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'fo' }] }]
    })
    const env = { DATABASE_URL: s.db.url, RTROUTE_PARTITION: s.partition, RTROUTE_PROXY_SECRET: STACK_SECRET }
    const ports = [await freePort(), await freePort()] as const
    const instances: Rtroute[] = [await startRtroute(env, ports[0]), await startRtroute(env, ports[1])]
    s.track({ stop: async () => { await Promise.all(instances.map(async (i) => { await i.stop() })) } })
    const ready = async (instance: Rtroute): Promise<void> => {
      const query = { call_id: 'failover-probe', request_uri: `sip:${NUMBER}@rtroute.invalid`, partition: s.partition }
      await expect.poll(async () => (await instance.route(query)).body.rtjson.routes.map((r) => r.gateway), { timeout: 15_000, interval: 50 }).toEqual(['fo'])
    }
    for (const instance of instances) await ready(instance)
    const proxy = await s.extraProxy('proxy-failover', { rtrouteUrl: instances.map((i) => i.url).join(' '), partition: s.partition })
    s.dumpOnFailure(() => `--- failover proxy (tail) ---\n${proxy.output().slice(-6000)}\n` +
      instances.map((i, n) => `--- rtroute ${n} ---\n${i.cli.output().slice(-2000)}`).join('\n'))

    let calling = true
    const runs: CallResult[] = []
    const started = Date.now()
    const placed = (async () => {
      while (calling) runs.push(await s.call(NUMBER, { calls: RATE * BATCH_S, rate: RATE, trace: false, timeoutS: 60 }, proxy))
    })()
    // Stops instance n (SIGTERM, waiting for it to exit), starts it again on its port DOWN_MS
    // later and waits until it routes: how long its exit took, and from SIGTERM to routing again.
    const bounce = async (n: 0 | 1): Promise<{ exitMs: number, downMs: number }> => {
      const stopped = Date.now()
      await instances[n]?.stop()
      const exitMs = Date.now() - stopped
      await sleep(DOWN_MS)
      const again = await startRtroute(env, ports[n])
      instances[n] = again
      await ready(again)
      return { exitMs, downMs: Date.now() - stopped }
    }
    const figures = (b: { exitMs: number, downMs: number }): string => `down ${b.downMs} ms (SIGTERM to routing again; exit took ${b.exitMs} ms)`
    await sleep(2000)
    const before = await routedAnswers(instances[0] as Rtroute)
    const downFirst = await bounce(0)
    await sleep(1500)
    const downSecond = await bounce(1)
    await sleep(1000)
    calling = false
    await placed
    const seconds = ((Date.now() - started) / 1000).toFixed(1)

    const sum = (name: string): number => runs.reduce((total, run) => total + Number(run.stats[name]), 0)
    const ok = sum('SuccessfulCall(C)')
    const failed = sum('FailedCall(C)')
    const calls = RATE * BATCH_S * runs.length
    const restartedFirst = await routedAnswers(instances[0] as Rtroute)
    console.log(`[e2e] failover through ${s.name}: ${calls} calls at ${RATE}/s in ${runs.length} SIPp runs over ${seconds} s, ${ok} ok, ${failed} failed; ` +
      `instance 1 answered ${before} before its stop, was ${figures(downFirst)} and answered ` +
      `${restartedFirst} after its restart; instance 2 ${figures(downSecond)}`)
    for (const run of runs) expect(run.exitCode, describeCall(run)).toBe(0)
    expect([ok, failed]).toEqual([calls, 0])
    expect(before).toBeGreaterThan(0)
    // The restarted first instance took the calls while the second was down.
    expect(restartedFirst).toBeGreaterThan(0)
  })

  it('asks the next instance after a 5xx or no connection, and never after a routing verdict', async () => {
    s.dumpOnFailure()
    const gw = await s.gateway('verdict', { kind: 'answer' })
    await s.rtroute.load(s.partition, {
      gateways: [{ id: 'verdict', address: gw.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'verdict' }] }]
    })
    // First in the list: something answering 500 (a gateway error page); second: nobody listens;
    // third: the stack's rtroute, through a recorder of its own.
    let failing = 0
    const broken = http.createServer((_req, res) => { failing++; res.writeHead(500, { 'content-type': 'text/plain' }); res.end('upstream error') })
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve))
    s.track({ stop: async () => { await new Promise<void>((resolve) => { broken.close(() => { resolve() }) }) } })
    const recorder = await startRecorder(s.rtroute.url)
    s.track({ stop: recorder.close })
    const urls = [`http://127.0.0.1:${(broken.address() as AddressInfo).port}`, `http://127.0.0.1:${await freePort()}`, recorder.url]
    const proxy = await s.extraProxy('proxy-verdict', { rtrouteUrl: urls.join(','), partition: s.partition, waitReady: false })

    const routed = await s.call(NUMBER, {}, proxy)
    expect(routed.exitCode, describeCall(routed)).toBe(0)
    expect((await gw.invites()).map((i) => i.callId)).toEqual(routed.callIds)
    expect(recorder.on('/kamailio/rtjson').map((e) => [e.request?.call_id, e.status])).toEqual([[routed.callIds[0], 200]])
    // The call's events went to the instance that answered (start, in the INVITE's transaction)
    // and to the live one, the same (the BYE's end); none to the failing ones.
    const events = () => recorder.on('/kamailio/calls').filter((e) => e.request?.call_id === routed.callIds[0]).map((e) => [e.request?.event, e.status])
    await expect.poll(events, { timeout: 5000 }).toEqual([['start', 202], ['end', 202]])
    expect(failing).toBe(1)

    // The third instance answered: it is asked first now, and its verdict (no route: 404) is final.
    const unrouted = await s.call('3312345678', { expect: 404 }, proxy)
    expect(unrouted.exitCode, describeCall(unrouted)).toBe(0)
    const query = recorder.on('/kamailio/rtjson').find((e) => e.request?.call_id === unrouted.callIds[0])
    expect([query?.status, query?.response?.rtjson?.reason]).toEqual([200, 'no_route'])
    expect(failing).toBe(1)
  })
}
