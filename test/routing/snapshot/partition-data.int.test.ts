import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app.js'
import { DEMO_DATA } from '../../../src/routing/admin/demo.js'
import { fakeDeps } from '../../helpers/fake-deps.js'
import { wholePartition } from '../../helpers/partition-document.js'
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

const put = async (partition: string, payload: unknown, query = '') =>
  await app.inject({ method: 'PUT', url: `/v1/partitions/${partition}/data${query}`, payload: payload as object })
const get = async (partition: string) => await app.inject(`/v1/partitions/${partition}/data`)
const version = async (name: string): Promise<number> => {
  const row = await t.db.kysely.selectFrom('partition').select('data_version').where('name', '=', name).executeTakeFirst()
  return Number(row?.data_version ?? 0)
}

describe('PUT/GET /v1/partitions/:partition/data', () => {
  it('creates a partition from a document, and exports it back', async () => {
    const res = await put('demo', DEMO_DATA)
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ dry_run: false, valid: true, created: true, summary: 'gateways +3 ~0 -0, carriers +1 ~0 -0, rules +4 ~0 -0, caller_groups +0 ~0 -0' })
    const exported = (await get('demo')).json()
    expect(exported.gateways.map((g: { id: string }) => g.id)).toEqual(['uk-a', 'uk-b', 'wholesale'])
    expect(exported.carriers[0].gateways).toEqual([{ gateway: 'uk-a', weight: 70 }, { gateway: 'uk-b', weight: 30 }])
    expect(exported.rules.map((r: { id: number, prefix: string }) => [r.id, r.prefix])).toEqual([[1, '+44'], [2, '+4420'], [3, '+33'], [4, '']])
    expect(exported.rules[1].time_window).toEqual(DEMO_DATA.rules?.[1]?.time_window)
  })

  it('export → import → export is byte-for-byte stable, and the re-import changes nothing', async () => {
    const first = await get('demo')
    const again = await put('demo', first.json())
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ created: false, summary: 'gateways +0 ~0 -0, carriers +0 ~0 -0, rules +0 ~0 -0, caller_groups +0 ~0 -0', diff: { partition: { changed: false } } })
    expect((await get('demo')).body).toBe(first.body)
  })

  it('dry-run answers the diff and writes nothing', async () => {
    const before = await version('demo')
    const doc = (await get('demo')).json()
    doc.gateways.push({ ...doc.gateways[0], id: 'uk-c' })
    doc.rules = doc.rules.filter((r: { id: number }) => r.id !== 3)
    doc.gateways[0].weight = 9
    const res = await put('demo', doc, '?dry_run=true')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({
      dry_run: true,
      valid: true,
      diff: { gateways: { added: ['uk-c'], changed: ['uk-a'], removed: [] }, rules: { added: [], changed: [], removed: ['3'] } }
    })
    expect(await version('demo')).toBe(before)
    expect((await get('demo')).json().gateways).toHaveLength(3)
  })

  it('a dry-run of a bad document lists its problems and still writes nothing', async () => {
    const res = await put('demo', { gateways: [{ id: 'x', address: 'sip:bad host' }] }, '?dry_run=true')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ valid: false, problems: [{ path: 'gateways[0].address', message: '"sip:bad host" is not a SIP URI or host[:port]' }] })
  })

  it('refuses a dry_run flag it cannot read, rather than writing', async () => {
    const before = await version('demo')
    const res = await put('demo', { gateways: [] }, '?dry_run=maybe')
    expect(res.statusCode).toBe(400)
    expect(await version('demo')).toBe(before)
  })
})

