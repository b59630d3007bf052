import { type Decision, type GatewayState, type RouteQuery } from '../../../src/routing/decide/decision.js'
import { describe, expect, it } from 'vitest'
import { decideRoutes } from '../../../src/routing/decide/decide-routes.js'
import type { RuleData, TimeWindowData } from '../../../src/routing/routing-data.schema.js'
import { callSeed } from '../../../src/routing/decide/select.js'
import {
  ALL_ACTIVE, callerGroup, carrier, gateway, gateways, health, NOON_WEDNESDAY, query, rule, table, type DataParts
} from '../fixtures.js'

const CLOSED: TimeWindowData = { timezone: 'UTC', weekly: [{ days: ['sun'], start: '00:00', end: '00:01' }] }
const OPEN: TimeWindowData = { timezone: 'UTC', weekly: [{ days: ['wed'], start: '11:00', end: '13:00' }] }

function decide (parts: DataParts, q: Partial<RouteQuery> = {}, states: Record<string, GatewayState> = {}): Decision {
  return decideRoutes(table({ gateways: gateways(6), ...parts }), health(states), query(q), NOON_WEDNESDAY)
}

const routeIds = (decision: Decision): string[] => (decision.outcome === 'routed' ? decision.routes.map((r) => r.gatewayId) : [])
const matched = (decision: Decision): [string, number | undefined, string | undefined] =>
  [decision.outcome, 'ruleId' in decision ? decision.ruleId : undefined, 'prefix' in decision ? decision.prefix : undefined]

describe('decideRoutes: rule selection (number 442071838750)', () => {
  it.each<[string, RuleData[], number, string]>([
    ['a longer prefix beats a higher priority', [rule(1, '44', ['gw1'], { priority: 100 }), rule(2, '4420', ['gw2'])], 2, '4420'],
    ['the highest priority wins within a prefix', [rule(1, '4420', ['gw1'], { priority: 1 }), rule(2, '4420', ['gw2'], { priority: 5 })], 2, '4420'],
    ['equal priorities: the lower id wins', [rule(3, '4420', ['gw1']), rule(2, '4420', ['gw2'])], 2, '4420'],
    ['a closed window yields to a lower priority of the same prefix', [rule(1, '4420', ['gw1'], { priority: 9, time_window: CLOSED }), rule(2, '4420', ['gw2'], { priority: 1 })], 2, '4420'],
    ['a closed window falls through to a shorter prefix', [rule(1, '4420', ['gw1'], { time_window: CLOSED }), rule(2, '44', ['gw2'])], 2, '44'],
    ['closed windows at every prefix fall to the prefixless rule', [rule(1, '4420', ['gw1'], { time_window: CLOSED }), rule(2, '44', ['gw2'], { time_window: CLOSED }), rule(3, '', ['gw3'])], 3, ''],
    ['an open window is taken', [rule(1, '4420', ['gw1'], { time_window: OPEN }), rule(2, '44', ['gw2'])], 1, '4420'],
    ['a disabled rule never matches, whatever its priority', [rule(1, '4420', ['gw1'], { priority: 9, enabled: false }), rule(2, '4420', ['gw2'])], 2, '4420'],
    ['a disabled rule at the longest prefix falls to a shorter one', [rule(1, '4420', ['gw1'], { enabled: false }), rule(2, '44', ['gw2'])], 2, '44'],
    ['the whole number is a prefix', [rule(1, '442071838750', ['gw1']), rule(2, '44', ['gw2'])], 1, '442071838750'],
    ['a prefix longer than the number never matches', [rule(1, '4420718387501', ['gw1']), rule(2, '44', ['gw2'])], 2, '44'],
    ['the prefixless rule is the default', [rule(1, '33', ['gw1']), rule(2, '', ['gw2'])], 2, '']
  ])('%s', (_, rules, ruleId, prefix) => {
    expect(matched(decide({ rules }))).toEqual(['routed', ruleId, prefix])
  })

  it.each<[string, RuleData[]]>([
    ['no rule has a matching prefix', [rule(1, '33', ['gw1'])]],
    ['the only matching rule is disabled', [rule(1, '44', ['gw1'], { enabled: false })]],
    ['the only matching rule is closed now', [rule(1, '', ['gw1'], { time_window: CLOSED })]],
    ['the matching rules belong to another group', [rule(1, '44', ['gw1'], { groups: ['vip'] })]],
    ['there are no rules at all', []]
  ])('no_route when %s', (_, rules) => {
    expect(decide({ rules })).toMatchObject({ outcome: 'no_route', group: 'default', groupSource: 'default', number: '442071838750' })
  })

  it('keeps a leading + and matches it literally', () => {
    const rules = [rule(1, '+44', ['gw1']), rule(2, '44', ['gw2'])]
    const plus = decide({ rules }, { requestUri: 'sip:+442071838750@sbc' })
    expect(matched(plus)).toEqual(['routed', 1, '+44'])
    expect(plus.outcome === 'routed' && plus.routes[0]?.uri).toBe('sip:+442071838750@10.0.0.1:5060')
    expect(matched(decide({ rules: [rule(2, '44', ['gw2'])] }, { requestUri: 'sip:+442071838750@sbc' }))).toEqual(['no_route', undefined, undefined])
  })
})

