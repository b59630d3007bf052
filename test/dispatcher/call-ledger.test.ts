/**
 * Capacity accounting without I/O: the ledger's leases and calls, their expiry, failover moves,
 * the sync arithmetic (shared + inflight + pending), and the decision reading it — limits hold
 * under a burst of offers, full targets are skipped, least_loaded orders by free capacity.
 */
import { type GatewayHealthView } from '../../src/routing/decide/decision.js'
import { describe, expect, it } from 'vitest'
import { createCallLedger } from '../../src/dispatcher/call-ledger.js'
import { sharedKey, type LeaseRoute, type SharedCount } from '../../src/dispatcher/ledger-rows.js'
import { decideRoutes } from '../../src/routing/decide/decide-routes.js'
import { carrier, gateway, gateways, NOON_WEDNESDAY, query, rule, table } from '../routing/fixtures.js'

const TIMES = { leaseTtlMs: 1000, maxCallMs: 10_000 }
const P = 'p'
const via = (...ids: string[]): LeaseRoute[] => ids.map((id) => ({ gateway: id, carrier: '' }))
const calls = (ledger: ReturnType<typeof createCallLedger>, gw: string, now = 0): number => ledger.gateway(P, gw, now)?.calls ?? 0

describe('leases and calls', () => {
  it('counts an offer at once, and a lease nobody starts stops counting after the TTL', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', via('a', 'b'), TIMES, 0)
    expect(ledger.gateway(P, 'a', 0)).toEqual({ calls: 1, started: 0, cps: 1 })
    expect(calls(ledger, 'b')).toBe(0)
    expect(ledger.sweep(999)).toBe(0)
    expect(calls(ledger, 'a', 999)).toBe(1)
    expect(ledger.sweep(1000)).toBe(1)
    expect(calls(ledger, 'a', 1000)).toBe(0)
  })

  it('a started call lives until the maximum duration, not the lease TTL', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', via('a'), TIMES, 0)
    ledger.start(P, 'c1', null, false, TIMES, 500)
    ledger.sweep(5000)
    expect(ledger.gateway(P, 'a', 5000)).toMatchObject({ calls: 1, started: 1 })
    ledger.sweep(10_500)
    expect(calls(ledger, 'a', 10_500)).toBe(0)
  })

  it('an end frees the gateway at once', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', via('a'), TIMES, 0)
    ledger.start(P, 'c1', 'a', true, TIMES, 10)
    ledger.end(P, 'c1', TIMES, 20)
    expect(calls(ledger, 'a', 20)).toBe(0)
  })

  it('failover feedback moves the lease to the next route, and ends it after the last', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', [{ gateway: 'a', carrier: '' }, { gateway: 'b', carrier: 'cr' }], TIMES, 0)
    ledger.failover(P, 'c1', 'b', TIMES, 1) // not the leased gateway: nothing moves
    expect(calls(ledger, 'a')).toBe(1)
    ledger.failover(P, 'c1', 'a', TIMES, 2)
    expect([calls(ledger, 'a'), calls(ledger, 'b'), ledger.carrier(P, 'cr', 2)?.calls]).toEqual([0, 1, 1])
    ledger.failover(P, 'c1', 'b', TIMES, 3)
    expect([calls(ledger, 'b'), ledger.carrier(P, 'cr', 3)?.calls]).toEqual([0, 0])
    expect(ledger.takeBatch()?.ends).toEqual([{ partition: P, callId: 'c1', at: 3, until: 1003 }])
  })

  it('a start naming another gateway of the list moves the call there', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', via('a', 'b'), TIMES, 0)
    ledger.start(P, 'c1', 'b', true, TIMES, 5)
    expect([calls(ledger, 'a'), ledger.gateway(P, 'b', 5)]).toEqual([0, { calls: 1, started: 1, cps: 0 }])
  })

  it('the same Call-ID offered again replaces its lease instead of counting twice', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', via('a'), TIMES, 0)
    ledger.offer(P, 'c1', via('b'), TIMES, 1)
    expect([calls(ledger, 'a'), calls(ledger, 'b')]).toEqual([0, 1])
    expect(ledger.takeBatch()?.offers.map((r) => r.gateway)).toEqual(['b'])
  })

  it('counts new calls per second over a sliding second', () => {
    const ledger = createCallLedger()
    for (let i = 0; i < 5; i++) ledger.offer(P, `c${i}`, via('a'), TIMES, i * 100)
    expect(ledger.gateway(P, 'a', 450)?.cps).toBe(5)
    expect(ledger.gateway(P, 'a', 1050)?.cps).toBe(4)
    expect(ledger.gateway(P, 'a', 1450)?.cps).toBe(0)
  })
})

