import { describe, expect, it } from 'vitest'
import { formatDroutingCounts, mapDrouting, type DroutingNote } from '../../../src/routing/admin/drouting-map.js'
import { parseDestinationList, parseGroupList, type DrCarrierRow, type DrGatewayRow, type DrRuleRow, type DroutingTables } from '../../../src/routing/admin/drouting-tables.js'
import { validatePartitionData } from '../../../src/routing/admin/partition-data.js'

const gw = (gwid: string, over: Partial<DrGatewayRow> = {}): DrGatewayRow => ({
  id: 1, gwid, type: 0, address: '10.0.0.1:5060', strip: 0, pri_prefix: null, attrs: null, probe_mode: 0, state: 0, socket: null, description: null, ...over
})
const cr = (carrierid: string, gwlist: string, over: Partial<DrCarrierRow> = {}): DrCarrierRow => ({
  id: 1, carrierid, gwlist, flags: 0, sort_alg: 'N', state: 0, attrs: null, description: null, ...over
})
const rl = (ruleid: number, prefix: string, gwlist: string | null, over: Partial<DrRuleRow> = {}): DrRuleRow => ({
  ruleid, groupid: '1', prefix, timerec: null, priority: 0, routeid: null, gwlist, sort_alg: 'N', sort_profile: null, attrs: null, description: null, ...over
})
const OPTIONS = { extraPrefixChars: '', defaultGroup: 'default', description: 'imported' }
const map = (tables: Partial<DroutingTables>, options = OPTIONS) => mapDrouting({ gateways: [], carriers: [], rules: [], groups: [], ...tables }, options)
const noteOf = (notes: DroutingNote[], row: string) => notes.filter((n) => n.row === row).map((n) => `${n.column} ${n.decision}${n.lossy ? '' : ' (as drouting)'}`)

describe('drouting list syntaxes', () => {
  it.each([
    ['1', [1]], ['1,2', [1, 2]], ['1|2', [1, 2]], [' 3 , 4 ', [3, 4]], ['7,', [7]]
  ])('groupid %j → %j', (text, groups) => { expect(parseGroupList(text)).toEqual(groups) })

  it.each(['', 'a', '1;2', '1,,2'])('groupid %j is refused, as add_rule refuses it', (text) => { expect(typeof parseGroupList(text)).toBe('string') })

  it('parses gwlists with carriers, weights, both separators and spaces', () => {
    expect(parseDestinationList('gw1=10, #cr2 |gw_3.x-y = 5')).toEqual([
      { carrier: false, id: 'gw1', weight: 10 }, { carrier: true, id: 'cr2', weight: 0 }, { carrier: false, id: 'gw_3.x-y', weight: 5 }
    ])
    expect(typeof parseDestinationList('gw1;gw2')).toBe('string')
    expect(typeof parseDestinationList('gw1=x')).toBe('string')
  })
})