describe('decideRoutes: fallback (drouting flag F)', () => {
  const down = { gw1: 'down', gw2: 'down' } as const

  it.each<[string, RuleData[], Record<string, GatewayState>, [string, number, string]]>([
    ['fallback: the next rule of the same prefix', [rule(1, '4420', ['gw1'], { priority: 9, fallback: true }), rule(2, '4420', ['gw3'])], down, ['routed', 2, '4420']],
    ['no fallback: the exhausted rule answers no_destination', [rule(1, '4420', ['gw1'], { priority: 9 }), rule(2, '4420', ['gw3'])], down, ['no_destination', 1, '4420']],
    ['fallback goes on to shorter prefixes, then the prefixless rule', [rule(1, '4420', ['gw1'], { fallback: true }), rule(2, '44', ['gw2'], { fallback: true }), rule(3, '', ['gw3'])], down, ['routed', 3, '']],
    ['every fallback exhausted: no_destination names the first rule matched', [rule(1, '4420', ['gw1'], { fallback: true }), rule(2, '', ['gw2'], { fallback: true })], down, ['no_destination', 1, '4420']],
    ['a chain ends at a rule without fallback', [rule(1, '4420', ['gw1'], { fallback: true }), rule(2, '44', ['gw2']), rule(3, '', ['gw3'])], down, ['no_destination', 1, '4420']],
    ['a rule with no targets is exhausted too', [rule(1, '44', [])], {}, ['no_destination', 1, '44']],
    ['fallback passes over closed rules on its way', [rule(1, '4420', ['gw1'], { fallback: true }), rule(2, '44', ['gw3'], { time_window: CLOSED }), rule(3, '4', ['gw4'])], down, ['routed', 3, '4']]
  ])('%s', (_, rules, states, expected) => {
    expect(matched(decide({ rules }, {}, states))).toEqual(expected)
  })
})

