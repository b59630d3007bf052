import { MAX_LISTED_PROBLEMS } from '../../../src/routing/snapshot/compile-rows.js'
import { describe, expect, it } from 'vitest'
import { dataChecksum } from '../../../src/routing/snapshot/data-checksum.js'
import { formatLoadCounts } from '../../../src/routing/snapshot/route-table.js'
import { compileRouteTable, ruleOf, rulesAt } from '../compile.js'
import { callerGroup, carrier, gateway, gateways, partitionData, rule, type DataParts } from '../fixtures.js'

const compile = (parts: DataParts) => compileRouteTable(partitionData(parts), { partition: 'p1', version: 7 })

describe('compileRouteTable: gateways', () => {
  it.each([
    ['10.0.0.1:5060', 'sip:10.0.0.1:5060', 'sip:', '@10.0.0.1:5060'],
    ['10.0.0.1', 'sip:10.0.0.1', 'sip:', '@10.0.0.1'],
    ['sip:GW.Example.COM:5070;transport=TCP', 'sip:gw.example.com:5070;transport=tcp', 'sip:', '@gw.example.com:5070;transport=tcp'],
    ['sips:gw.example.com', 'sips:gw.example.com', 'sips:', '@gw.example.com'],
    ['[2001:DB8::1]:5060', 'sip:[2001:db8::1]:5060', 'sip:', '@[2001:db8::1]:5060']
  ])('address %s → dst_uri %s', (address, dstUri, uriScheme, uriSuffix) => {
    const gw = compile({ gateways: [gateway('gw1', address)] }).table.gateways.get('gw1')
    expect(gw).toMatchObject({ dstUri, uriScheme, uriSuffix })
  })

  it('discards and counts a gateway whose address does not parse, and a repeated id', () => {
    const result = compile({ gateways: [gateway('gw1'), gateway('gw2', 'sip:user@10.0.0.2'), gateway('gw3', 'not a host!'), gateway('gw1', '10.9.9.9')] })
    expect(result.counts.gateways).toEqual({ loaded: 1, discarded: 3 })
    expect([...result.table.gateways.keys()]).toEqual(['gw1'])
    expect(result.table.gateways.get('gw1')?.dstUri).toBe('sip:10.0.0.1:5060')
    expect(result.problems).toEqual([
      { entity: 'gateway', id: 'gw2', message: expect.stringMatching(/^discarded: .*carries a user part/) },
      { entity: 'gateway', id: 'gw3', message: expect.stringMatching(/^discarded: /) },
      { entity: 'gateway', id: 'gw1', message: 'discarded: duplicate id' }
    ])
  })

  it('keeps disabled gateways (loaded, never routed) and reads an integer attrs.branch_flags', () => {
    const result = compile({ gateways: [gateway('gw1', undefined, { enabled: false, attrs: { branch_flags: 8 } }), gateway('gw2', undefined, { attrs: { branch_flags: 'x' } })] })
    expect(result.counts.gateways).toEqual({ loaded: 2, discarded: 0 })
    expect(result.table.gateways.get('gw1')).toMatchObject({ enabled: false, branchFlags: 8 })
    expect(result.table.gateways.get('gw2')?.branchFlags).toBeUndefined()
  })
})

describe('compileRouteTable: values the schema should have stopped', () => {
  it('clamps weights and strip so ordering cannot loop and strip cannot count from the end', () => {
    const { table } = compile({
      gateways: [gateway('gw1', undefined, { strip: -2, weight: -5 }), gateway('gw2', undefined, { weight: 1e9 })],
      carriers: [carrier('cr1', [['gw1', Number.NaN], ['gw2', 2.7]])],
      rules: [rule(1, '44', ['gw1=-3', '#cr1'], { sort: 'weighted', max_targets: -1 })]
    })
    expect(table.gateways.get('gw1')).toMatchObject({ strip: 0, weight: 0 })
    expect(table.gateways.get('gw2')?.weight).toBe(65535)
    expect(table.carriers.get('cr1')?.members.map((m) => m.weight)).toEqual([0, 2])
    expect(ruleOf(table, 1)?.targets[0]?.weight).toBe(0)
    expect(ruleOf(table, 1)?.maxTargets).toBe(0)
  })
})

