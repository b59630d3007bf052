/**
 * The proxy secret end to end, for every proxy's shipped config: the stack's rtroute requires
 * RTROUTE_PROXY_SECRET and its proxy is configured with it (Kamailio's RTROUTE_SECRET define,
 * OpenSIPS's $shv(rtroute_secret)). Every request the proxy makes for a call carries
 * X-Rtroute-Secret and is accepted; the same config without the secret is refused (403, the
 * caller gets a 500). kamailio.test.ts and opensips.test.ts run it.
 */
import { expect, it } from 'vitest'
import { describeCall } from '../helpers/sipp.js'
import { STACK_SECRET, type ProxyStack } from '../helpers/stack.js'

const NUMBER = '442071838750'

export function proxySecretScenarios (s: ProxyStack): void {
  it('sends X-Rtroute-Secret on every request to rtroute (query, feedback, call events); without it the query is refused', async () => {
    s.dumpOnFailure(() => `--- exchanges ---\n${s.recorder.exchanges.map((e) => `${e.path} ${JSON.stringify(e.request)} -> ${e.status}`).join('\n')}`)
    const busy = await s.gateway('sec-busy', { kind: 'reject', code: 503, reason: 'Service Unavailable' })
    const good = await s.gateway('sec-good', { kind: 'answer' })
    await s.rtroute.load(s.partition, {
      gateways: [{ id: 'busy', address: busy.address, probe_mode: 'never' }, { id: 'good', address: good.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'busy' }, { gateway: 'good' }] }]
    })

    const result = await s.call(NUMBER)
    expect(result.exitCode, describeCall(result)).toBe(0)
    const callId = result.callIds[0] ?? ''
    expect((await good.invites()).map((i) => i.callId)).toEqual([callId])
    // Query, feedback (the 503 of route 1) and both call events: each with the secret, each accepted.
    const exchanges = () => s.recorder.exchanges.filter((e) => e.request?.call_id === callId)
    const kinds = () => exchanges().map((e) => e.path === '/kamailio/calls' ? `${e.path} ${String(e.request?.event)}` : e.path).sort()
    await expect.poll(kinds, { timeout: 5000 }).toEqual(['/kamailio/calls end', '/kamailio/calls start', '/kamailio/feedback', '/kamailio/rtjson'])
    for (const e of exchanges()) {
      expect(e.headers['x-rtroute-secret'], e.path).toBe(STACK_SECRET)
      expect(e.status, `${e.path}: ${JSON.stringify(e.response)}`).toBe(e.path === '/kamailio/rtjson' ? 200 : 202)
    }

    // The same config without the secret: 403 forbidden, and the caller gets a 500.
    const without = await s.extraProxy('proxy-no-secret', { rtrouteUrl: s.recorder.url, partition: s.partition, secret: undefined })
    const refused = await s.call(NUMBER, { expect: 500 }, without)
    expect(refused.exitCode, describeCall(refused)).toBe(0)
    const query = s.recorder.on('/kamailio/rtjson').find((e) => e.request?.call_id === refused.callIds[0])
    expect(query?.headers['x-rtroute-secret']).toBeUndefined()
    expect([query?.status, query?.response?.rtjson?.reason]).toEqual([403, 'forbidden'])
  })
}