describe('decideRoutes: targets', () => {
  it.each<[string, DataParts, Record<string, GatewayState>, string[]]>([
    ['listed order', { rules: [rule(1, '44', ['gw1', 'gw2', 'gw3'])] }, {}, ['gw1', 'gw2', 'gw3']],
    ['down and disabled are skipped, suspect is kept', { rules: [rule(1, '44', ['gw1', 'gw2', 'gw3', 'gw4'])] }, { gw1: 'down', gw2: 'suspect', gw3: 'disabled' }, ['gw2', 'gw4']],
    ['a gateway disabled in the data is skipped', { gateways: [...gateways(2), gateway('gw3', '10.0.0.3', { enabled: false })], rules: [rule(1, '44', ['gw3', 'gw1'])] }, {}, ['gw1']],
    ['duplicates keep their first position', { carriers: [carrier('cr1', ['gw2', 'gw1', 'gw3'])], rules: [rule(1, '44', ['gw1', '#cr1', 'gw2'])] }, {}, ['gw1', 'gw2', 'gw3']],
    ['max_targets cuts the list', { rules: [rule(1, '44', ['gw1', 'gw2', 'gw3', 'gw4'], { max_targets: 2 })] }, {}, ['gw1', 'gw2']],
    ['max_targets counts usable gateways only', { rules: [rule(1, '44', ['gw1', 'gw2', 'gw3', 'gw4'], { max_targets: 2 })] }, { gw1: 'down' }, ['gw2', 'gw3']],
    ['max_targets cuts inside a carrier', { carriers: [carrier('cr1', ['gw2', 'gw3', 'gw4'])], rules: [rule(1, '44', ['gw1', '#cr1'], { max_targets: 2 })] }, {}, ['gw1', 'gw2']],
    ['a carrier expands in place', { carriers: [carrier('cr1', ['gw2', 'gw3'])], rules: [rule(1, '44', ['gw1', '#cr1', 'gw4'])] }, {}, ['gw1', 'gw2', 'gw3', 'gw4']],
    ['first_only takes the carrier\'s first gateway', { carriers: [carrier('cr1', ['gw2', 'gw3'], { first_only: true })], rules: [rule(1, '44', ['gw1', '#cr1', 'gw4'])] }, {}, ['gw1', 'gw2', 'gw4']],
    ['first_only takes the first usable gateway', { carriers: [carrier('cr1', ['gw2', 'gw3'], { first_only: true })], rules: [rule(1, '44', ['gw1', '#cr1', 'gw4'])] }, { gw2: 'down' }, ['gw1', 'gw3', 'gw4']],
    ['first_only passes over a gateway already listed', { carriers: [carrier('cr1', ['gw2', 'gw3'], { first_only: true })], rules: [rule(1, '44', ['gw2', '#cr1'])] }, {}, ['gw2', 'gw3']],
    ['a disabled carrier is skipped', { carriers: [carrier('cr1', ['gw2', 'gw3'], { enabled: false })], rules: [rule(1, '44', ['gw1', '#cr1', 'gw4'])] }, {}, ['gw1', 'gw4']],
    ['unknown targets are skipped', { rules: [rule(1, '44', ['ghost', 'gw1'])] }, {}, ['gw1']],
    ['every target down: nothing', { rules: [rule(1, '44', ['gw1', 'gw2'])] }, { gw1: 'down', gw2: 'disabled' }, []]
  ])('%s', (_, parts, states, expected) => {
    expect(routeIds(decide(parts, {}, states))).toEqual(expected)
  })

  it('weighted rule sort: first-position shares follow the rule target weights over 10,000 Call-IDs (within 2 %)', () => {
    const t = table({ gateways: gateways(3), rules: [rule(1, '44', ['gw1=20', 'gw2=80', 'gw3=0'], { sort: 'weighted' })] })
    const first: Record<string, number> = { gw1: 0, gw2: 0, gw3: 0 }
    for (let i = 0; i < 10_000; i++) {
      const ids = routeIds(decideRoutes(t, ALL_ACTIVE, query({ callId: `${i}@pbx` }), NOON_WEDNESDAY))
      first[ids[0] ?? '']! += 1
      expect(ids[2]).toBe('gw3') // weight 0 is always last
    }
    expect(Math.abs(first.gw1! / 10_000 - 0.2)).toBeLessThanOrEqual(0.02)
    expect(Math.abs(first.gw2! / 10_000 - 0.8)).toBeLessThanOrEqual(0.02)
  })

  it('a carrier sorts its gateways with its own sort and member weights, inside an ordered rule', () => {
    const t = table({
      gateways: gateways(4),
      carriers: [carrier('cr1', [['gw2', 25], ['gw3', 75]], { sort: 'weighted' })],
      rules: [rule(1, '44', ['gw1', '#cr1', 'gw4'])]
    })
    let gw3First = 0
    for (let i = 0; i < 10_000; i++) {
      const ids = routeIds(decideRoutes(t, ALL_ACTIVE, query({ callId: `${i}@pbx` }), NOON_WEDNESDAY))
      expect([ids[0], ids[3]]).toEqual(['gw1', 'gw4'])
      if (ids[1] === 'gw3') gw3First++
    }
    expect(Math.abs(gw3First / 10_000 - 0.75)).toBeLessThanOrEqual(0.02)
  })

  it.each(['weighted', 'hash'] as const)('%s: the same Call-ID always gets the same order', (sort) => {
    const t = table({ gateways: gateways(5), carriers: [carrier('cr1', ['gw4', 'gw5'], { sort })], rules: [rule(1, '44', ['gw1', 'gw2', 'gw3', '#cr1'], { sort })] })
    const orders = new Set<string>()
    for (let i = 0; i < 100; i++) {
      const q = query({ callId: `retry-${i}@pbx` })
      const once = routeIds(decideRoutes(t, ALL_ACTIVE, q, NOON_WEDNESDAY))
      expect(routeIds(decideRoutes(t, ALL_ACTIVE, { ...q }, NOON_WEDNESDAY + 3_600_000))).toEqual(once)
      orders.add(once.join())
    }
    expect(orders.size).toBeGreaterThan(5)
  })

  it('hash: a gateway going down never reorders the others', () => {
    const t = table({ gateways: gateways(4), rules: [rule(1, '44', ['gw1=10', 'gw2=20', 'gw3=30', 'gw4=40'], { sort: 'hash' })] })
    for (let i = 0; i < 1000; i++) {
      const q = query({ callId: `${i}@pbx` })
      const all = routeIds(decideRoutes(t, ALL_ACTIVE, q, NOON_WEDNESDAY))
      expect(routeIds(decideRoutes(t, health({ gw2: 'down' }), q, NOON_WEDNESDAY))).toEqual(all.filter((id) => id !== 'gw2'))
    }
  })

  it('gives each route its weight: the rule target\'s, or the carrier member\'s', () => {
    const decision = decide({ carriers: [carrier('cr1', [['gw2', 7]])], rules: [rule(1, '44', ['gw1=3', '#cr1=9'])] })
    expect(decision.outcome === 'routed' && decision.routes.map((r) => [r.gatewayId, r.weight])).toEqual([['gw1', 3], ['gw2', 7]])
  })
})

