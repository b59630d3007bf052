/**
 * Incremental apply against a real PostgreSQL: after seeded random edits through the admin API
 * (rules, gateways, carriers, caller groups, now and then the partition itself), the snapshot the
 * change log brought up to date equals a fresh full load: the same canonical dump of the compiled
 * table and the same checksum. Also: a bulk import and a partition edit fall back to a full
 * reload, and two route tables on one database follow the same edit to the same table.
 */
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app.js'
import { createEventBus } from '../../../src/events.js'
import type { CompiledCarrier, CompiledGateway, CompiledPartition, CompiledRule, CompiledTarget } from '../../../src/routing/snapshot/compiled.js'
import { ruleCount, slotAt } from '../../../src/routing/snapshot/compiled.js'
import { ruleView } from '../../../src/routing/snapshot/rule-store.js'
import { compileRouteTableFromPages } from '../../../src/routing/snapshot/route-table.js'
import { createRouteTables, type RouteTables } from '../../../src/routing/snapshot/route-tables.js'
import { createSnapshotRepository } from '../../../src/routing/snapshot/snapshot.repository.js'
import { RING_SIZES, StatusRegistry } from '../../../src/status/status-registry.js'
import { fakeDeps } from '../../helpers/fake-deps.js'
import { createTestDatabase, type TestDatabase } from '../../helpers/pg.js'

let t: TestDatabase
let app: FastifyInstance

beforeAll(async () => {
  t = await createTestDatabase()
  const deps = fakeDeps()
  app = await buildApp({ registry: deps.registry, externalGroups: deps.externalGroups, db: t.db.kysely })
})
afterAll(async () => {
  await app.close()
  await t.drop()
})

/** mulberry32: the edit sequence is the same on every run. */
function random (seed: number): () => number {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function tables (): RouteTables {
  const group = new StatusRegistry(createEventBus(() => {})).createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
  return createRouteTables({ repository: createSnapshotRepository(t.db.kysely), group, log: pino({ level: 'silent' }), debounceMs: 5 })
}

const inject = async (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object): Promise<{ status: number, body: Record<string, unknown> }> => {
  const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
  return { status: res.statusCode, body: res.body === '' ? {} : res.json() }
}

// A canonical dump: every map in key order, every reference as the id it names, plus whether it
// is the object the table itself holds under that id (an update must not leave a stale one).
const gatewayDump = (g: CompiledGateway): unknown => ({ ...g })
const carrierDump = (c: CompiledCarrier, table: CompiledPartition): unknown =>
  ({ ...c, members: c.members.map((m) => ({ weight: m.weight, hashKey: m.hashKey, gateway: m.gateway.id, current: table.gateways.get(m.gateway.id) === m.gateway })) })
const targetDump = (x: CompiledTarget, table: CompiledPartition): unknown => {
  if (x.kind === 'gateway') return { ...x, gateway: gatewayDump(x.gateway), current: table.gateways.get(x.id) === x.gateway }
  if (x.kind === 'carrier') return { ...x, carrier: x.carrier.id, current: table.carriers.get(x.id) === x.carrier }
  return { ...x }
}
const ruleDump = (r: CompiledRule, table: CompiledPartition): unknown => ({ ...r, targets: r.targets.map((x) => targetDump(x, table)) })
const sorted = <K extends string | number, V>(map: ReadonlyMap<K, V>): Array<[K, V]> => [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))

function dump (table: CompiledPartition): unknown {
  return {
    version: table.version,
    checksum: table.checksum,
    defaultGroup: table.defaultGroup,
    gateways: sorted(table.gateways).map(([, g]) => gatewayDump(g)),
    carriers: sorted(table.carriers).map(([, c]) => carrierDump(c, table)),
    rules: sorted(table.rules).map(([id, slot]) => [id, ruleDump(ruleView(table.store, slot), table)]),
    size: table.rules.size,
    groups: sorted(table.groups).map(([group, index]) => [group, index.maxPrefixLength, index.byPrefix.size,
      sorted(index.byPrefix).map(([prefix, at]) => [prefix, typeof at !== 'number', Array.from({ length: ruleCount(at) }, (_, i) => table.store.id[slotAt(at, i)])])]),
    callers: { fromUri: sorted(table.callers.fromUri), fromDomain: sorted(table.callers.fromDomain), v4: table.callers.v4, v6: table.callers.v6 }
  }
}