describe('all or nothing', () => {
  it('a bad row in the middle: 400 naming it, database unchanged', async () => {
    const before = (await get('demo')).body
    const doc = (await get('demo')).json()
    doc.gateways.splice(1, 0, { ...doc.gateways[0], id: 'broken', address: 'sip:10.0.0.1:99999' })
    doc.rules.push({ ...doc.rules[0], id: 99, prefix: '+4 a' })
    const res = await put('demo', doc)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'invalid_data', problems: [{ path: 'rules[4].prefix' }] })
    expect(res.json().message).toMatch(/^1 problem, nothing was written: rules\[4\]\.prefix: must match pattern/)
    const semantic = await put('demo', { ...doc, rules: doc.rules.slice(0, 4) })
    expect(semantic.json().problems).toEqual([{ path: 'gateways[1].address', message: '"sip:10.0.0.1:99999" has port 99999, expected 1 to 65535' }])
    expect((await get('demo')).body).toBe(before)
  })

  it('a failure inside the transaction, after the old rows were deleted, rolls everything back', async () => {
    // A fault injected in the real database: the third rule insert of the import raises.
    await sql`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.description = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`.execute(t.db.kysely)
    await sql`CREATE TRIGGER boom BEFORE INSERT ON rule FOR EACH ROW EXECUTE FUNCTION boom()`.execute(t.db.kysely)
    try {
      const before = (await get('demo')).body
      const versionBefore = await version('demo')
      const doc = JSON.parse(before)
      doc.gateways.push({ ...doc.gateways[0], id: 'new-gw' })
      doc.rules[2].description = 'boom'
      const res = await put('demo', doc)
      expect(res.statusCode).toBe(500)
      expect(res.json()).toEqual({ error: 'internal_error', message: 'internal error' })
      expect((await get('demo')).body).toBe(before)
      expect(await version('demo')).toBe(versionBefore)
    } finally {
      await sql`DROP TRIGGER boom ON rule`.execute(t.db.kysely)
    }
  })

  it('copies a partition under another name with the same rule ids (ids are per partition)', async () => {
    const doc = (await get('demo')).json()
    const res = await put('copy', doc)
    expect(res.statusCode).toBe(201)
    expect((await get('copy')).body).toBe((await get('demo')).body)
  })

  it('rules imported without ids get ids after the highest given', async () => {
    const res = await put('other', {
      partition: {},
      carriers: [],
      caller_groups: [],
      gateways: [{ id: 'g', address: '10.9.9.9' }],
      rules: [{ groups: ['default'], prefix: '1', targets: [{ gateway: 'g' }] }, { groups: ['default'], id: 7, prefix: '2', targets: [{ gateway: 'g' }] }, { groups: ['default'], prefix: '3', targets: [{ gateway: 'g' }] }]
    })
    expect(res.statusCode).toBe(201)
    expect((await get('other')).json().rules.map((r: { id: number, prefix: string }) => [r.id, r.prefix])).toEqual([[7, '2'], [8, '1'], [9, '3']])
  })
})

describe('change notification', () => {
  it('advances data_version and notifies rtroute_data once per import, at commit', async () => {
    const listener = new pg.Client({ connectionString: t.url })
    await listener.connect()
    const payloads: string[] = []
    listener.on('notification', (n) => { payloads.push(n.payload ?? '') })
    await listener.query('LISTEN rtroute_data')
    try {
      const before = await version('demo')
      const doc = (await get('demo')).json()
      doc.gateways[0].description = 'changed'
      expect((await put('demo', doc)).statusCode).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(payloads).toEqual(['demo'])
      expect(await version('demo')).toBeGreaterThan(before)
    } finally {
      await listener.end()
    }
  })

  it('answers 404 for a partition that does not exist', async () => {
    const res = await get('nope')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ error: 'not_found', message: 'partition "nope" not found' })
  })
})