describe('sync arithmetic', () => {
  const shared = (entries: Array<[string, SharedCount]>): Map<string, SharedCount> => new Map(entries)

  it('shows the cluster count plus what is still on its way to the database, never twice', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'mine', via('a'), TIMES, 0)
    const batch = ledger.takeBatch()
    expect(batch?.offers).toHaveLength(1)
    ledger.offer(P, 'later', via('a'), TIMES, 1)
    expect(calls(ledger, 'a', 1)).toBe(2) // inflight 1 + pending 1
    // The read after the flush has this instance's first call and another instance's call.
    ledger.applyShared(shared([[sharedKey(P, 'gateway', 'a'), { calls: 2, started: 0, othersCps: 1 }]]))
    expect(ledger.gateway(P, 'a', 2)).toEqual({ calls: 3, started: 0, cps: 3 })
  })

  it('a failed flush keeps the events and their counts for the next one', () => {
    const ledger = createCallLedger()
    ledger.offer(P, 'c1', via('a'), TIMES, 0)
    const batch = ledger.takeBatch()
    ledger.end(P, 'other', TIMES, 1)
    if (batch === undefined) throw new Error('no batch')
    ledger.restoreBatch(batch)
    expect(calls(ledger, 'a', 1)).toBe(1)
    const again = ledger.takeBatch()
    expect(again?.offers.map((r) => r.callId)).toEqual(['c1'])
    expect(again?.ends.map((e) => e.callId)).toEqual(['other'])
  })

  it('while the database is away, its own calls stay exact: offers, ends and expiry', () => {
    const ledger = createCallLedger()
    ledger.applyShared(shared([[sharedKey(P, 'gateway', 'a'), { calls: 3, started: 3, othersCps: 0 }]]))
    for (const id of ['x', 'y', 'z']) ledger.offer(P, id, via('a'), TIMES, 0)
    let batch = ledger.takeBatch()
    if (batch !== undefined) ledger.restoreBatch(batch)
    expect(calls(ledger, 'a')).toBe(6)
    ledger.end(P, 'x', TIMES, 10)
    ledger.sweep(2000) // y and z expire
    batch = ledger.takeBatch()
    if (batch !== undefined) ledger.restoreBatch(batch)
    expect(calls(ledger, 'a', 2000)).toBe(3)
  })
})

describe('the decision reads the ledger', () => {
  const limitedTable = table({
    gateways: [gateway('gw1', '10.0.0.1', { max_calls: 3 }), gateway('gw2', '10.0.0.2', { max_cps: 2 }), gateway('gw3', '10.0.0.3')],
    rules: [rule(1, '44', ['gw1', 'gw2', 'gw3'])]
  })
  const viewOf = (ledger: ReturnType<typeof createCallLedger>, now: number): GatewayHealthView => ({
    stateOf: () => undefined,
    gatewayUsage: (id) => ledger.gateway(P, id, now),
    carrierUsage: (id) => ledger.carrier(P, id, now)
  })

  it('a burst of offers never exceeds max_calls or max_cps: later calls go to the next gateway', () => {
    const ledger = createCallLedger()
    const firsts: string[] = []
    for (let i = 0; i < 10; i++) {
      const decision = decideRoutes(limitedTable, viewOf(ledger, 0), query({ callId: `burst-${i}` }), NOON_WEDNESDAY)
      if (decision.outcome !== 'routed') throw new Error(decision.outcome)
      firsts.push(decision.routes[0]?.gatewayId ?? '')
      ledger.offer(P, `burst-${i}`, decision.routes.map((r) => ({ gateway: r.gatewayId, carrier: r.carrier?.id ?? '' })), TIMES, 0)
    }
    expect(firsts).toEqual(['gw1', 'gw1', 'gw1', 'gw2', 'gw2', 'gw3', 'gw3', 'gw3', 'gw3', 'gw3'])
    // A second later gw2's rate has room again; gw1 is still full until calls end.
    const next = decideRoutes(limitedTable, viewOf(ledger, 1000), query({ callId: 'next' }), NOON_WEDNESDAY)
    expect(next.outcome === 'routed' && next.routes.map((r) => r.gatewayId)).toEqual(['gw2', 'gw3'])
  })

  it('answers no_capacity when the matched rule has only full targets, no_destination when they are down', () => {
    const t = table({ gateways: [gateway('gw1', '10.0.0.1', { max_calls: 1 }), gateway('gw2', '10.0.0.2')], rules: [rule(1, '', ['gw1', 'gw2'])] })
    const ledger = createCallLedger()
    ledger.offer(P, 'busy', via('gw1'), TIMES, 0)
    const full: GatewayHealthView = { ...viewOf(ledger, 0), stateOf: (id) => (id === 'gw2' ? 'down' : undefined) }
    const decision = decideRoutes(t, full, query(), NOON_WEDNESDAY, { trace: true })
    expect(decision.outcome).toBe('no_capacity')
    expect(decision.trace?.targets.map((x) => [x.gateway, x.verdict])).toEqual([['gw1', 'at_capacity'], ['gw2', 'down']])
    ledger.end(P, 'busy', TIMES, 1)
    const down: GatewayHealthView = { stateOf: () => 'down' }
    expect(decideRoutes(t, down, query(), NOON_WEDNESDAY).outcome).toBe('no_destination')
  })

  it('a full rule with fallback lets a shorter prefix route', () => {
    const t = table({
      gateways: [gateway('gw1', '10.0.0.1', { max_calls: 1 }), gateway('gw2', '10.0.0.2')],
      rules: [rule(1, '44', ['gw1'], { fallback: true }), rule(2, '', ['gw2'])]
    })
    const ledger = createCallLedger()
    ledger.offer(P, 'busy', via('gw1'), TIMES, 0)
    const decision = decideRoutes(t, viewOf(ledger, 0), query(), NOON_WEDNESDAY)
    expect(decision.outcome === 'routed' && [decision.ruleId, decision.routes[0]?.gatewayId]).toEqual([2, 'gw2'])
  })

  it('a carrier at its own limit is skipped as a whole', () => {
    const t = table({
      gateways: gateways(3),
      carriers: [carrier('cr', ['gw1', 'gw2'], { max_calls: 1 })],
      rules: [rule(1, '', ['#cr', 'gw3'])]
    })
    const ledger = createCallLedger()
    ledger.offer(P, 'one', [{ gateway: 'gw1', carrier: 'cr' }], TIMES, 0)
    const decision = decideRoutes(t, viewOf(ledger, 0), query(), NOON_WEDNESDAY, { trace: true })
    expect(decision.outcome === 'routed' && decision.routes.map((r) => r.gatewayId)).toEqual(['gw3'])
    expect(decision.trace?.targets[0]).toEqual({ ruleId: 1, carrier: 'cr', verdict: 'at_capacity' })
  })
})