async function fullLoad (name: string): Promise<CompiledPartition> {
  const loaded = await createSnapshotRepository(t.db.kysely).snapshot(name, async ({ head, version, names }, pages) =>
    await compileRouteTableFromPages(head, pages, { partition: name, version }, 0, names))
  if (loaded === undefined) throw new Error(`partition ${name} is missing`)
  return loaded.table
}

const served = (tables: RouteTables, name: string): CompiledPartition => {
  const found = tables.lookup(name)
  if (found.state !== 'ready') throw new Error(`partition ${name} is ${found.state}`)
  return found.table
}

const GATEWAYS = 12
const gw = (i: number): string => `gw${i}`
const initial = {
  partition: { default_group: 'default' },
  gateways: Array.from({ length: GATEWAYS }, (_, i) => ({ id: gw(i), address: `10.1.0.${i + 1}:5060`, weight: 1 + (i % 3) })),
  carriers: [0, 1, 2, 3].map((c) => ({ id: `cr${c}`, sort: c % 2 === 0 ? 'weighted' : 'ordered', gateways: [{ gateway: gw(c * 2), weight: 10 }, { gateway: gw(c * 2 + 1), weight: 20 }] })),
  rules: Array.from({ length: 60 }, (_, i) => ({
    id: i + 1,
    prefix: `+4${i % 9}${i % 4 === 0 ? '' : String(i % 7)}`,
    groups: i % 5 === 0 ? ['default', 'retail'] : ['default'],
    priority: i % 3,
    targets: i % 3 === 0 ? [{ carrier: `cr${i % 4}` }, { gateway: gw(i % GATEWAYS) }] : [{ gateway: gw(i % GATEWAYS), weight: 5 }]
  })),
  caller_groups: [{ kind: 'cidr', value: '10.9.0.0/16', group: 'retail' }, { kind: 'from_domain', value: 'pbx.example.com', group: 'retail' }]
}

/** One random edit through the admin API; whether it was refused (4xx) does not matter, the data is what it is. */
async function edit (rnd: () => number, p: string, step: number): Promise<string> {
  const pick = (n: number): number => Math.floor(rnd() * n)
  const r = rnd()
  const target = (): object => (rnd() < 0.3 ? { carrier: `cr${pick(5)}` } : { gateway: gw(pick(GATEWAYS + 2)), weight: pick(50) })
  if (r < 0.45) {
    const id = 1 + pick(70)
    const kind = pick(4)
    if (kind === 0) await inject('DELETE', `/v1/partitions/${p}/rules/${id}`)
    else if (kind === 1) await inject('POST', `/v1/partitions/${p}/rules`, { id, prefix: `+4${pick(10)}${pick(10)}`, targets: [target()], groups: rnd() < 0.2 ? ['wholesale'] : ['default'] })
    else await inject('PATCH', `/v1/partitions/${p}/rules/${id}`, rnd() < 0.5 ? { priority: pick(5), description: `step ${step}`, targets: [target(), target()] } : { prefix: `+4${pick(10)}`, enabled: rnd() < 0.8, groups: rnd() < 0.5 ? ['retail'] : ['default', 'retail'] })
    return `rule ${id}`
  }
  if (r < 0.65) {
    const id = gw(pick(GATEWAYS + 2))
    const kind = pick(3)
    if (kind === 0) await inject('PUT', `/v1/partitions/${p}/gateways/${id}`, { address: `10.2.${step % 250}.${1 + pick(200)}:5060`, weight: pick(10), enabled: rnd() < 0.8 })
    else if (kind === 1) await inject('PATCH', `/v1/partitions/${p}/gateways/${id}`, { strip: pick(3), prefix: rnd() < 0.5 ? '' : '00' })
    else await inject('DELETE', `/v1/partitions/${p}/gateways/${id}`)
    return `gateway ${id}`
  }
  if (r < 0.8) {
    const id = `cr${pick(5)}`
    if (rnd() < 0.8) await inject('PUT', `/v1/partitions/${p}/carriers/${id}`, { sort: rnd() < 0.5 ? 'hash' : 'ordered', gateways: [{ gateway: gw(pick(GATEWAYS)), weight: 1 + pick(9) }, { gateway: gw(pick(GATEWAYS)) }] })
    else await inject('DELETE', `/v1/partitions/${p}/carriers/${id}`)
    return `carrier ${id}`
  }
  if (r < 0.95) {
    const list = await app.inject(`/v1/partitions/${p}/caller-groups`)
    const items = (list.json() as { items: Array<{ id: number }> }).items
    const existing = items[pick(items.length)]
    if (existing === undefined || rnd() < 0.5) await inject('POST', `/v1/partitions/${p}/caller-groups`, { kind: 'from_uri', value: `u${step}@pbx.example.com`, group: rnd() < 0.5 ? 'retail' : 'wholesale' })
    else await inject('DELETE', `/v1/partitions/${p}/caller-groups/${existing.id}`)
    return 'caller group'
  }
  await inject('PATCH', `/v1/partitions/${p}`, { description: `step ${step}` })
  return 'partition'
}