describe('compileRouteTable: carriers', () => {
  it('drops unknown and repeated members (a problem each) but keeps the carrier', () => {
    const result = compile({ gateways: gateways(2), carriers: [carrier('cr1', ['gw1', 'nope', 'gw1', 'gw2'])] })
    expect(result.counts.carriers).toEqual({ loaded: 1, discarded: 0 })
    expect(result.table.carriers.get('cr1')?.members.map((m) => m.gateway.id)).toEqual(['gw1', 'gw2'])
    expect(result.problems.map((p) => p.message)).toEqual([
      'member "nope" dropped: unknown or discarded gateway',
      'member "gw1" dropped: listed twice'
    ])
  })

  it('discards a carrier none of whose members is usable, and keeps one that is empty by design', () => {
    const result = compile({ gateways: [gateway('gw1', 'bad host!')], carriers: [carrier('cr1', ['gw1', 'ghost']), carrier('cr2', [])] })
    expect(result.counts.carriers).toEqual({ loaded: 1, discarded: 1 })
    expect([...result.table.carriers.keys()]).toEqual(['cr2'])
    expect(result.problems.at(-1)).toEqual({ entity: 'carrier', id: 'cr1', message: 'discarded: none of its gateways is usable' })
  })
})

describe('compileRouteTable: rules', () => {
  const base = { gateways: gateways(2), carriers: [carrier('cr1', ['gw2'])] }

  it.each([
    ['an unknown timezone', rule(1, '44', ['gw1'], { time_window: { timezone: 'Nowhere/City' } }), /unknown timezone "Nowhere\/City"/],
    ['an inverted weekly window', rule(1, '44', ['gw1'], { time_window: { timezone: 'UTC', weekly: [{ days: ['mon'], start: '18:00', end: '08:00' }] } }), /ends \(08:00\) before it starts/],
    ['only unknown targets', rule(1, '44', ['ghost', '#nocarrier']), /every target is unknown or discarded/],
    ['a prefix with letters', rule(1, '44a', ['gw1']), /prefix "44a"/],
    ['no group', rule(1, '44', ['gw1'], { groups: [] }), /names no caller group/]
  ])('discards and counts a rule with %s', (_, bad, message) => {
    const result = compile({ ...base, rules: [bad, rule(2, '33', ['gw1'])] })
    expect(result.counts.rules).toEqual({ loaded: 1, discarded: 1 })
    expect(result.table.rules.has(1)).toBe(false)
    expect(result.problems).toEqual([{ entity: 'rule', id: '1', message: expect.stringMatching(message) }])
  })

  it('discards a rule whose id is past Number.MAX_SAFE_INTEGER (stored before migration 0006): it could stand for a neighbour', () => {
    const result = compile({ ...base, rules: [rule(2 ** 53, '44', ['gw1']), rule(2, '33', ['gw1'])] })
    expect(result.counts.rules).toEqual({ loaded: 1, discarded: 1 })
    expect([...result.table.rules.keys()]).toEqual([2])
    expect(result.problems).toEqual([{ entity: 'rule', id: String(2 ** 53), message: expect.stringMatching(/^discarded: id 9007199254740992 is past 9007199254740991/) }])
  })

  it('keeps a rule with some unknown targets, marking them (the trace names them) and listing a problem', () => {
    const result = compile({ ...base, rules: [rule(1, '44', ['gw1', 'ghost', '#cr1'])] })
    expect(result.counts.rules).toEqual({ loaded: 1, discarded: 0 })
    expect(ruleOf(result.table, 1)?.targets.map((t) => [t.kind, t.id])).toEqual([['gateway', 'gw1'], ['unknown', 'ghost'], ['carrier', 'cr1']])
    expect(result.problems).toEqual([{ entity: 'rule', id: '1', message: 'target gateway "ghost" is unknown or discarded; never routed' }])
  })

  it('discards a repeated rule id, keeping the first', () => {
    const result = compile({ ...base, rules: [rule(1, '44', ['gw1']), rule(1, '33', ['gw2'])] })
    expect(result.counts.rules).toEqual({ loaded: 1, discarded: 1 })
    expect(ruleOf(result.table, 1)?.prefix).toBe('44')
  })

  it('keeps disabled rules in the index (the trace must say "disabled")', () => {
    const result = compile({ ...base, rules: [rule(1, '44', ['gw1'], { enabled: false })] })
    expect(result.counts.rules.loaded).toBe(1)
    expect(rulesAt(result.table, 'default', '44').map((r) => [r.id, r.enabled])).toEqual([[1, false]])
  })

  it('indexes rules per group and prefix, by priority desc then id asc', () => {
    const { table } = compile({
      ...base,
      rules: [
        rule(5, '44', ['gw1'], { priority: 1 }), rule(3, '44', ['gw1'], { priority: 9 }), rule(4, '44', ['gw1'], { priority: 1 }),
        rule(6, '4420', ['gw1'], { groups: ['default', 'vip'] }), rule(7, '', ['gw2'], { groups: ['vip'] })
      ]
    })
    const byPrefix = table.groups.get('default')?.byPrefix
    expect(rulesAt(table, 'default', '44').map((r) => r.id)).toEqual([3, 4, 5])
    // A prefix with one rule holds the rule itself, not a list of one.
    expect(byPrefix?.get('4420')).toBe(table.rules.get(6))
    expect(table.groups.get('default')?.maxPrefixLength).toBe(4)
    expect([...(table.groups.get('vip')?.byPrefix.keys() ?? [])].sort()).toEqual(['', '4420'])
    expect(table.groups.get('vip')?.byPrefix.get('4420')).toBe(byPrefix?.get('4420'))
  })

  it('freezes what it builds', () => {
    const { table } = compile({ ...base, rules: [rule(1, '44', ['gw1']), rule(2, '44', ['gw1'])] })
    expect(Object.isFrozen(table)).toBe(true)
    expect(Object.isFrozen(table.groups.get('default')?.byPrefix.get('44'))).toBe(true)
    expect(Object.isFrozen(table.gateways.get('gw1'))).toBe(true)
  })
})

