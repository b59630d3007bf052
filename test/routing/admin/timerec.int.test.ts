/** A rule's timerec through the admin API, the import and export, and the snapshot read (migration 0007). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'
import { wholePartition } from '../../helpers/partition-document.js'

let a: AdminTestApp
const rules = '/v1/partitions/default/rules'
const CHRISTMAS = 'Europe/Bucharest|20201225T000000|20201226T000000||yearly||||25|||12'

beforeAll(async () => {
  a = await createAdminApp()
  await a.call('POST', '/v1/partitions', { name: 'default' })
  await a.call('POST', '/v1/partitions/default/gateways', { id: 'gw1', address: 'gw1.example.com' })
})
afterAll(async () => { await a.close() })

describe('timerec on the rules API', () => {
  it('stores the text as given, shows it, clears it with null, and leaves it out when there is none', async () => {
    const created = await a.call('POST', rules, { groups: ['default'], prefix: '44', timerec: CHRISTMAS, targets: [{ gateway: 'gw1' }] })
    expect(created.statusCode).toBe(201)
    const rule = created.json()
    expect(rule.timerec).toBe(CHRISTMAS)
    expect((await a.call('GET', `${rules}/${rule.id}`)).json().timerec).toBe(CHRISTMAS)
    const cleared = await a.call('PATCH', `${rules}/${rule.id}`, { timerec: null })
    expect(cleared.statusCode).toBe(200)
    expect('timerec' in cleared.json()).toBe(false)
    const plain = await a.call('POST', rules, { groups: ['default'], prefix: '33', targets: [{ gateway: 'gw1' }] })
    expect('timerec' in plain.json()).toBe(false)
  })

  it('answers 400 naming the field and the position of a bad value, and stores nothing', async () => {
    const before = await a.counts()
    const res = await a.call('POST', rules, { groups: ['default'], prefix: '44', timerec: '20210104T080000||pt8h|weekly|||MO,XX', targets: [{ gateway: 'gw1' }] })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toContain('timerec: field byday, position 2: "XX" is not a weekday')
    const long = await a.call('POST', rules, { groups: ['default'], prefix: '44', timerec: 'x'.repeat(5000), targets: [{ gateway: 'gw1' }] })
    expect(long.statusCode).toBe(400)
    expect(await a.counts()).toEqual(before)
  })
})

describe('timerec in the partition document', () => {
  const doc = (timerec: string) => wholePartition({
    gateways: [{ id: 'gw1', address: 'gw1.example.com' }],
    rules: [
      { groups: ['default'], id: 1, prefix: '1', targets: [{ gateway: 'gw1' }] },
      { groups: ['default'], id: 2, prefix: '2', timerec: CHRISTMAS, targets: [{ gateway: 'gw1' }] },
      { groups: ['default'], id: 3, prefix: '3', timerec: '', targets: [{ gateway: 'gw1' }] },
      { groups: ['default'], id: 4, prefix: '4', timerec, targets: [{ gateway: 'gw1' }] }
    ]
  })

  it('refuses an import with a bad one as rules[3].timerec, naming the field and position', async () => {
    await a.call('POST', '/v1/partitions', { name: 'doc' })
    const res = await a.call('PUT', '/v1/partitions/doc/data', doc('America/New_York|20240105T220000||p2dt8h|weekly|||FR,XX'))
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toContain('rules[3].timerec: field byday, position 2: "XX" is not a weekday')
    expect((await a.call('GET', '/v1/partitions/doc/data')).json().rules).toEqual([])
  })

  it('export → import → export is the same document, timerecs included', async () => {
    const put = await a.call('PUT', '/v1/partitions/doc/data', doc('America/New_York|20240105T220000||p2dt8h|weekly & !20241225T000000||p1d'))
    expect(put.statusCode, put.body).toBe(200)
    const first = (await a.call('GET', '/v1/partitions/doc/data')).body
    const exported = JSON.parse(first) as { rules: Array<{ id: number, timerec?: string }> }
    expect(exported.rules.map((r) => [r.id, r.timerec])).toEqual([[1, undefined], [2, CHRISTMAS], [3, ''], [4, 'America/New_York|20240105T220000||p2dt8h|weekly & !20241225T000000||p1d']])
    expect((await a.call('PUT', '/v1/partitions/doc/data', exported)).statusCode).toBe(200)
    expect((await a.call('GET', '/v1/partitions/doc/data')).body).toBe(first)
  })

  it('reaches the snapshot read', async () => {
    const { createPartitionDataRepository } = await import('../../../src/routing/admin/partition-data.repository.js')
    const loaded = await createPartitionDataRepository(a.db).load('doc')
    expect(loaded?.data.rules.map((r) => r.timerec)).toEqual([undefined, CHRISTMAS, '', 'America/New_York|20240105T220000||p2dt8h|weekly & !20241225T000000||p1d'])
  })
})