describe('decideRoutes: routes', () => {
  it.each([
    ['no strip, no prefix', gateway('gw1', '10.0.0.1:5060'), 'sip:442071838750@10.0.0.1:5060', 'sip:10.0.0.1:5060'],
    ['strip 2, prefix 0', gateway('gw1', '10.0.0.1:5060', { strip: 2, prefix: '0' }), 'sip:02071838750@10.0.0.1:5060', 'sip:10.0.0.1:5060'],
    ['prefix 00', gateway('gw1', '10.0.0.1:5060', { prefix: '00' }), 'sip:00442071838750@10.0.0.1:5060', 'sip:10.0.0.1:5060'],
    ['strip beyond the number', gateway('gw1', '10.0.0.1', { strip: 20, prefix: '999' }), 'sip:999@10.0.0.1', 'sip:10.0.0.1'],
    ['transport kept', gateway('gw1', 'sip:gw.example.com:5080;transport=tcp'), 'sip:442071838750@gw.example.com:5080;transport=tcp', 'sip:gw.example.com:5080;transport=tcp'],
    ['sips, no port', gateway('gw1', 'sips:gw.example.com'), 'sips:442071838750@gw.example.com', 'sips:gw.example.com'],
    ['IPv6', gateway('gw1', '[2001:db8::1]:5060'), 'sip:442071838750@[2001:db8::1]:5060', 'sip:[2001:db8::1]:5060']
  ])('%s → %s', (_, gw, uri, dstUri) => {
    const decision = decide({ gateways: [gw], rules: [rule(1, '44', ['gw1'])] })
    expect(decision.outcome === 'routed' && decision.routes[0]).toMatchObject({ gatewayId: 'gw1', uri, gateway: { dstUri } })
  })

  it('carries its gateway, with socket, timers and attrs', () => {
    const gw = gateway('gw1', '10.0.0.1', { socket: 'udp:10.0.0.10:5060', fr_timer: 5000, fr_inv_timer: 30000, attrs: { carrier: 'bt' } })
    const decision = decide({ gateways: [gw], rules: [rule(1, '44', ['gw1'])] })
    expect(decision.outcome === 'routed' && decision.routes[0]).toMatchObject({ weight: 1, gateway: { socket: 'udp:10.0.0.10:5060', frTimer: 5000, frInvTimer: 30000, attrs: { carrier: 'bt' } } })
  })
})

