import { describe, expect, it } from 'vitest'
import { applyHealthEvent, DEFAULT_HEALTH_SETTINGS, initialHealth, type GatewayHealth } from '../../src/dispatcher/gateway-state.js'
import {
  createOptionsProber, probeHealthEvent, type ProbeReply, type ProbeTarget, type SendOptions
} from '../../src/dispatcher/options-prober.js'
import { localOutcome, targetProblem } from '../../src/dispatcher/sip-options-sender.js'

const target = (gatewayId: string): ProbeTarget => ({ partition: 'default', gatewayId, uri: `sip:10.0.0.1:5060;gw=${gatewayId}` })
type Answer = Awaited<ReturnType<SendOptions>>

/** A fake send answering from a table, advancing a fake clock by `latency` per probe. */
function fakeNetwork (answers: Record<string, Answer | Error>, latency = 7): { send: SendOptions, now: () => number } {
  let clock = 1_000
  const send: SendOptions = async (t) => {
    const answer = answers[t.gatewayId] ?? 'timeout'
    clock += latency
    if (answer instanceof Error) throw answer
    return answer
  }
  return { send, now: () => clock }
}

const proberFor = (answers: Record<string, Answer | Error>, acceptCodes: number[] = []) =>
  createOptionsProber({ ...fakeNetwork(answers), timeoutMs: 300, acceptCodes, concurrency: 2 })

describe('createOptionsProber', () => {
  it('reports a 200 as ok, with its latency', async () => {
    const result = await proberFor({ gw: { status: 200, reason: 'OK' } }).probe(target('gw'))
    expect(result).toEqual({ target: target('gw'), ok: true, status: 200, latencyMs: 7, timeout: false, reason: '200 OK probing reply' })
  })

  it('reports a negative reply, unless it is one of the accepted codes', async () => {
    const answers = { gw: { status: 503, reason: 'Service Unavailable' }, auth: { status: 403, reason: 'Forbidden' } }
    expect(await proberFor(answers).probe(target('gw'))).toMatchObject({ ok: false, status: 503, timeout: false, reason: 'negative probing reply 503 Service Unavailable' })
    expect(await proberFor(answers, [403]).probe(target('auth'))).toMatchObject({ ok: true, reason: '403 Forbidden probing reply' })
  })

  it('reports a timeout with the configured time and no latency', async () => {
    const result = await proberFor({}).probe(target('silent'))
    expect(result).toEqual({ target: target('silent'), ok: false, timeout: true, reason: 'probe timeout after 300 ms' })
  })

  it('reports send failures, thrown or returned', async () => {
    const prober = proberFor({ a: { error: 'no transport' }, b: new Error('socket closed') })
    expect(await prober.probe(target('a'))).toMatchObject({ ok: false, timeout: false, reason: 'failure to send probe: no transport' })
    expect(await prober.probe(target('b'))).toMatchObject({ ok: false, timeout: false, reason: 'failure to send probe: socket closed' })
  })

  it('never takes a locally generated 408 for an answer, even when 408 is accepted', async () => {
    const local: ProbeReply = { status: 408, reason: 'Request Timeout', local: true }
    const result = await proberFor({ gw: local }, [408]).probe(target('gw'))
    expect(result).toMatchObject({ ok: false, timeout: true, reason: 'probe timeout after 300 ms' })
    expect(result.status).toBeUndefined()
    const other = await proberFor({ gw: { status: 503, reason: '', local: true } }).probe(target('gw'))
    expect(other).toMatchObject({ ok: false, timeout: false, reason: 'failure to send probe: local 503' })
  })

  it('runs a round at most `concurrency` at a time, results in target order', async () => {
    let inFlight = 0
    let peak = 0
    const send: SendOptions = async (t) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return t.gatewayId === 'g3' ? 'timeout' : { status: 200, reason: 'OK' }
    }
    const prober = createOptionsProber({ send, now: () => 0, timeoutMs: 300, acceptCodes: [], concurrency: 3 })
    const targets = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6'].map(target)
    const results = await prober.round(targets)
    expect(results.map((r) => r.target.gatewayId)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6'])
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true, true, true])
    expect(peak).toBe(3)
    expect(await prober.round([])).toEqual([])
  })
})

describe('probeHealthEvent', () => {
  it('feeds the state machine so a local timeout can never revive a gateway', async () => {
    const prober = proberFor({ gw: { status: 408, reason: 'Request Timeout', local: true } })
    const ctx = { settings: DEFAULT_HEALTH_SETTINGS, probed: true, now: 0 }
    let health: GatewayHealth = initialHealth(0)
    for (let i = 0; i < 3; i++) health = applyHealthEvent(health, probeHealthEvent(await prober.probe(target('gw'))), ctx).health
    expect(health.state).toBe('down')
    for (let i = 0; i < 10; i++) {
      health = applyHealthEvent(health, probeHealthEvent(await prober.probe(target('gw'))), { ...ctx, now: 10_000_000 }).health
    }
    expect(health).toMatchObject({ state: 'down', goodProbes: 0 })
  })

  it('uses the bare reply as the reason of a good probe', async () => {
    const result = await proberFor({ gw: { status: 200, reason: 'OK' } }).probe(target('gw'))
    expect(probeHealthEvent(result)).toEqual({ kind: 'probe_ok', reason: '200 OK' })
    const bad = await proberFor({}).probe(target('gw'))
    expect(probeHealthEvent(bad)).toEqual({ kind: 'probe_fail', reason: 'probe timeout after 300 ms' })
  })
})

describe('the SIP sender’s pure rules', () => {
  it('reads the stack’s own final responses as timeout or send failure, never as an answer', () => {
    expect(localOutcome(408)).toBe('timeout')
    expect(localOutcome(503)).toEqual({ error: 'no transport or connection to the gateway' })
    expect(localOutcome(404)).toEqual({ error: 'gateway address did not resolve' })
    expect(localOutcome(430)).toEqual({ error: 'SIP stack answered 430 locally' })
  })

  it.each([
    ['sip:10.0.0.1:5060', false, undefined],
    ['sip:gw.example.com;transport=UDP', false, undefined],
    ['sip:10.0.0.1:5060;transport=tcp', true, undefined],
    ['sip:10.0.0.1:5060;transport=tcp', false, 'TCP transport not enabled on the prober'],
    ['sip:10.0.0.1:5061;transport=tls', true, 'unsupported transport tls'],
    ['sip:rtroute.invalid:5060', false, "target host rtroute.invalid is the prober's own publicAddress"],
    ['10.0.0.1', false, 'not a SIP URI: 10.0.0.1'],
    ['sip:[::1]:5060', false, 'not a SIP URI: sip:[::1]:5060']
  ])('target %s (tcp %s) → %s', (uri, tcp, problem) => {
    expect(targetProblem(uri, tcp, 'rtroute.invalid')).toBe(problem)
  })
})