describe('least_loaded', () => {
  const t = table({
    gateways: [gateway('big', '10.0.0.1', { max_calls: 100 }), gateway('small', '10.0.0.2', { max_calls: 10 }), gateway('free', '10.0.0.3')],
    rules: [rule(1, '', ['small', 'big'], { sort: 'least_loaded' }), rule(2, '1', ['small', 'big', 'free'], { sort: 'least_loaded' })]
  })
  const usage = (counts: Record<string, number>): GatewayHealthView => ({
    stateOf: () => undefined,
    gatewayUsage: (id) => (counts[id] === undefined ? undefined : { calls: counts[id] as number, cps: 0 })
  })
  const order = (view: GatewayHealthView, callId: string, number = '4420'): string[] => {
    const d = decideRoutes(t, view, query({ callId, requestUri: `sip:${number}@sbc` }), NOON_WEDNESDAY)
    return d.outcome === 'routed' ? d.routes.map((r) => r.gatewayId) : [d.outcome]
  }

  it('orders by relative free capacity, not by absolute free channels', () => {
    // big: 40/100 used (60 % free); small: 3/10 used (70 % free) → small first although big has more channels free.
    expect(order(usage({ big: 40, small: 3 }), 'x')).toEqual(['small', 'big'])
    expect(order(usage({ big: 20, small: 3 }), 'x')).toEqual(['big', 'small'])
  })

  it('an unlimited gateway counts as entirely free', () => {
    expect(order(usage({ big: 1, small: 0 }), 'x', '1555')[0]).toMatch(/small|free/)
    expect(order(usage({ big: 1, small: 1 }), 'x', '1555')[0]).toBe('free')
  })

  it('breaks ties by the Call-ID: spread over calls, stable per call', () => {
    const idle = usage({})
    const firsts = new Map<string, number>()
    for (let i = 0; i < 2000; i++) {
      const first = order(idle, `tie-${i}`)[0] as string
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    expect(firsts.get('small')).toBeGreaterThan(900)
    expect(firsts.get('big')).toBeGreaterThan(900)
    expect(order(idle, 'same')).toEqual(order(idle, 'same'))
  })

  it('fills gateways in proportion to their size under sustained offers', () => {
    const ledger = createCallLedger()
    const view: GatewayHealthView = { stateOf: () => undefined, gatewayUsage: (id) => ledger.gateway(P, id, 0) }
    const firsts: string[] = []
    for (let i = 0; i < 55; i++) {
      const d = decideRoutes(t, view, query({ callId: `fill-${i}` }), NOON_WEDNESDAY)
      if (d.outcome !== 'routed') throw new Error(d.outcome)
      firsts.push(d.routes[0]?.gatewayId ?? '')
      ledger.offer(P, `fill-${i}`, via(...d.routes.map((r) => r.gatewayId)), TIMES, 0)
    }
    expect(firsts.filter((g) => g === 'big')).toHaveLength(50)
    expect(firsts.filter((g) => g === 'small')).toHaveLength(5)
    expect((ledger.gateway(P, 'big', 0)?.calls ?? 0) / 100).toBeCloseTo((ledger.gateway(P, 'small', 0)?.calls ?? 0) / 10, 1)
  })
})