describe('decideRoutes: caller group', () => {
  const callers = [
    callerGroup('from_uri', 'alice@example.com', 'g_uri'), callerGroup('from_domain', 'example.com', 'g_domain'),
    callerGroup('cidr', '10.0.0.0/8', 'g_8'), callerGroup('cidr', '10.1.0.0/16', 'g_16'), callerGroup('cidr', '10.1.2.0/24', 'g_24'),
    callerGroup('cidr', '2001:db8::/32', 'g_v6_32'), callerGroup('cidr', '2001:db8:1::/48', 'g_v6_48')
  ]
  const t = table({ gateways: gateways(1), callerGroups: callers, rules: [rule(1, '44', ['gw1'], { groups: ['g_24'] })] })

  it.each<[Partial<RouteQuery>, string, string]>([
    [{ group: 'vip', fromUri: 'sip:alice@example.com', sourceIp: '10.1.2.3' }, 'vip', 'query'],
    [{ fromUri: 'sip:alice@EXAMPLE.com' }, 'g_uri', 'from_uri'],
    [{ fromUri: '<sip:alice@example.com>;tag=a6c85cf' }, 'g_uri', 'from_uri'],
    [{ fromUri: 'sip:Alice@example.com' }, 'g_domain', 'from_domain'],
    [{ fromUri: 'sip:bob@example.com', sourceIp: '10.1.2.3' }, 'g_domain', 'from_domain'],
    [{ fromUri: 'sip:bob@other.org', sourceIp: '10.1.2.3' }, 'g_24', 'source_ip'],
    [{ sourceIp: '10.1.9.9' }, 'g_16', 'source_ip'],
    [{ sourceIp: '10.9.9.9' }, 'g_8', 'source_ip'],
    [{ sourceIp: '2001:db8:1::5' }, 'g_v6_48', 'source_ip'],
    [{ sourceIp: '2001:db8:ffff::1' }, 'g_v6_32', 'source_ip'],
    [{ sourceIp: '::ffff:10.1.2.3' }, 'g_24', 'source_ip'],
    [{ sourceIp: '192.168.1.1' }, 'default', 'default'],
    [{ sourceIp: 'not-an-ip', fromUri: 'garbage' }, 'default', 'default'],
    [{}, 'default', 'default']
  ])('%j → %s (%s)', (q, group, source) => {
    expect(decideRoutes(t, ALL_ACTIVE, query(q), NOON_WEDNESDAY)).toMatchObject({ group, groupSource: source })
  })

  it('routes with the rules of the resolved group only', () => {
    expect(matched(decideRoutes(t, ALL_ACTIVE, query({ sourceIp: '10.1.2.3' }), NOON_WEDNESDAY))).toEqual(['routed', 1, '44'])
    expect(matched(decideRoutes(t, ALL_ACTIVE, query({ sourceIp: '10.1.3.3' }), NOON_WEDNESDAY))).toEqual(['no_route', undefined, undefined])
  })

  it('uses the partition default group', () => {
    const other = table({ defaultGroup: 'retail', gateways: gateways(1), rules: [rule(1, '44', ['gw1'], { groups: ['retail'] })] })
    expect(decideRoutes(other, ALL_ACTIVE, query(), NOON_WEDNESDAY)).toMatchObject({ outcome: 'routed', group: 'retail', groupSource: 'default' })
  })
})

describe('decideRoutes: numbers outside the prefix alphabet (drouting extra_prefix_chars)', () => {
  const rules = [rule(1, '', ['gw1']), rule(2, '4', ['gw2']), rule(3, '*1', ['gw3'])]

  it('routes a user part that is not a number by the prefixless rules, and reports no_route without one', () => {
    expect(decide({ rules }, { requestUri: 'sip:alice@example.com' })).toMatchObject({ outcome: 'routed', ruleId: 1, prefix: '', number: 'alice' })
    expect(decide({ rules }, { requestUri: 'sip:4alice@example.com' })).toMatchObject({ outcome: 'routed', ruleId: 1, prefix: '' })
    expect(decide({ rules: [rule(2, '4', ['gw2'])] }, { requestUri: 'sip:alice@example.com' })).toMatchObject({ outcome: 'no_route', number: 'alice' })
  })

  it('matches prefixes holding the partition\'s extra characters, and only then', () => {
    expect(decide({ rules, extraPrefixChars: '*#' }, { requestUri: 'sip:*100#@example.com' })).toMatchObject({ outcome: 'routed', ruleId: 3, prefix: '*1' })
    // Without '*' in the alphabet, rule 3 is discarded at load and the number goes to the prefixless rule.
    expect(decide({ rules }, { requestUri: 'sip:*100#@example.com' })).toMatchObject({ outcome: 'routed', ruleId: 1, prefix: '' })
    expect(decide({ rules, extraPrefixChars: '*' }, { requestUri: 'sip:*100#@example.com' })).toMatchObject({ outcome: 'routed', ruleId: 1, prefix: '' })
  })

  it('writes the user part as it came into the route, after the gateway\'s strip and prefix', () => {
    const decision = decide({ gateways: [gateway('gw1', '10.0.0.1', { strip: 1, prefix: '00' })], rules: [rule(1, '', ['gw1'])] }, { requestUri: 'sip:alice@example.com' })
    expect(decision.outcome === 'routed' ? decision.routes[0]?.uri : undefined).toBe('sip:00lice@10.0.0.1')
  })
})

