/**
 * A dialled user part that is not a number (`sip:alice@…`), as drouting treats it: it matches no
 * prefix and is routed by the prefixless rules, else the caller gets a 404 (no_route), never the
 * 500 a bad request becomes. kamailio.test.ts and opensips.test.ts run these through the shipped
 * configs.
 */
import { expect, it } from 'vitest'
import { describeCall } from '../helpers/sipp.js'
import type { ProxyStack } from '../helpers/stack.js'

export function userPartScenarios (s: ProxyStack): void {
  const PARTITION = s.partition
  const { gateway, call, dumpOnFailure } = s

  it('a user part that is not a number is routed by the prefixless rule', async () => {
    dumpOnFailure()
    const uk = await gateway('up-uk', { kind: 'answer' })
    const other = await gateway('up-other', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'uk', address: uk.address, probe_mode: 'never' }, { id: 'other', address: other.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'uk' }] }, { groups: ['default'], prefix: '', targets: [{ gateway: 'other' }] }]
    })
    const result = await call('alice')
    expect(result.exitCode, describeCall(result)).toBe(0)
    const invites = await other.invites()
    expect(invites.map((i) => i.callId)).toEqual(result.callIds)
    expect(invites[0]?.requestUri).toBe(`sip:alice@${other.address}`)
    expect(await uk.invites()).toEqual([])
  })

  it('without a prefixless rule, a user part that is not a number gets the caller a 404', async () => {
    dumpOnFailure()
    const uk = await gateway('up-uk2', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'uk', address: uk.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'uk' }] }]
    })
    const result = await call('alice', { expect: 404 })
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.statuses.at(-1)).toBe(404)
    expect(await uk.invites()).toEqual([])
  })
}
