/**
 * Capacity limits end to end, for every proxy's shipped config: SIPp calls through the proxy,
 * which reports call events (start on the 2xx, end on BYE, CANCEL or final failure) to a real
 * rtroute; a gateway at its max_calls is skipped until its calls end. capacity.test.ts runs them
 * through Kamailio, opensips.test.ts through OpenSIPS.
 */
import { expect, it } from 'vitest'
import { describeCall, type CallOptions, type CallResult, type Gateway } from '../helpers/sipp.js'
import type { ProxyStack } from '../helpers/stack.js'

const NUMBER = '442071838750'

// Events leave the proxy from async workers and counts are synced between instances every ~200 ms:
// poll, with room for a busy 2-core machine. Held calls last well beyond the longest poll.
const WAIT = { timeout: 6000, interval: 100 }
const HOLD_MS = 10_000
const HOLD_ONE_MS = 8000

/** The state endpoint's capacity: calls = leases (offered, not yet answered) + started (answered). */
interface Capacity { max_calls: number | null, max_cps: number | null, calls: number, started: number, leases: number, cps: number }

/** Registers the scenarios in the calling describe block, against its stack. */
export function capacityScenarios (s: ProxyStack): void {
  const PARTITION = s.partition
  const { gateway, call } = s
  const callIdsOf = async (gw: Gateway): Promise<string[]> => (await gw.invites()).map((i) => i.callId)
  const capacity = async (gw: string): Promise<Capacity | null> => {
    const res = await fetch(`${s.rtroute.url}/v1/partitions/${PARTITION}/gateways/${gw}/state`)
    const body = await res.json() as { capacity?: Capacity | null }
    if (res.status !== 200) throw new Error(`GET .../gateways/${gw}/state: ${res.status} ${JSON.stringify(body)}`)
    return body.capacity ?? null
  }
  /** What the proxy posted to /kamailio/calls for one call, and what rtroute answered. */
  const eventsOf = (callId: string) => s.recorder.on('/kamailio/calls').filter((e) => e.request?.call_id === callId)
  const sentFor = (callId: string): unknown[] => eventsOf(callId).map((e) => e.request)
  const expectAccepted = (callId: string): void => {
    for (const e of eventsOf(callId)) {
      expect(e.status, `POST /kamailio/calls ${JSON.stringify(e.request)} answered ${e.status} ${JSON.stringify(e.response)}`).toBe(202)
      expect(e.response).toMatchObject({ accepted: true, event: e.request.event, call_id: callId, partition: PARTITION })
    }
  }
  const dumpOnFailure = (): void => {
    s.dumpOnFailure(() => `--- call events ---\n${s.recorder.on('/kamailio/calls').map((e) => `${JSON.stringify(e.request)} -> ${e.status} ${JSON.stringify(e.response)}`).join('\n')}`)
  }
  /** Places calls that stay up for `holdMs` and runs `whileUp` meanwhile; the caller's result once they end. */
  const holding = async (options: Partial<CallOptions>, whileUp: () => Promise<void>): Promise<CallResult> => {
    const placed = call(NUMBER, options)
    try {
      await whileUp()
    } catch (err) {
      // Let the calls end before the next test reuses the proxy.
      await placed.catch(() => undefined)
      throw err
    }
    return await placed
  }

  it('a gateway at max_calls is skipped while its calls last and takes calls again once they end', async () => {
    dumpOnFailure()
    const a = await gateway('cap-a', { kind: 'answer' })
    const b = await gateway('cap-b', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [
        { id: 'a', address: a.address, probe_mode: 'never', max_calls: 2 },
        { id: 'b', address: b.address, probe_mode: 'never' }
      ],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }], sort: 'ordered' }]
    })
    expect(await capacity('a')).toMatchObject({ max_calls: 2, max_cps: null, calls: 0, started: 0, leases: 0 })
    expect(await capacity('b')).toBeNull()

    // Five calls, one every 500 ms, each held 10 s: the first two fill a, the next three go to b.
    const result = await holding({ calls: 5, rate: 2, limit: 5, holdMs: HOLD_MS, timeoutS: 60 }, async () => {
      // Each answered call's start turned its lease into a call.
      await expect.poll(async () => await capacity('a'), WAIT).toMatchObject({ calls: 2, started: 2, leases: 0 })
      await expect.poll(() => s.recorder.on('/kamailio/calls').filter((e) => e.request?.event === 'start').length, WAIT).toBe(5)
      // While a is full the decision skips it, and says why.
      const explain = await (await fetch(`${s.rtroute.url}/v1/partitions/${PARTITION}/route?number=${NUMBER}`)).json() as
        { outcome: string, trace: { targets: Array<{ gateway: string, verdict: string }> }, rtjson: { routes: Array<{ gateway: string }> } }
      expect(explain.outcome).toBe('routed')
      expect(explain.trace.targets.find((t) => t.gateway === 'a')?.verdict).toBe('at_capacity')
      expect(explain.rtjson.routes.map((r) => r.gateway)).toEqual(['b'])
      expect(await capacity('a')).toMatchObject({ calls: 2, started: 2, leases: 0 })
    })
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.callIds).toHaveLength(5)
    // A 200 for each INVITE and for each BYE (retransmissions may add more).
    expect(result.statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10)
    const [first, second, ...rest] = result.callIds
    expect(await callIdsOf(a)).toEqual([first, second])
    expect(await callIdsOf(b)).toEqual(rest)

    // Every call: start on the 200 (from the INVITE's transaction: the route's gateway and the
    // code), end on the BYE (an in-dialog request: only the Call-ID and the configured partition).
    for (const [i, callId] of result.callIds.entries()) {
      await expect.poll(() => sentFor(callId), WAIT).toEqual([
        { event: 'start', call_id: callId, partition: PARTITION, gateway: i < 2 ? 'a' : 'b', code: 200 },
        { event: 'end', call_id: callId, partition: PARTITION }
      ])
      expectAccepted(callId)
    }
    await expect.poll(async () => await capacity('a'), WAIT).toMatchObject({ calls: 0, started: 0, leases: 0 })

    // Free again: the next call goes to a.
    const again = await call(NUMBER)
    expect(again.exitCode, describeCall(again)).toBe(0)
    const [next] = again.callIds
    expect(await callIdsOf(a)).toEqual([first, second, next])
    expect(await callIdsOf(b)).toEqual(rest)
    await expect.poll(() => sentFor(next ?? ''), WAIT).toEqual([
      { event: 'start', call_id: next, partition: PARTITION, gateway: 'a', code: 200 },
      { event: 'end', call_id: next, partition: PARTITION }
    ])
    expectAccepted(next ?? '')
    await expect.poll(async () => await capacity('a'), WAIT).toMatchObject({ calls: 0, started: 0, leases: 0 })
  })

  it('no gateway left below its limit gets the caller 503 (no_capacity)', async () => {
    dumpOnFailure()
    const solo = await gateway('cap-solo', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'solo', address: solo.address, probe_mode: 'never', max_calls: 1 }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'solo' }] }]
    })

    let refused: CallResult | undefined
    const held = await holding({ holdMs: HOLD_ONE_MS }, async () => {
      await expect.poll(async () => await capacity('solo'), WAIT).toMatchObject({ calls: 1, started: 1, leases: 0 })
      const answer = await s.rtroute.route({ call_id: 'capacity-probe', request_uri: `sip:${NUMBER}@rtroute.invalid`, partition: PARTITION })
      expect([answer.status, answer.body.rtjson.success, answer.body.rtjson.reason, answer.body.rtjson.sip_code]).toEqual([200, false, 'no_capacity', 503])
      refused = await call(NUMBER, { expect: 503 })
    })
    expect(held.exitCode, describeCall(held)).toBe(0)
    expect(refused?.exitCode, refused === undefined ? 'not placed' : describeCall(refused)).toBe(0)
    expect(refused?.statuses.at(-1)).toBe(503)
    expect(await callIdsOf(solo)).toEqual(held.callIds)
    // Never routed: nothing to report.
    expect(sentFor(refused?.callIds[0] ?? '')).toEqual([])
    await expect.poll(async () => await capacity('solo'), WAIT).toMatchObject({ calls: 0, started: 0, leases: 0 })
  })

  it('a call that fails for good, and a call the caller cancels, give their slot back', async () => {
    dumpOnFailure()
    const busy = await gateway('cap-busy', { kind: 'reject', code: 486, reason: 'Busy Here' })
    const ringing = await gateway('cap-ringing', { kind: 'ring' })
    await s.rtroute.load(PARTITION, {
      gateways: [
        { id: 'busy', address: busy.address, probe_mode: 'never', max_calls: 1 },
        { id: 'ringing', address: ringing.address, probe_mode: 'never', max_calls: 1 }
      ],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'busy' }] }, { groups: ['default'], prefix: '33', targets: [{ gateway: 'ringing' }] }]
    })

    // 486 is not failed over: the failure route ends the call with the gateway and the code.
    const failed = await call(NUMBER, { expect: 486 })
    expect(failed.exitCode, describeCall(failed)).toBe(0)
    const failedId = failed.callIds[0] ?? ''
    await expect.poll(() => sentFor(failedId), WAIT).toEqual([
      { event: 'end', call_id: failedId, partition: PARTITION, gateway: 'busy', code: 486 }
    ])
    expectAccepted(failedId)
    await expect.poll(async () => await capacity('busy'), WAIT).toMatchObject({ calls: 0, started: 0, leases: 0 })

    // The caller cancels while it rings: the lease held meanwhile is released by the CANCEL's end.
    const placed = call('33142685300', { cancel: true, expect: 487, holdMs: 4000 })
    let cancelled: CallResult
    try {
      await expect.poll(async () => await capacity('ringing'), WAIT).toMatchObject({ calls: 1, started: 0, leases: 1 })
    } finally {
      cancelled = await placed
    }
    expect(cancelled.exitCode, describeCall(cancelled)).toBe(0)
    const cancelledId = cancelled.callIds[0] ?? ''
    await expect.poll(() => sentFor(cancelledId), WAIT).toEqual([{ event: 'end', call_id: cancelledId, partition: PARTITION }])
    expectAccepted(cancelledId)
    await expect.poll(async () => await capacity('ringing'), WAIT).toMatchObject({ calls: 0, started: 0, leases: 0 })
  })

  it('on failover the slot follows the call to the next gateway', async () => {
    dumpOnFailure()
    const first = await gateway('cap-first', { kind: 'reject', code: 503, reason: 'Service Unavailable' })
    const second = await gateway('cap-second', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [
        { id: 'first', address: first.address, probe_mode: 'never', max_calls: 1 },
        { id: 'second', address: second.address, probe_mode: 'never', max_calls: 1 }
      ],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'first' }, { gateway: 'second' }], sort: 'ordered' }]
    })

    const result = await holding({ holdMs: HOLD_ONE_MS }, async () => {
      await expect.poll(async () => await capacity('second'), WAIT).toMatchObject({ calls: 1, started: 1, leases: 0 })
      expect(await capacity('first')).toMatchObject({ calls: 0, started: 0, leases: 0 })
    })
    expect(result.exitCode, describeCall(result)).toBe(0)
    const callId = result.callIds[0] ?? ''
    expect(await callIdsOf(first)).toEqual([callId])
    expect(await callIdsOf(second)).toEqual([callId])
    // The failed branch went to /kamailio/feedback; the call events name the gateway that answered.
    await expect.poll(() => sentFor(callId), WAIT).toEqual([
      { event: 'start', call_id: callId, partition: PARTITION, gateway: 'second', code: 200 },
      { event: 'end', call_id: callId, partition: PARTITION }
    ])
    expectAccepted(callId)
    await expect.poll(async () => await capacity('second'), WAIT).toMatchObject({ calls: 0, started: 0, leases: 0 })
  })
}