describe('compileRouteTable: caller groups', () => {
  it('discards and counts unusable or repeated matches', () => {
    const result = compile({
      callerGroups: [
        callerGroup('cidr', '10.0.0.0/8', 'a'), callerGroup('cidr', '10.1.2.3/8', 'b'), callerGroup('cidr', '300.0.0.0/8', 'c'),
        callerGroup('from_uri', 'alice@Example.COM', 'd'), callerGroup('from_uri', 'sip:alice@example.com', 'e'), callerGroup('from_domain', 'bad domain', 'f')
      ]
    })
    expect(result.counts.caller_groups).toEqual({ loaded: 2, discarded: 4 })
    expect(result.problems.map((p) => [p.entity, p.id])).toEqual([
      ['caller_group', 'cidr:10.1.2.3/8'], ['caller_group', 'cidr:300.0.0.0/8'], ['caller_group', 'from_uri:sip:alice@example.com'], ['caller_group', 'from_domain:bad domain']
    ])
    expect(result.table.callers.fromUri.get('alice@example.com')).toBe('d')
  })
})

describe('compileRouteTable: table and accounting', () => {
  it('carries partition, version, default group and a sha256 checksum', () => {
    const { table } = compile({ defaultGroup: 'retail', gateways: gateways(1) })
    expect(table).toMatchObject({ partition: 'p1', version: 7, defaultGroup: 'retail' })
    expect(table.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(table.checksum).toBe(dataChecksum(partitionData({ defaultGroup: 'retail', gateways: gateways(1) })))
  })

  it('takes a checksum the caller already has', () => {
    expect(compileRouteTable(partitionData({}), { partition: 'p1', version: 1, checksum: 'abc' }).table.checksum).toBe('abc')
  })

  it('formats the counts as the drouting report line', () => {
    const { counts } = compile({ gateways: [...gateways(3)], carriers: [carrier('cr1', ['gw1'])], rules: [rule(1, '44', ['gw1']), rule(2, '44', ['ghost'])] })
    expect(formatLoadCounts(counts)).toBe('3 gateways loaded (0 discarded), 1 carriers loaded (0 discarded), 1 rules loaded (1 discarded), 0 caller groups loaded (0 discarded)')
  })

  it('lists at most MAX_LISTED_PROBLEMS problems but counts every discard', () => {
    const bad = Array.from({ length: MAX_LISTED_PROBLEMS + 5 }, (_, i) => gateway(`gw${i}`, 'bad host!'))
    const result = compile({ gateways: bad })
    expect(result.counts.gateways).toEqual({ loaded: 0, discarded: MAX_LISTED_PROBLEMS + 5 })
    expect(result.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1)
    expect(result.problems.at(-1)).toEqual({ entity: 'partition', id: 'p1', message: '5 more problems not listed' })
  })
})

describe('dataChecksum', () => {
  const parts: DataParts = {
    gateways: [gateway('gw1', undefined, { attrs: { a: 1, b: 2 } }), gateway('gw2')],
    carriers: [carrier('cr1', ['gw1', 'gw2'])],
    rules: [rule(1, '44', ['gw1']), rule(2, '33', ['#cr1'], { time_window: { timezone: 'UTC', from: '2026-01-01' } })],
    callerGroups: [callerGroup('cidr', '10.0.0.0/8', 'a'), callerGroup('from_domain', 'example.com', 'b')]
  }
  const sum = dataChecksum(partitionData(parts))

  it('does not depend on row order or key order', () => {
    const shuffled = partitionData({
      gateways: [gateway('gw2'), { ...gateway('gw1'), attrs: { b: 2, a: 1 } }],
      carriers: parts.carriers,
      rules: [rule(2, '33', ['#cr1'], { time_window: { from: '2026-01-01', timezone: 'UTC' } }), rule(1, '44', ['gw1'])],
      callerGroups: [...(parts.callerGroups ?? [])].reverse()
    })
    expect(dataChecksum(shuffled)).toBe(sum)
  })

  it.each([
    ['a gateway weight', { gateways: [gateway('gw1', undefined, { attrs: { a: 1, b: 2 }, weight: 2 }), gateway('gw2')] }],
    ['a carrier member order', { carriers: [carrier('cr1', ['gw2', 'gw1'])] }],
    ['a rule priority', { rules: [rule(1, '44', ['gw1'], { priority: 1 }), rule(2, '33', ['#cr1'], { time_window: { timezone: 'UTC', from: '2026-01-01' } })] }],
    ['a caller group', { callerGroups: [callerGroup('cidr', '10.0.0.0/9', 'a'), callerGroup('from_domain', 'example.com', 'b')] }],
    ['the default group', { defaultGroup: 'other' }]
  ])('changes when %s changes', (_, change) => {
    expect(dataChecksum(partitionData({ ...parts, ...change }))).not.toBe(sum)
  })
})

describe('values the loader shares between rules (frozen)', () => {
  // As rule-pages.ts reads them: one frozen groups array, window, attrs and target list per distinct value.
  const shared = {
    groups: Object.freeze(['default', 'retail']),
    window: Object.freeze({ timezone: 'UTC', weekly: [{ days: ['mon' as const], start: '08:00', end: '18:00' }] }),
    attrs: Object.freeze({ lcr: 'tier1' }),
    targets: Object.freeze([Object.freeze({ gateway: 'gw1', weight: 5 }), Object.freeze({ carrier: 'cr1', weight: 1 }), Object.freeze({ gateway: 'nope', weight: 1 })])
  }
  const rules = (share: boolean) => Array.from({ length: 40 }, (_, i) => {
    const copy = <T>(value: T): T => (share ? value : structuredClone(value))
    return rule(i + 1, `44${i}`, [], {
      groups: copy(shared.groups) as string[],
      time_window: i % 3 === 0 ? copy(shared.window) as never : null,
      attrs: i % 2 === 0 ? copy(shared.attrs) : {},
      targets: i % 5 === 4 ? [{ gateway: 'gw2' }] : copy(shared.targets) as never
    })
  })
  const data = (share: boolean) => partitionData({ gateways: gateways(2), carriers: [carrier('cr1', ['gw1', 'gw2'])], rules: rules(share) })

  it('gives the checksum and the table that unshared copies give', () => {
    const a = compileRouteTable(data(true), { partition: 'p', version: 1 })
    const b = compileRouteTable(data(false), { partition: 'p', version: 1 })
    expect(dataChecksum(data(true))).toBe(dataChecksum(data(false)))
    expect(a.table.checksum).toBe(b.table.checksum)
    expect([...a.table.rules.keys()].map((id) => ruleOf(a.table, id))).toEqual([...b.table.rules.keys()].map((id) => ruleOf(b.table, id)))
    expect(a.problems).toEqual(b.problems)
    expect(a.counts).toEqual(b.counts)
  })
})
