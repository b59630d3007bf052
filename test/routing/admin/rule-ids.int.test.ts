import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'

/** Ids stay inside what a JSON number holds exactly: the API, the import and the database agree. */
const MAX = Number.MAX_SAFE_INTEGER // 9007199254740991
let a: AdminTestApp

/** A raw body: JSON.stringify cannot write 9007199254740993, which is exactly the problem. */
const raw = async (method: 'POST' | 'PUT', url: string, body: string) =>
  await a.app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: body })
const storedIds = async (partition: string): Promise<string[]> => {
  const rows = await a.db.selectFrom('rule').innerJoin('partition', 'partition.id', 'rule.partition_id')
    .select('rule.id').where('partition.name', '=', partition).orderBy('rule.id').execute()
  return rows.map((r) => String(r.id))
}

beforeAll(async () => {
  a = await createAdminApp()
  for (const name of ['p', 'q']) {
    await a.call('POST', '/v1/partitions', { name })
    await a.call('POST', `/v1/partitions/${name}/gateways`, { id: 'gw1', address: '10.0.0.1' })
  }
})
afterAll(async () => { await a.close() })

describe('rule ids in a safe range', () => {
  it('refuses an id past Number.MAX_SAFE_INTEGER with a 400 naming the field, instead of storing a rounded one', async () => {
    const res = await raw('POST', '/v1/partitions/p/rules', '{"groups": ["default"], "id": 9007199254740993, "prefix": "1", "targets": [{"gateway": "gw1"}]}')
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/id/)
    expect(res.json().message).toContain(String(MAX))
    expect(await storedIds('p')).toEqual([])
  })

  it('takes the largest safe id, can address it, and refuses to make up one past it', async () => {
    const top = await a.call('POST', '/v1/partitions/p/rules', { groups: ['default'], id: MAX, prefix: '1', targets: [{ gateway: 'gw1' }] })
    expect(top.statusCode).toBe(201)
    expect(top.json().id).toBe(MAX)
    expect((await a.call('GET', `/v1/partitions/p/rules/${MAX}`)).statusCode).toBe(200)
    const next = await a.call('POST', '/v1/partitions/p/rules', { groups: ['default'], prefix: '2', targets: [{ gateway: 'gw1' }] })
    expect(next.statusCode).toBe(400)
    expect(next.json()).toMatchObject({ error: 'invalid_data', message: expect.stringMatching(/^id: /) })
    expect(await storedIds('p')).toEqual([String(MAX)])
    const listed = (await a.call('GET', '/v1/partitions/p/rules')).json().items.map((r: { id: number }) => r.id)
    expect(listed).toEqual([MAX])
  })

  it('answers 400 naming the id for a path id past the range', async () => {
    const res = await a.call('GET', `/v1/partitions/p/rules/${MAX + 1}`)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'validation_error', message: expect.stringContaining('params/id') })
  })

  it('refuses an import with an id past the range, or one that would need an id past it, naming the rule', async () => {
    const big = await raw('PUT', '/v1/partitions/q/data',
      '{"partition": {}, "gateways": [{"id": "gw1", "address": "10.0.0.1"}], "carriers": [], "caller_groups": [], "rules": [{"groups": ["default"], "id": 9007199254740993, "prefix": "1", "targets": [{"gateway": "gw1"}]}]}')
    expect(big.statusCode).toBe(400)
    expect(big.json().problems).toEqual([{ path: 'rules[0].id', message: expect.stringContaining(String(MAX)) }])
    const full = await a.call('PUT', '/v1/partitions/q/data', {
      partition: {},
      gateways: [{ id: 'gw1', address: '10.0.0.1' }],
      carriers: [],
      caller_groups: [],
      rules: [{ groups: ['default'], id: MAX, prefix: '1', targets: [{ gateway: 'gw1' }] }, { groups: ['default'], prefix: '2', targets: [{ gateway: 'gw1' }] }]
    })
    expect(full.statusCode).toBe(400)
    expect(full.json().problems).toEqual([{ path: 'rules[1].id', message: expect.stringContaining(String(MAX)) }])
    expect(await storedIds('q')).toEqual([])
  })

  it('has the database refuse a rule id past the range too', async () => {
    const { id } = await a.db.selectFrom('partition').select('id').where('name', '=', 'p').executeTakeFirstOrThrow()
    const insert = sql`INSERT INTO rule (partition_id, id, groups) VALUES (${id}, 9007199254740992, '{default}')`.execute(a.db)
    await expect(insert).rejects.toThrow(/check constraint/)
  })
})
