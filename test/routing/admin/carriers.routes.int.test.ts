import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'

let a: AdminTestApp
const base = '/v1/partitions/default/carriers'

/** carrier_gateway rows of a carrier as (gateway id, position, weight), in position order. */
const members = async (carrier: string) => await a.db.selectFrom('carrier_gateway')
  .innerJoin('carrier', 'carrier.id', 'carrier_gateway.carrier_id')
  .innerJoin('gateway', 'gateway.id', 'carrier_gateway.gateway_id')
  .select(['gateway.gw_id', 'carrier_gateway.position', 'carrier_gateway.weight'])
  .where('carrier.carrier_id', '=', carrier).orderBy('carrier_gateway.position').execute()

beforeAll(async () => {
  a = await createAdminApp()
  await a.call('POST', '/v1/partitions', { name: 'default' })
  await a.call('POST', '/v1/partitions', { name: 'other' })
  for (const id of ['gw1', 'gw2', 'gw3']) await a.call('POST', '/v1/partitions/default/gateways', { id, address: `${id}.example.com` })
  await a.call('POST', '/v1/partitions/other/gateways', { id: 'gw-other', address: '10.9.9.9' })
})
afterAll(async () => { await a.close() })

describe('carriers CRUD', () => {
  it('creates with its ordered gateway list, reads, lists, replaces, patches and deletes', async () => {
    const created = await a.call('POST', base, { id: 'cr1', sort: 'weighted', gateways: [{ gateway: 'gw2', weight: 70 }, { gateway: 'gw1' }] })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toEqual({
      id: 'cr1',
      sort: 'weighted',
      first_only: false,
      max_calls: null,
      max_cps: null,
      enabled: true,
      attrs: {},
      description: '',
      gateways: [{ gateway: 'gw2', weight: 70 }, { gateway: 'gw1', weight: 1 }]
    })
    expect(await members('cr1')).toEqual([{ gw_id: 'gw2', position: 0, weight: 70 }, { gw_id: 'gw1', position: 1, weight: 1 }])
    expect((await a.call('GET', `${base}/cr1`)).json()).toEqual(created.json())

    await a.call('POST', base, { id: 'cr2', gateways: [{ gateway: 'gw3' }] })
    await a.call('POST', base, { id: 'backup' })
    const filtered = (await a.call('GET', `${base}?id_prefix=cr`)).json()
    expect(filtered).toMatchObject({ total: 2 })
    expect(filtered.items).toEqual([created.json(), expect.objectContaining({ id: 'cr2', gateways: [{ gateway: 'gw3', weight: 1 }] })])
    const page = (await a.call('GET', `${base}?limit=1&offset=1`)).json()
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1, items: [{ id: 'cr1' }] })

    const replaced = await a.call('PUT', `${base}/cr1`, { id: 'cr1', gateways: [{ gateway: 'gw3' }, { gateway: 'gw2', weight: 5 }, { gateway: 'gw1' }] })
    expect(replaced.statusCode).toBe(200)
    expect(replaced.json()).toMatchObject({ sort: 'ordered', gateways: [{ gateway: 'gw3', weight: 1 }, { gateway: 'gw2', weight: 5 }, { gateway: 'gw1', weight: 1 }] })
    expect((await members('cr1')).map((m) => [m.gw_id, m.position])).toEqual([['gw3', 0], ['gw2', 1], ['gw1', 2]])

    const patched = await a.call('PATCH', `${base}/cr1`, { first_only: true })
    expect(patched.json()).toMatchObject({ first_only: true, gateways: replaced.json().gateways })
    const relisted = await a.call('PATCH', `${base}/cr1`, { gateways: [{ gateway: 'gw1' }] })
    expect(relisted.json()).toMatchObject({ first_only: true, gateways: [{ gateway: 'gw1', weight: 1 }] })

    expect((await a.call('DELETE', `${base}/cr1`)).statusCode).toBe(204)
    expect(await members('cr1')).toEqual([])
    const gone = await a.call('GET', `${base}/cr1`)
    expect(gone.statusCode).toBe(404)
    expect(gone.json().message).toBe('carrier "cr1" not found in partition "default"')
  })
})

describe('carrier errors', () => {
  it('400: an unknown gateway (another partition\'s too) and a gateway listed twice, with their positions', async () => {
    const before = await a.counts()
    const res = await a.call('POST', base, { id: 'bad', gateways: [{ gateway: 'gw1' }, { gateway: 'gw9' }, { gateway: 'gw-other' }, { gateway: 'gw1' }] })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({
      error: 'invalid_data',
      message: 'gateways[1].gateway: unknown gateway "gw9"; gateways[2].gateway: unknown gateway "gw-other"; gateways[3].gateway: gateway "gw1" is listed twice'
    })
    expect(await a.counts()).toEqual(before)
  })

  it('400: a sort the schema does not know; a body id that differs from the URL', async () => {
    const sort = await a.call('POST', base, { id: 'bad', sort: 'random' })
    expect(sort.statusCode).toBe(400)
    expect(sort.json().message).toMatch(/^body\/sort /)
    await a.call('POST', base, { id: 'fixed' })
    const put = await a.call('PUT', `${base}/fixed`, { id: 'moved' })
    expect(put.json()).toEqual({ error: 'immutable_id', message: 'id: "moved" differs from "fixed" in the URL; it cannot be changed' })
  })

  it('a refused PUT leaves the stored gateway list as it was', async () => {
    await a.call('POST', base, { id: 'keep', gateways: [{ gateway: 'gw1' }, { gateway: 'gw2' }] })
    const version = await a.version('default')
    const res = await a.call('PUT', `${base}/keep`, { id: 'keep', gateways: [{ gateway: 'gw3' }, { gateway: 'nope' }] })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toBe('gateways[1].gateway: unknown gateway "nope"')
    expect((await members('keep')).map((m) => m.gw_id)).toEqual(['gw1', 'gw2'])
    expect(await a.version('default')).toBe(version)
  })

  it('404 and 409', async () => {
    expect((await a.call('POST', '/v1/partitions/nope/carriers', { id: 'x' })).json().message).toBe('partition "nope" not found')
    expect((await a.call('PATCH', `${base}/nope`, {})).json().message).toBe('carrier "nope" not found in partition "default"')
    await a.call('POST', base, { id: 'twice' })
    const dup = await a.call('POST', base, { id: 'twice' })
    expect(dup.statusCode).toBe(409)
    expect(dup.json()).toEqual({ error: 'already_exists', message: 'carrier "twice" already exists in partition "default"' })
  })

  it('409: deleting a carrier that rules use lists them', async () => {
    await a.call('POST', base, { id: 'routed', gateways: [{ gateway: 'gw1' }] })
    const rule = (await a.call('POST', '/v1/partitions/default/rules', { groups: ['default'], prefix: '1', targets: [{ carrier: 'routed' }] })).json()
    const res = await a.call('DELETE', `${base}/routed`)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ error: 'in_use', message: `carrier "routed" is used by rule ${rule.id}` })
    expect((await a.call('GET', `${base}/routed`)).statusCode).toBe(200)
  })
})
