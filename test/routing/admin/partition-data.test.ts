import { describe, expect, it } from 'vitest'
import { DEMO_DATA } from '../../../src/routing/admin/demo.js'
import { canonical } from '../../../src/routing/snapshot/data-checksum.js'
import { diffPartitionData, pathOf, summariseDiff, validatePartitionData } from '../../../src/routing/admin/partition-data.js'
import type { PartitionData } from '../../../src/routing/routing-data.schema.js'

const doc = (over: Record<string, unknown> = {}) => ({
  gateways: [{ id: 'gw1', address: '10.0.0.1:5060' }, { id: 'gw2', address: 'sip:10.0.0.2;transport=tcp' }],
  carriers: [{ id: 'cr1', gateways: [{ gateway: 'gw1' }, { gateway: 'gw2', weight: 3 }] }],
  rules: [{ groups: ['default'], id: 7, prefix: '44', targets: [{ carrier: 'cr1' }, { gateway: 'gw2' }] }],
  caller_groups: [{ kind: 'cidr', value: '10.1.0.0/16', group: 'premium' }],
  ...over
})

describe('validatePartitionData', () => {
  it('fills every default', () => {
    const { data, problems } = validatePartitionData(doc())
    expect(problems).toEqual([])
    expect(data.gateways[0]).toEqual({
      id: 'gw1',
      address: '10.0.0.1:5060',
      strip: 0,
      prefix: '',
      socket: '',
      attrs: {},
      probe_mode: 'never',
      weight: 1,
      fr_timer: null,
      fr_inv_timer: null,
      max_calls: null,
      max_cps: null,
      enabled: true,
      description: ''
    })
    expect(data.carriers[0]?.gateways).toEqual([{ gateway: 'gw1', weight: 1 }, { gateway: 'gw2', weight: 3 }])
    expect(data.rules[0]).toMatchObject({ id: 7, groups: ['default'], priority: 0, time_window: null, sort: 'ordered', max_targets: null, fallback: false })
    expect(data.partition).toEqual({ default_group: 'default', extra_prefix_chars: '', description: '', settings: {} })
  })

  it('reports every schema problem with its path, not only the first', () => {
    const { problems } = validatePartitionData(doc({
      gateways: [{ id: 'gw1', address: '10.0.0.1', colour: 'red' }, { id: 'bad id!', address: 'x' }],
      rules: [{ groups: ['default'], prefix: '44 a', targets: [] }]
    }))
    expect(problems).toEqual(expect.arrayContaining([
      { path: 'gateways[0]', message: 'must not have additional properties (colour)' },
      { path: 'gateways[1].id', message: expect.stringMatching(/must match pattern/) },
      { path: 'rules[0].prefix', message: expect.stringMatching(/must match pattern/) }
    ]))
  })

  it('refuses a rule without groups, naming it, instead of filling in the default group', () => {
    const { problems } = validatePartitionData(doc({ rules: [{ id: 7, prefix: '44', targets: [] }, { groups: ['default'], prefix: '4', targets: [] }] }))
    expect(problems).toEqual([{ path: 'rules[0].groups', message: expect.stringMatching(/^required \(rule 7\): name the caller groups/) }])
  })

  it('checks rule prefixes against the partition\'s extra_prefix_chars', () => {
    const rules = [{ groups: ['default'], id: 1, prefix: '*100#', targets: [] }, { groups: ['default'], id: 2, prefix: '+44', targets: [] }]
    expect(validatePartitionData(doc({ partition: { extra_prefix_chars: '*#' }, rules })).problems).toEqual([])
    expect(validatePartitionData(doc({ rules })).problems).toEqual([
      { path: 'rules[0].prefix', message: 'prefix "*100#" holds "*" at position 1: a prefix holds only digits after an optional + (rule 1)' }
    ])
    expect(validatePartitionData(doc({ partition: { extra_prefix_chars: '<' }, rules: [] })).problems).toEqual([
      { path: 'partition.extra_prefix_chars', message: expect.stringMatching(/must match pattern/) }
    ])
  })

  it('reports every semantic problem with its path', () => {
    const { problems } = validatePartitionData(doc({
      gateways: [{ id: 'gw1', address: 'sip:bad host' }, { id: 'gw1', address: '10.0.0.3:70000' }],
      carriers: [{ id: 'cr1', gateways: [{ gateway: 'gw9' }] }],
      rules: [
        { groups: ['default'], id: 1, targets: [{ gateway: 'gw7' }, { carrier: 'cr5' }], time_window: { timezone: 'Mars/Olympus', weekly: [{ days: ['mon'], start: '18:00', end: '08:00' }] } },
        { groups: ['default'], id: 1, targets: [], time_window: { timezone: 'UTC', from: '2026-12-31', until: '2026-01-01' } }
      ],
      caller_groups: [{ kind: 'cidr', value: '10.1.0.0/33', group: 'g' }, { kind: 'from_uri', value: 'no-at-sign', group: 'g' }]
    }))
    expect(problems).toEqual(expect.arrayContaining([
      { path: 'gateways[0].address', message: '"sip:bad host" is not a SIP URI or host[:port]' },
      { path: 'gateways[1].address', message: '"10.0.0.3:70000" has port 70000, expected 1 to 65535' },
      { path: 'gateways[1]', message: 'gateway "gw1" appears twice' },
      { path: 'carriers[0].gateways[0].gateway', message: 'unknown gateway "gw9"' },
      { path: 'rules[0].time_window.timezone', message: 'unknown timezone "Mars/Olympus" (expected an IANA name such as Europe/London)' },
      { path: 'rules[0].time_window.weekly[0]', message: 'ends (08:00) before it starts (18:00); split a window that crosses midnight in two' },
      { path: 'rules[0].targets[0].gateway', message: 'unknown gateway "gw7"' },
      { path: 'rules[0].targets[1].carrier', message: 'unknown carrier "cr5"' },
      { path: 'rules[1].time_window.until', message: 'ends (2026-01-01) before it starts (2026-12-31)' },
      { path: 'rules[1]', message: 'rule id 1 appears twice' },
      { path: 'caller_groups[0].value', message: '"10.1.0.0/33" is not an IPv4 or IPv6 network (a.b.c.d/len)' },
      { path: 'caller_groups[1].value', message: '"no-at-sign" is not user@domain' }
    ]))
  })

  it('accepts the demo data', () => {
    expect(validatePartitionData(DEMO_DATA).problems).toEqual([])
  })

  it('refuses what is not an object', () => {
    expect(validatePartitionData([]).problems).toHaveLength(1)
    expect(validatePartitionData('x').problems[0]?.path).toBe('')
  })
})

