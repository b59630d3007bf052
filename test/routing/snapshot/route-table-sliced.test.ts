import { type CompileResult, type RulePage } from '../../../src/routing/snapshot/compiled.js'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { dataChecksum } from '../../../src/routing/snapshot/data-checksum.js'
import { compileRouteTableFromPages } from '../../../src/routing/snapshot/route-table.js'
import { compileRouteTable } from '../compile.js'
import type { PartitionData, RuleData } from '../../../src/routing/routing-data.schema.js'
import { runAtOnce, runInSlices, type Steps } from '../../../src/routing/snapshot/slices.js'
import { pageOf } from '../../helpers/row-hash.js'
import { callerGroup, carrier, gateway, gateways, partitionData, rule, type DataParts } from '../fixtures.js'

const meta = { partition: 'p1', version: 3 }

/** A partition big enough that the sliced compile gives the loop many turns. */
function generated (rules: number): PartitionData {
  const zones = [null, { timezone: 'Europe/London', weekly: [{ days: ['mon' as const], start: '08:00', end: '18:00' }] }, { timezone: 'UTC', from: '2020-01-01' }]
  return partitionData({
    gateways: gateways(50, { attrs: { branch_flags: 8 } }),
    carriers: [carrier('cr1', ['gw1', 'gw2', ['gw3', 5]], { sort: 'weighted' }), carrier('cr2', ['gw4', 'nope'])],
    rules: Array.from({ length: rules }, (_, i) => rule(i + 1, `+44${i % 997}`, i % 7 === 0 ? ['#cr1', `gw${i % 50 + 1}=${i % 3}`] : [`gw${i % 50 + 1}`, 'ghost'], {
      groups: i % 5 === 0 ? ['default', 'retail'] : ['default'],
      priority: i % 4,
      time_window: zones[i % 3] ?? null,
      attrs: i % 11 === 0 ? { lcr: 'a' } : {},
      max_targets: i % 13 === 0 ? 1 : null
    })),
    callerGroups: [callerGroup('cidr', '10.0.0.0/8', 'retail'), callerGroup('from_domain', 'example.com', 'retail'), callerGroup('cidr', 'bad', 'x')]
  })
}

const fixtures: Array<[string, DataParts]> = [
  ['empty', {}],
  ['discards and problems', {
    gateways: [gateway('gw1'), gateway('gw2', 'not a host!'), gateway('gw1', '10.9.9.9')],
    carriers: [carrier('cr1', ['gw1', 'nope', 'gw1']), carrier('cr2', ['ghost'])],
    rules: [rule(1, '44', ['gw1', '#cr1']), rule(2, 'x4', ['gw1']), rule(3, '33', ['ghost', '#cr2']), rule(1, '44', ['gw1']), rule(4, '', ['gw1'], { groups: [] })]
  }]
]

/** The data as a snapshot read gives it: the head, then the rules in pages of `size` with their text. */
async function * pagesOf (rules: readonly RuleData[], size: number): AsyncGenerator<RulePage> {
  for (let i = 0; i < rules.length; i += size) {
    const page = rules.slice(i, i + size)
    yield pageOf(page)
  }
}

const fromPages = async (data: PartitionData, size: number, sliceMs?: number): Promise<CompileResult> => {
  const { rules, ...head } = data
  return await compileRouteTableFromPages(head, pagesOf(rules, size), meta, sliceMs)
}

const withoutChecksum = (result: CompileResult & { state?: unknown }): unknown => {
  const { state: _state, ...compiled } = result
  return { ...compiled, table: { ...compiled.table, checksum: '' } }
}