describe('the snapshot read', () => {
  it('gives for every rule what the row mapping gives, across pages, shared values and odd text', async () => {
    const { createPartitionDataRepository } = await import('../../../src/routing/admin/partition-data.repository.js')
    const { ruleFromRow } = await import('../../../src/routing/rows.js')
    const { targetsFromText, RULE_PAGE } = await import('../../../src/routing/snapshot/rule-pages.js')
    const db = t.db.kysely
    await put('paged', wholePartition({ gateways: [{ id: 'g1', address: '192.0.2.1' }, { id: 'g2', address: '192.0.2.2' }], carriers: [{ id: 'c1', gateways: [{ gateway: 'g1' }] }], rules: [] }))
    const pid = (await db.selectFrom('partition').select('id').where('name', '=', 'paged').executeTakeFirstOrThrow()).id
    const n = RULE_PAGE * 2 + 517
    // Written past the API's validation: the read must not depend on it.
    await sql`INSERT INTO rule (partition_id, id, groups, prefix, priority, time_window, sort, max_targets, fallback, attrs, enabled, description)
      SELECT ${pid}, i * 3,
        CASE i % 4 WHEN 0 THEN ARRAY['default'] WHEN 1 THEN ARRAY['a b', 'c,d'] WHEN 2 THEN ARRAY['e"f', 'g\\h', 'NULL'] ELSE ARRAY['retail', 'default'] END,
        '+' || i, i % 3, CASE WHEN i % 5 = 0 THEN '{"timezone":"UTC","weekly":[{"days":["mon"],"start":"08:00","end":"18:00"}]}'::jsonb END,
        (ARRAY['ordered','weighted','hash'])[1 + i % 3], CASE WHEN i % 7 = 0 THEN 2 END, i % 2 = 0,
        CASE WHEN i % 11 = 0 THEN '{"lcr":"tier1","n":[1,2]}'::jsonb ELSE '{}'::jsonb END, i % 13 <> 0,
        CASE WHEN i % 17 = 0 THEN E'tab\\there\\nline "q" \\\\' ELSE '' END
      FROM generate_series(1, ${n}) AS i`.execute(db)
    const gw = await db.selectFrom('gateway').select(['id', 'gw_id']).where('partition_id', '=', pid).orderBy('gw_id').execute()
    const cr = await db.selectFrom('carrier').select('id').where('partition_id', '=', pid).executeTakeFirstOrThrow()
    await sql`INSERT INTO rule_target (rule_id, partition_id, position, gateway_id, carrier_id, weight)
      SELECT r.id, ${pid}, p, CASE WHEN p = 1 THEN NULL WHEN r.id % 2 = 0 THEN ${gw[0]?.id ?? null}::bigint ELSE ${gw[1]?.id ?? null}::bigint END, CASE WHEN p = 1 THEN ${cr.id}::bigint END, 10 * p
      FROM rule r, generate_series(0, 2) AS p WHERE r.partition_id = ${pid} AND r.id % 4 <> 0`.execute(db)
    const loaded = await createPartitionDataRepository(db).load('paged')
    const rows = await sql<Record<string, unknown> & { targets: string | null }>`SELECT r.*, (
        SELECT string_agg(coalesce('g' || t.gateway_id, 'c' || t.carrier_id) || ':' || t.weight, ',' ORDER BY t.position)
        FROM rule_target t WHERE t.partition_id = r.partition_id AND t.rule_id = r.id) AS targets
      FROM rule r WHERE r.partition_id = ${pid} ORDER BY r.id`.execute(db)
    const names = { gateways: new Map(gw.map((g) => [g.id, g.gw_id])), carriers: new Map([[cr.id, 'c1']]) }
    const expected = rows.rows.map((r) => ruleFromRow(r as never, targetsFromText(r.targets, names)))
    expect(loaded?.data.rules.length).toBe(n)
    expect(JSON.stringify(loaded?.data.rules)).toBe(JSON.stringify(expected))
    expect(loaded?.data.rules).toEqual(expected)
  })

  it('compiled page by page gives the table, counts and problems of the whole data compiled at once', async () => {
    const { createPartitionDataRepository } = await import('../../../src/routing/admin/partition-data.repository.js')
    const { createSnapshotRepository } = await import('../../../src/routing/snapshot/snapshot.repository.js')
    const { compileRouteTableFromPages } = await import('../../../src/routing/snapshot/route-table.js')
    const { compileRouteTable } = await import('../compile.js')
    const repository = createPartitionDataRepository(t.db.kysely)
    const pagedOf = async (name: string) => await createSnapshotRepository(t.db.kysely).snapshot(name, async ({ head, version }, pages) => await compileRouteTableFromPages(head, pages, { partition: name, version }))
    const loaded = await repository.load('paged')
    const paged = await pagedOf('paged')
    if (loaded === undefined || paged === undefined) throw new Error('partition "paged" is missing')
    const whole = compileRouteTable(loaded.data, { partition: 'paged', version: loaded.version })
    const { checksum: _a, ...pagedTable } = paged.table
    const { checksum: _b, ...wholeTable } = whole.table
    expect(pagedTable.rules.size).toBe(loaded.data.rules.length)
    expect(pagedTable).toEqual(wholeTable)
    expect([...pagedTable.groups.keys()]).toEqual([...wholeTable.groups.keys()])
    for (const [group, index] of wholeTable.groups) expect([...(pagedTable.groups.get(group)?.byPrefix.keys() ?? [])]).toEqual([...index.byPrefix.keys()])
    expect(paged.counts).toEqual(whole.counts)
    expect(paged.problems).toEqual(whole.problems)

    // The checksum is the stored rows': the same on every read, another after any change.
    expect((await pagedOf('paged'))?.table.checksum).toBe(paged.table.checksum)
    await sql`UPDATE rule SET description = 'changed' WHERE id = 3`.execute(t.db.kysely)
    expect((await pagedOf('paged'))?.table.checksum).not.toBe(paged.table.checksum)
    expect(await pagedOf('no-such-partition')).toBeUndefined()
  })

  it('gives an empty partition and a partition with problems the same table as the whole data', async () => {
    const { createPartitionDataRepository } = await import('../../../src/routing/admin/partition-data.repository.js')
    const { createSnapshotRepository } = await import('../../../src/routing/snapshot/snapshot.repository.js')
    const { compileRouteTableFromPages } = await import('../../../src/routing/snapshot/route-table.js')
    const { compileRouteTable } = await import('../compile.js')
    const repository = createPartitionDataRepository(t.db.kysely)
    await put('empty', wholePartition({}))
    // A gateway whose address does not parse (written past the API) is discarded with its rules' targets.
    await put('odd', { partition: {}, caller_groups: [], gateways: [{ id: 'g1', address: '192.0.2.1' }, { id: 'g2', address: '192.0.2.2' }], carriers: [], rules: [{ id: 1, prefix: '1', groups: ['default'], targets: [{ gateway: 'g2' }] }, { id: 2, prefix: '1', groups: ['default'], priority: 5, targets: [{ gateway: 'g1' }, { gateway: 'g2' }] }] })
    await sql`UPDATE gateway SET address = 'sip:[::1' WHERE gw_id = 'g2'`.execute(t.db.kysely)
    // Time recurrences, alone and with a window, and one that does not parse (written past the API):
    // the stored tuples resolve each text as the RuleData it stands for (compile-rule.ts compileTuple).
    const odd = await t.db.kysely.selectFrom('partition').select('id').where('name', '=', 'odd').executeTakeFirstOrThrow()
    await sql`INSERT INTO rule (partition_id, id, groups, prefix, priority, time_window, timerec, sort, attrs)
      VALUES (${odd.id}, 3, ARRAY['default'], '2', 0, NULL, '20260101T080000|20260101T180000||weekly', 'ordered', '{"lcr":"a"}'),
             (${odd.id}, 4, ARRAY['default'], '2', 1, '{"timezone":"UTC","weekly":[{"days":["mon"],"start":"08:00","end":"18:00"}]}', '20260101T080000|20260101T180000||weekly', 'ordered', '{"lcr":"a"}'),
             (${odd.id}, 5, ARRAY['default'], '3', 0, NULL, 'nonsense', 'ordered', '{}')`.execute(t.db.kysely)
    await sql`INSERT INTO rule_target (rule_id, partition_id, position, gateway_id, weight)
      SELECT r.id, ${odd.id}, 0, g.id, 1 FROM rule r, gateway g WHERE r.partition_id = ${odd.id} AND r.id >= 3 AND g.partition_id = ${odd.id} AND g.gw_id = 'g1'`.execute(t.db.kysely)
    for (const name of ['empty', 'odd']) {
      const loaded = await repository.load(name)
      const paged = await createSnapshotRepository(t.db.kysely).snapshot(name, async ({ head, version }, pages) => await compileRouteTableFromPages(head, pages, { partition: name, version }))
      if (loaded === undefined || paged === undefined) throw new Error(`partition "${name}" is missing`)
      const whole = compileRouteTable(loaded.data, { partition: name, version: loaded.version })
      expect({ ...paged.table, checksum: '' }).toEqual({ ...whole.table, checksum: '' })
      expect(paged.problems).toEqual(whole.problems)
      expect(paged.counts).toEqual(whole.counts)
      expect(paged.counts.gateways.discarded).toBe(name === 'odd' ? 1 : 0)
      expect(paged.counts.rules).toEqual(name === 'odd' ? { loaded: 3, discarded: 2 } : { loaded: 0, discarded: 0 })
    }
  })
})