describe('incremental apply of the change log', () => {
  it('after seeded random edits through the admin API, equals a fresh full load (canonical dump and checksum)', async () => {
    expect((await inject('PUT', '/v1/partitions/eq/data', initial)).status).toBe(201)
    const routeTables = tables()
    expect(await routeTables.reload('eq')).toMatchObject({ ok: true, mode: 'full' })
    const rnd = random(20)
    const modes: Record<string, number> = {}
    for (let step = 0; step < 80; step++) {
      const what = [await edit(rnd, 'eq', step)]
      if (rnd() < 0.3) what.push(await edit(rnd, 'eq', step))
      const outcome = await routeTables.reload('eq', 'changes')
      expect(outcome.ok).toBe(true)
      modes[outcome.mode ?? 'none'] = (modes[outcome.mode ?? 'none'] ?? 0) + 1
      const table = served(routeTables, 'eq')
      const fresh = await fullLoad('eq')
      expect(dump(table), `after step ${step}: ${what.join(', ')}`).toEqual(dump(fresh))
    }
    // Partition edits (and only they, in this sequence) are not in the change log: every row is compared.
    expect(modes.incremental).toBeGreaterThan(60)
    expect(modes.full ?? 0).toBe(0)
    expect(modes.verified).toBeGreaterThan(0)
    routeTables.stop()
  })

  it('compares every row after a bulk statement or an edit of the partition row, and reloads in full when its prefix alphabet changes', async () => {
    const rules = Array.from({ length: 1200 }, (_, i) => ({ id: i + 1, prefix: `+33${i}`, groups: ['default'], targets: [{ gateway: 'a' }] }))
    const created = await inject('PUT', '/v1/partitions/bulk/data', { partition: {}, gateways: [{ id: 'a', address: '10.3.0.1:5060' }], carriers: [], rules: rules.slice(0, 10), caller_groups: [] })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const routeTables = tables()
    await routeTables.reload('bulk')
    expect((await inject('PUT', '/v1/partitions/bulk/data', { partition: {}, gateways: [{ id: 'a', address: '10.3.0.1:5060' }], carriers: [], rules, caller_groups: [] })).status).toBe(200)
    // The change log cannot tell (a bulk statement): every row is compared, the 1,190 new ones read.
    expect(await routeTables.reload('bulk', 'changes')).toMatchObject({ ok: true, mode: 'verified' })
    expect(served(routeTables, 'bulk').rules.size).toBe(1200)
    expect(dump(served(routeTables, 'bulk'))).toEqual(dump(await fullLoad('bulk')))
    // The partition row is not in the change log: its edit is found by comparing every row, and
    // only a change of the alphabet the prefixes are checked against compiles every rule again.
    expect((await inject('PATCH', '/v1/partitions/bulk', { default_group: 'retail' })).status).toBe(200)
    expect(await routeTables.reload('bulk', 'changes')).toMatchObject({ ok: true, mode: 'verified' })
    expect(served(routeTables, 'bulk').defaultGroup).toBe('retail')
    expect(dump(served(routeTables, 'bulk'))).toEqual(dump(await fullLoad('bulk')))
    expect((await inject('PATCH', '/v1/partitions/bulk', { extra_prefix_chars: '#' })).status).toBe(200)
    expect(await routeTables.reload('bulk', 'changes')).toMatchObject({ ok: true, mode: 'full' })
    expect(dump(served(routeTables, 'bulk'))).toEqual(dump(await fullLoad('bulk')))
    expect((await inject('PATCH', '/v1/partitions/bulk/rules/7', { prefix: '+339' })).status).toBe(200)
    expect(await routeTables.reload('bulk', 'changes')).toMatchObject({ ok: true, mode: 'incremental' })
    expect(dump(served(routeTables, 'bulk'))).toEqual(dump(await fullLoad('bulk')))
    routeTables.stop()
  })

  it('brings back the rules of a gateway that was unusable once it is fixed, as a full load would', async () => {
    const doc = {
      partition: {},
      gateways: [{ id: 'a', address: '10.4.0.1:5060' }, { id: 'b', address: '10.4.0.2:5060' }],
      carriers: [{ id: 'cb', gateways: [{ gateway: 'b' }] }],
      rules: [{ id: 1, prefix: '+41', groups: ['default'], targets: [{ gateway: 'a' }, { gateway: 'b' }] }, { id: 2, prefix: '+42', groups: ['default'], targets: [{ gateway: 'b' }] }, { id: 3, prefix: '+43', groups: ['default'], targets: [{ carrier: 'cb' }] }],
      caller_groups: []
    }
    expect((await inject('PUT', '/v1/partitions/fix/data', doc)).status).toBe(201)
    const routeTables = tables()
    await routeTables.reload('fix')
    // Written past the API (which would refuse it): the load discards b, so rule 2, carrier cb and rule 3 go, and rule 1 keeps b as unknown.
    await sql`UPDATE gateway SET address = 'not a host!' WHERE gw_id = 'b'`.execute(t.db.kysely)
    expect(await routeTables.reload('fix', 'changes')).toMatchObject({ ok: true, mode: 'incremental', counts: { rules: { loaded: 1, discarded: 2 } } })
    expect(dump(served(routeTables, 'fix'))).toEqual(dump(await fullLoad('fix')))
    expect((await inject('PATCH', '/v1/partitions/fix/gateways/b', { address: '10.4.0.3:5060' })).status).toBe(200)
    expect(await routeTables.reload('fix', 'changes')).toMatchObject({ ok: true, mode: 'incremental', counts: { rules: { loaded: 3, discarded: 0 } } })
    expect(dump(served(routeTables, 'fix'))).toEqual(dump(await fullLoad('fix')))
    routeTables.stop()
  })

  it('keeps the table a decision holds whole while an update builds the next one', async () => {
    const routeTables = tables()
    expect((await inject('POST', '/v1/partitions/eq/rules', { id: 900, prefix: '+4998', groups: ['default'], targets: [{ gateway: 'gw2' }] })).status).toBe(201)
    await routeTables.reload('eq')
    const before = served(routeTables, 'eq')
    const snapshot = dump(before)
    expect((await inject('PUT', '/v1/partitions/eq/rules/900', { prefix: '+4999', priority: 7, groups: ['default'], targets: [{ gateway: 'gw1' }] })).status).toBe(200)
    expect(await routeTables.reload('eq', 'changes')).toMatchObject({ mode: 'incremental' })
    expect(served(routeTables, 'eq')).not.toBe(before)
    expect(dump(before)).toEqual(snapshot)
    routeTables.stop()
  })

  it('gives two instances on one database the same table and checksum after the same edit', async () => {
    const a = tables()
    const b = tables()
    await Promise.all([a.reload('eq'), b.reload('eq')])
    expect((await inject('PATCH', '/v1/partitions/eq/gateways/gw3', { weight: 42 })).status).toBe(200)
    expect((await inject('POST', '/v1/partitions/eq/rules', { id: 500, prefix: '+4777', groups: ['default'], targets: [{ gateway: 'gw3' }] })).status).toBe(201)
    const [oa, ob] = await Promise.all([a.reload('eq', 'changes'), b.reload('eq', 'changes')])
    expect([oa.mode, ob.mode]).toEqual(['incremental', 'incremental'])
    expect(oa.checksum).toBe(ob.checksum)
    expect(dump(served(a, 'eq'))).toEqual(dump(served(b, 'eq')))
    a.stop()
    b.stop()
  })

  it('verifies every row when the change log cannot tell, and ends where a full load ends', async () => {
    expect((await inject('PUT', '/v1/partitions/vfy/data', initial)).status).toBe(201)
    const routeTables = tables()
    expect(await routeTables.reload('vfy')).toMatchObject({ ok: true, mode: 'full' })
    // Nothing changed: every row compared, none read.
    expect(await routeTables.reload('vfy', 'verify')).toMatchObject({ ok: true, mode: 'verified' })
    expect(dump(served(routeTables, 'vfy'))).toEqual(dump(await fullLoad('vfy')))
    const rnd = random(7)
    for (let round = 0; round < 6; round++) {
      const what: string[] = []
      for (let i = 0; i < 6; i++) what.push(await edit(rnd, 'vfy', round * 10 + i))
      // Rules written past the API too: one changed, one deleted, one added.
      await sql`UPDATE rule SET priority = priority + 1 WHERE partition_id = (SELECT id FROM partition WHERE name = 'vfy') AND id = ${String(2 + round)}`.execute(t.db.kysely)
      await sql`DELETE FROM rule WHERE partition_id = (SELECT id FROM partition WHERE name = 'vfy') AND id = ${String(30 + round)}`.execute(t.db.kysely)
      // The log is gone: the change log cannot tell what changed, the comparison of every row can.
      await sql`DELETE FROM data_change WHERE partition_id = (SELECT id FROM partition WHERE name = 'vfy')`.execute(t.db.kysely)
      const outcome = await routeTables.reload('vfy', 'changes')
      expect(outcome.ok).toBe(true)
      const fresh = await fullLoad('vfy')
      expect(outcome.mode, what.join(', ')).toBe('verified')
      expect(dump(served(routeTables, 'vfy')), `round ${round}: ${what.join(', ')}`).toEqual(dump(fresh))
    }
    routeTables.stop()
  })

  it('keeps the partition\'s extra prefix characters when a gateway edit recompiles the rules that use it', async () => {
    const doc = {
      partition: { extra_prefix_chars: '#*' },
      gateways: [{ id: 'a', address: '10.5.0.1:5060' }],
      carriers: [],
      rules: [{ id: 1, prefix: '*100#', groups: ['default'], targets: [{ gateway: 'a' }] }, { id: 2, prefix: '+44', groups: ['default'], targets: [{ gateway: 'a' }] }],
      caller_groups: []
    }
    expect((await inject('PUT', '/v1/partitions/xpc/data', doc)).status).toBe(201)
    const routeTables = tables()
    await routeTables.reload('xpc')
    expect((await inject('PATCH', '/v1/partitions/xpc/gateways/a', { address: '10.5.0.2:5060' })).status).toBe(200)
    expect(await routeTables.reload('xpc', 'changes')).toMatchObject({ ok: true, mode: 'incremental', counts: { rules: { loaded: 2, discarded: 0 } } })
    expect(dump(served(routeTables, 'xpc'))).toEqual(dump(await fullLoad('xpc')))
    routeTables.stop()
  })
})
