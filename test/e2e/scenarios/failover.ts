/**
 * Failover between two rtroute instances, for every proxy's shipped config: both on the stack's
 * PostgreSQL, the proxy given both URLs. SIPp calls at a steady rate while one instance is stopped
 * (SIGTERM) and started again, then the other: no call may fail. The proxy sticks to the
 * instance that answered last, so the second stop is what sends calls to the restarted first one
 * (its routed answers prove it). kamailio.test.ts and opensips.test.ts run it; it logs its figures.
 */
import { expect, it } from 'vitest'
import { freePort } from '../../../src/embedded-postgres.js'
import { startRtroute, type Rtroute } from '../helpers/rtroute.js'
import { describeCall } from '../helpers/sipp.js'
import { STACK_SECRET, type ProxyStack } from '../helpers/stack.js'

const NUMBER = '442071838750'
const RATE = 20
const CALLS = 360
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
      rules: [{ prefix: '44', targets: [{ gateway: 'fo' }] }]
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

    const placed = s.call(NUMBER, { calls: CALLS, rate: RATE, trace: false, timeoutS: 90 }, proxy)
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
    const result = await placed

    const ok = Number(result.stats['SuccessfulCall(C)'])
    const failed = Number(result.stats['FailedCall(C)'])
    const restartedFirst = await routedAnswers(instances[0] as Rtroute)
    console.log(`[e2e] failover through ${s.name}: ${CALLS} calls at ${RATE}/s, ${ok} ok, ${failed} failed; ` +
      `instance 1 answered ${before} before its stop, was ${figures(downFirst)} and answered ` +
      `${restartedFirst} after its restart; instance 2 ${figures(downSecond)}`)
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect([ok, failed]).toEqual([CALLS, 0])
    expect(before).toBeGreaterThan(0)
    // The restarted first instance took the calls while the second was down.
    expect(restartedFirst).toBeGreaterThan(0)
  })
}