describe('decideRoutes: bad requests', () => {
  it.each<[Partial<RouteQuery>, string, RegExp]>([
    [{ requestUri: 'sip:example.com' }, 'request_uri', /request_uri has no number to route/],
    [{ requestUri: undefined, toUri: 'sip:example.com' }, 'to_uri', /to_uri has no number/],
    [{ requestUri: 'sip:a%0D%0Ab@example.com' }, 'request_uri', /holds a character a route cannot carry/],
    [{ requestUri: undefined }, 'request_uri', /request_uri or to_uri is required/]
  ])('%j → bad_request naming %s', (q, field, message) => {
    expect(decide({ rules: [rule(1, '', ['gw1'])] }, q)).toEqual({ outcome: 'bad_request', field, message: expect.stringMatching(message), trace: undefined })
  })
})

describe('decideRoutes: trace', () => {
  const parts: DataParts = {
    gateways: [...gateways(5), gateway('gw6', '10.0.0.6')],
    carriers: [carrier('cr1', ['gw2', 'gw3', 'gw4'], { first_only: true }), carrier('cr2', ['gw1'], { enabled: false })],
    rules: [
      rule(1, '4420', ['gw1'], { priority: 9, enabled: false }),
      rule(2, '4420', ['gw1'], { priority: 5, time_window: CLOSED }),
      rule(3, '4420', ['gw1'], { priority: 1, fallback: true }),
      rule(4, '44', ['gw2', '#cr1', '#cr2', 'ghost', 'gw6', 'gw5', 'gw4'], { priority: 3, max_targets: 3 }),
      rule(5, '44', ['gw1'])
    ]
  }

  it('explains every step when asked', () => {
    const q = query({ callId: 'explain-me' })
    const decision = decideRoutes(table(parts), health({ gw1: 'down', gw3: 'suspect', gw6: 'disabled' }), q, NOON_WEDNESDAY, { trace: true })
    expect(routeIds(decision)).toEqual(['gw2', 'gw3', 'gw5'])
    expect(decision.trace).toEqual({
      seed: callSeed('explain-me'),
      number: '442071838750',
      group: 'default',
      groupSource: 'default',
      prefixes: [{ prefix: '4420', rules: 3 }, { prefix: '442', rules: 0 }, { prefix: '44', rules: 2 }],
      rules: [
        { ruleId: 1, prefix: '4420', priority: 9, verdict: 'disabled' },
        { ruleId: 2, prefix: '4420', priority: 5, verdict: 'window_closed' },
        { ruleId: 3, prefix: '4420', priority: 1, verdict: 'exhausted_fallback' },
        { ruleId: 4, prefix: '44', priority: 3, verdict: 'taken' },
        { ruleId: 5, prefix: '44', priority: 0, verdict: 'lower_priority' }
      ],
      targets: [
        { ruleId: 3, gateway: 'gw1', state: 'down', verdict: 'down' },
        { ruleId: 4, gateway: 'gw2', state: 'active', verdict: 'kept' },
        { ruleId: 4, gateway: 'gw2', carrier: 'cr1', state: 'active', verdict: 'duplicate' },
        { ruleId: 4, gateway: 'gw3', carrier: 'cr1', state: 'suspect', verdict: 'kept' },
        { ruleId: 4, gateway: 'gw4', carrier: 'cr1', verdict: 'carrier_first_only' },
        { ruleId: 4, carrier: 'cr2', verdict: 'carrier_disabled' },
        { ruleId: 4, gateway: 'ghost', verdict: 'unknown' },
        { ruleId: 4, gateway: 'gw6', state: 'disabled', verdict: 'disabled' },
        { ruleId: 4, gateway: 'gw5', state: 'active', verdict: 'kept' },
        { ruleId: 4, gateway: 'gw4', verdict: 'cut_max_targets' }
      ]
    })
  })

  it('probes every prefix down to the prefixless one when nothing matches', () => {
    const decision = decideRoutes(table({ gateways: gateways(1), rules: [rule(1, '4421', ['gw1'])] }), ALL_ACTIVE, query(), NOON_WEDNESDAY, { trace: true })
    expect(decision.outcome).toBe('no_route')
    expect(decision.trace?.prefixes.map((p) => p.prefix)).toEqual(['4420', '442', '44', '4', ''])
  })

  it('builds no trace unless asked, and tracing never changes the decision', () => {
    const t = table(parts)
    const states = health({ gw1: 'down', gw3: 'suspect', gw6: 'disabled' })
    const plain = decideRoutes(t, states, query({ callId: 'explain-me' }), NOON_WEDNESDAY)
    const traced = decideRoutes(t, states, query({ callId: 'explain-me' }), NOON_WEDNESDAY, { trace: true })
    expect(plain.trace).toBeUndefined()
    expect(plain).toEqual({ ...traced, trace: undefined })
  })
})