describe('mapDrouting', () => {
  it('maps every column of a gateway, carrier, rule and group, and the result imports as is', () => {
    const { document, notes, counts } = map({
      gateways: [
        gw('gw1', { address: 'sip:10.0.0.1:5060;transport=tcp', strip: 2, pri_prefix: '00', attrs: 'a=1', probe_mode: 2, socket: 'udp:10.0.0.9:5060', description: 'one' }),
        gw('gw2', { state: 1, probe_mode: 1 })
      ],
      carriers: [cr('cr1', 'gw1=10,gw2=30', { flags: 1, sort_alg: 'W', attrs: 'c=1', description: 'carrier' }), cr('cr2', 'gw2', { state: 1 })],
      rules: [rl(7, '44', 'gw1=3,#cr1=1', { groupid: '1,2', priority: 5, sort_alg: 'W', attrs: 'r=1', description: 'uk', timerec: '20260101T080000|20260101T180000||weekly' })],
      groups: [{ id: 1, username: 'alice', domain: 'Example.COM', groupid: 2, description: 'vip' }]
    })
    expect(document.gateways).toEqual([
      { id: 'gw1', address: 'sip:10.0.0.1:5060;transport=tcp', strip: 2, prefix: '00', socket: 'udp:10.0.0.9:5060', attrs: { dr_attrs: 'a=1' }, probe_mode: 'always', enabled: true, description: 'one' },
      { id: 'gw2', address: '10.0.0.1:5060', strip: 0, prefix: '', socket: '', attrs: {}, probe_mode: 'when_down', enabled: false, description: '' }
    ])
    expect(document.carriers).toEqual([
      { id: 'cr1', sort: 'weighted', first_only: true, enabled: true, attrs: { dr_attrs: 'c=1' }, description: 'carrier', gateways: [{ gateway: 'gw1', weight: 10 }, { gateway: 'gw2', weight: 30 }] },
      { id: 'cr2', sort: 'ordered', first_only: false, enabled: false, attrs: {}, description: '', gateways: [{ gateway: 'gw2', weight: 0 }] }
    ])
    expect(document.rules).toEqual([{
      id: 7,
      groups: ['1', '2'],
      prefix: '44',
      priority: 5,
      timerec: '20260101T080000|20260101T180000||weekly',
      targets: [{ gateway: 'gw1', weight: 3 }, { carrier: 'cr1', weight: 1 }],
      sort: 'weighted',
      attrs: { dr_attrs: 'r=1' },
      description: 'uk'
    }])
    expect(document.caller_groups).toEqual([{ kind: 'from_uri', value: 'alice@example.com', group: '2', description: 'vip' }])
    expect(notes).toEqual([])
    expect(formatDroutingCounts(counts)).toBe('2 gateways loaded (0 discarded), 2 carriers loaded (0 discarded), 1 rules loaded (0 discarded), 1 groups loaded (0 discarded)')
    expect(validatePartitionData(document).problems).toEqual([])
  })

  it('discards what drouting discards, and says so', () => {
    const { document, notes, counts } = map({
      gateways: [gw('gw1'), gw('bad-probe', { probe_mode: 3 }), gw('bad-state', { state: 5 })],
      carriers: [cr('nested', '#other'), cr('badlist', 'gw1;gw2')],
      rules: [rl(1, '44', 'gw1', { groupid: '' }), rl(2, '4a', 'gw1'), rl(3, '+44', 'gw1'), rl(4, '44', 'gw1', { timerec: 'nonsense' }), rl(5, '', 'gw1=x')]
    })
    expect(counts).toMatchObject({ gateways: { loaded: 1, discarded: 2 }, carriers: { loaded: 0, discarded: 2 }, rules: { loaded: 0, discarded: 5 } })
    expect(document.rules).toEqual([])
    expect(noteOf(notes, 'gwid bad-probe')).toEqual(['probe_mode discarded (as drouting)'])
    expect(noteOf(notes, 'carrierid nested')).toEqual(['gwlist discarded (as drouting)'])
    expect(noteOf(notes, 'ruleid 1')).toEqual(['groupid discarded (as drouting)'])
    expect(noteOf(notes, 'ruleid 2')).toEqual(['prefix discarded (as drouting)'])
    // rtroute takes a leading +, drouting does not unless extra_prefix_chars has it.
    expect(noteOf(notes, 'ruleid 3')).toEqual(['prefix discarded (as drouting)'])
    expect(noteOf(notes, 'ruleid 4')).toEqual(['timerec discarded (as drouting)'])
    expect(map({ gateways: [gw('gw1')], rules: [rl(3, '+44', 'gw1')] }, { ...OPTIONS, extraPrefixChars: '+' }).document.rules).toHaveLength(1)
  })

  it('lists what rtroute cannot carry, per row, with the decision taken', () => {
    const { document, notes } = map({
      gateways: [gw('gw1', { type: 3 }), gw('gw2', { state: 2 })],
      carriers: [cr('cr1', 'gw1,gw9,gw1', { flags: 2 | 4, sort_alg: 'Q' })],
      rules: [rl(1, '1', 'gw1,ghost,#cr1', { routeid: 'my_route', sort_alg: 'Q', sort_profile: 4 }), rl(2, '2', 'gw1,gw2', { sort_alg: 'W' })],
      groups: [{ id: 9, username: 'bob', domain: null, groupid: 1, description: null }]
    })
    expect(noteOf(notes, 'gwid gw1')).toEqual(['type adapted'])
    expect(document.gateways[0]?.attrs).toEqual({ dr_type: 3 })
    expect(noteOf(notes, 'gwid gw2')).toEqual(['state adapted'])
    expect(noteOf(notes, 'carrierid cr1')).toEqual(['gwlist not_carried (as drouting)', 'gwlist not_carried', 'flags adapted (as drouting)', 'flags adapted (as drouting)', 'sort_alg adapted (as drouting)'])
    expect(document.carriers[0]).toMatchObject({ enabled: true, first_only: false, sort: 'ordered', gateways: [{ gateway: 'gw1', weight: 0 }] })
    expect(noteOf(notes, 'ruleid 1')).toEqual(['gwlist not_carried (as drouting)', 'routeid not_carried', 'sort_profile not_carried', 'sort_alg not_carried'])
    expect(document.rules[0]).toMatchObject({ sort: 'ordered', targets: [{ gateway: 'gw1', weight: 0 }, { carrier: 'cr1', weight: 0 }] })
    // W over weights all 0: drouting keeps the listed order.
    expect(document.rules[1]).toMatchObject({ sort: 'ordered' })
    expect(noteOf(notes, 'ruleid 2')).toEqual(['sort_alg adapted (as drouting)'])
    expect(noteOf(notes, 'id 9')).toEqual(['domain discarded'])
    expect(validatePartitionData(document).problems).toEqual([])
  })

  it('keeps a rule whose gateways are all unknown, with no targets: drouting stops there with no destination', () => {
    const { document } = map({ rules: [rl(1, '44', 'ghost')] })
    expect(document.rules).toEqual([expect.objectContaining({ id: 1, targets: [] })])
  })
})