describe('diffPartitionData', () => {
  const before = validatePartitionData(doc()).data as PartitionData

  it('names what is added, changed and removed per entity', () => {
    const after = validatePartitionData(doc({
      gateways: [{ id: 'gw1', address: '10.0.0.1:5060', weight: 5 }, { id: 'gw3', address: '10.0.0.3' }],
      carriers: [],
      rules: [{ groups: ['default'], id: 7, prefix: '44', targets: [{ gateway: 'gw1' }] }, { groups: ['default'], prefix: '33', targets: [{ gateway: 'gw3' }] }]
    })).data
    const diff = diffPartitionData(before, after)
    expect(diff.gateways).toEqual({ added: ['gw3'], changed: ['gw1'], removed: ['gw2'] })
    expect(diff.carriers).toEqual({ added: [], changed: [], removed: ['cr1'] })
    expect(diff.rules).toEqual({ added: ['(new)'], changed: ['7'], removed: [] })
    expect(diff.caller_groups).toEqual({ added: [], changed: [], removed: [] })
    expect(summariseDiff(diff)).toBe('gateways +1 ~1 -1, carriers +0 ~0 -1, rules +1 ~1 -0, caller_groups +0 ~0 -0')
  })

  it('finds nothing to change in the same data', () => {
    const diff = diffPartitionData(before, validatePartitionData(doc()).data)
    expect(summariseDiff(diff)).toBe('gateways +0 ~0 -0, carriers +0 ~0 -0, rules +0 ~0 -0, caller_groups +0 ~0 -0')
    expect(diff.partition.changed).toBe(false)
  })

  it('sees everything as added in a new partition', () => {
    expect(diffPartitionData(undefined, before).gateways.added).toEqual(['gw1', 'gw2'])
  })
})

describe('helpers', () => {
  it('turns JSON pointers into field paths', () => {
    expect(pathOf('/rules/3/targets/0/gateway')).toBe('rules[3].targets[0].gateway')
    expect(pathOf('')).toBe('')
  })

  it('serialises canonically whatever the key order', () => {
    expect(canonical({ b: 1, a: [{ d: 2, c: null }] })).toBe(canonical({ a: [{ c: null, d: 2 }], b: 1 }))
  })
})