describe('compileRouteTableFromPages', () => {
  it.each(fixtures)('builds the same table as compileRouteTable: %s', async (_, parts) => {
    const data = partitionData(parts)
    expect(withoutChecksum(await fromPages(data, 2, 0))).toEqual(withoutChecksum(compileRouteTable(data, meta)))
  })

  it('builds the same table, page after page, while the event loop keeps turning', async () => {
    const data = generated(3000)
    let turns = 0
    let ticking = true
    const tick = (): void => { if (ticking) { turns++; setImmediate(tick) } }
    setImmediate(tick)
    const paged = await fromPages(data, 700, 1)
    ticking = false
    expect(withoutChecksum(paged)).toEqual(withoutChecksum(compileRouteTable(data, meta)))
    expect(paged.counts.rules).toEqual({ loaded: 3000, discarded: 0 })
    expect(turns).toBeGreaterThan(2)
  })

  it('sums the rows\' hashes: the same rows give the same checksum, however paged or ordered; another row another', async () => {
    const data = generated(50)
    const { rules, ...head } = data
    const once = (await fromPages(data, 50)).table.checksum
    async function * split (): AsyncGenerator<RulePage> {
      yield pageOf(rules.slice(20))
      yield pageOf(rules.slice(0, 20).reverse())
    }
    expect((await compileRouteTableFromPages(head, split(), meta)).table.checksum).toBe(once)
    const changed = { ...data, rules: rules.map((r) => (r.id === 7 ? { ...r, description: 'changed' } : r)) }
    expect((await fromPages(changed, 50)).table.checksum).not.toBe(once)
    const otherGateway = { ...data, gateways: data.gateways.map((g) => (g.id === 'gw9' ? { ...g, fr_timer: 5000 } : g)) }
    expect((await fromPages(otherGateway, 50)).table.checksum).not.toBe(once)
  })
})

describe('slices', () => {
  function * counting (n: number): Steps<number> {
    for (let i = 0; i < n; i++) yield
    return n
  }

  it('runs steps at once or in slices to the same value', async () => {
    expect(runAtOnce(counting(5))).toBe(5)
    expect(await runInSlices(counting(5), 0)).toBe(5)
  })
})

/** The checksum line of a rule before it was built by hand: JSON.stringify of a field object. */
const referenceLine = (r: RuleData): string => JSON.stringify({
  id: r.id,
  groups: r.groups,
  prefix: r.prefix,
  priority: r.priority,
  time_window: r.time_window === null ? null : canonicalRef(r.time_window),
  targets: r.targets.map((t) => ('gateway' in t ? ['g', t.gateway, t.weight ?? 1] : ['c', t.carrier, t.weight ?? 1])),
  sort: r.sort,
  max_targets: r.max_targets,
  fallback: r.fallback,
  attrs: canonicalRef(r.attrs),
  enabled: r.enabled,
  description: r.description
})

function canonicalRef (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalRef).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalRef(record[k])}`).join(',')}}`
}

describe('dataChecksum of rules', () => {
  // Only rules differ, so equal sums for equal rule lines and a changed sum for a changed line prove the lines equal.
  const withRules = (rules: RuleData[]): PartitionData => partitionData({ gateways: gateways(1), rules })

  it.each([
    ['plain', rule(1, '44', ['gw1'])],
    ['quotes, unicode and escapes', rule(2, '+33', ['#c"r\u00e9', 'gw\n1=7'], { description: 'a "b" \\ \u2028 é', attrs: { z: [1, { y: null }], a: 'x' }, groups: ['g"1', 'é'] })],
    ['a window and limits', rule(3, '', ['gw1=0'], { time_window: { until: '2030-01-01', timezone: 'UTC' }, max_targets: 2, fallback: true, enabled: false, priority: -5 })],
    ['missing fields take the generic path', { ...rule(4, '1', ['gw1']), description: undefined as unknown as string, max_targets: undefined as unknown as null }],
    ['non-finite numbers', rule(5, '1', ['gw1'], { priority: Number.NaN, max_targets: Number.POSITIVE_INFINITY })]
  ])('hashes %s exactly as JSON.stringify of the fields', (_, r) => {
    const data = withRules([r])
    const reference = createReferenceChecksum(data)
    expect(dataChecksum(data)).toBe(reference)
  })
})

// The former dataChecksum, rules part by referenceLine; the other parts are unchanged code paths.
function createReferenceChecksum (data: PartitionData): string {
  const hash = createHash('sha256')
  hash.update(canonicalRef(data.partition))
  const g = data.gateways.map((x) => JSON.stringify({ id: x.id, address: x.address, strip: x.strip, prefix: x.prefix, socket: x.socket, attrs: canonicalRef(x.attrs), probe_mode: x.probe_mode, weight: x.weight, fr_timer: x.fr_timer, fr_inv_timer: x.fr_inv_timer, max_calls: x.max_calls, max_cps: x.max_cps, enabled: x.enabled, description: x.description }))
  hash.update(`\ngateways${g.map((l) => `\n${l}`).join('')}`)
  hash.update('\ncarriers')
  hash.update(`\nrules${data.rules.map((r) => `\n${referenceLine(r)}`).join('')}`)
  hash.update('\ncaller_groups')
  return hash.digest('hex')
}
