import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'

let a: AdminTestApp
beforeAll(async () => { a = await createAdminApp() })
afterAll(async () => { await a.close() })

describe('/v1/partitions', () => {
  it('creates, reads, lists, replaces, patches and deletes a partition', async () => {
    const created = await a.call('POST', '/v1/partitions', { name: 'alpha', description: 'first' })
    expect(created.statusCode).toBe(201)
    expect(created.headers.location).toBe('/v1/partitions/alpha')
    expect(created.json()).toMatchObject({ name: 'alpha', default_group: 'default', description: 'first', settings: {}, data_version: 1 })
    expect((await a.call('GET', '/v1/partitions/alpha')).json()).toEqual(created.json())

    await a.call('POST', '/v1/partitions', { name: 'beta' })
    await a.call('POST', '/v1/partitions', { name: 'gamma' })
    const page1 = (await a.call('GET', '/v1/partitions?limit=2')).json()
    expect(page1).toMatchObject({ total: 3, limit: 2, offset: 0 })
    expect(page1.items.map((p: { name: string }) => p.name)).toEqual(['alpha', 'beta'])
    const page2 = (await a.call('GET', '/v1/partitions?limit=2&offset=2')).json()
    expect(page2.items.map((p: { name: string }) => p.name)).toEqual(['gamma'])
    expect((await a.call('GET', '/v1/partitions')).json()).toMatchObject({ total: 3, limit: 100, offset: 0 })

    const replaced = await a.call('PUT', '/v1/partitions/alpha', { name: 'alpha', default_group: 'uk', settings: { down_after_failures: 3 } })
    expect(replaced.statusCode).toBe(200)
    expect(replaced.json()).toMatchObject({ default_group: 'uk', description: '', settings: { down_after_failures: 3 }, data_version: 2 })

    const patched = await a.call('PATCH', '/v1/partitions/alpha', { description: 'patched' })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ default_group: 'uk', description: 'patched', settings: { down_after_failures: 3 }, data_version: 3 })

    expect((await a.call('DELETE', '/v1/partitions/beta')).statusCode).toBe(204)
    const gone = await a.call('GET', '/v1/partitions/beta')
    expect(gone.statusCode).toBe(404)
    expect(gone.json()).toEqual({ error: 'not_found', message: 'partition "beta" not found' })
  })

  it('refuses a duplicate name with 409', async () => {
    await a.call('POST', '/v1/partitions', { name: 'dup' })
    const res = await a.call('POST', '/v1/partitions', { name: 'dup' })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ error: 'already_exists', message: 'partition "dup" already exists' })
  })

  it('keeps the name: PUT or PATCH with another name is 400', async () => {
    await a.call('POST', '/v1/partitions', { name: 'fixed' })
    const put = await a.call('PUT', '/v1/partitions/fixed', { name: 'renamed' })
    expect(put.statusCode).toBe(400)
    expect(put.json()).toEqual({ error: 'immutable_id', message: 'name: "renamed" differs from "fixed" in the URL; it cannot be changed' })
    expect((await a.call('PATCH', '/v1/partitions/fixed', { name: 'renamed' })).statusCode).toBe(400)
    expect((await a.call('GET', '/v1/partitions/renamed')).statusCode).toBe(404)
  })

  it('answers 404 for writes to a missing partition and 400 for bad input', async () => {
    const put = await a.call('PUT', '/v1/partitions/nope', { name: 'nope' })
    expect(put.statusCode).toBe(404)
    expect(put.json().message).toBe('partition "nope" not found')
    expect((await a.call('PATCH', '/v1/partitions/nope', {})).statusCode).toBe(404)
    expect((await a.call('DELETE', '/v1/partitions/nope')).statusCode).toBe(404)

    const badName = await a.call('POST', '/v1/partitions', { name: 'has space' })
    expect(badName.statusCode).toBe(400)
    expect(badName.json().message).toMatch(/name/)
    const extra = await a.call('POST', '/v1/partitions', { name: 'x', colour: 'red' })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().error).toBe('validation_error')
  })

  it('bounds the page size', async () => {
    const big = await a.call('GET', '/v1/partitions?limit=1001')
    expect(big.statusCode).toBe(400)
    expect(big.json().message).toBe('querystring/limit must be from 1 to 1000, got 1001')
    expect((await a.call('GET', '/v1/partitions?limit=0')).statusCode).toBe(400)
    expect((await a.call('GET', '/v1/partitions?limit=ten')).statusCode).toBe(400)
    expect((await a.call('GET', '/v1/partitions?limit=1000')).statusCode).toBe(200)
  })

  it('deletes a partition that holds data only with ?force=true, and its data with it', async () => {
    await a.call('POST', '/v1/partitions', { name: 'full' })
    await a.call('POST', '/v1/partitions/full/gateways', { id: 'gw1', address: '10.0.0.1' })
    await a.call('POST', '/v1/partitions/full/gateways', { id: 'gw2', address: '10.0.0.2' })
    await a.call('POST', '/v1/partitions/full/carriers', { id: 'cr1', gateways: [{ gateway: 'gw2' }, { gateway: 'gw1' }] })
    await a.call('POST', '/v1/partitions/full/rules', { groups: ['default'], prefix: '44', targets: [{ gateway: 'gw1' }, { carrier: 'cr1' }] })
    await a.call('POST', '/v1/partitions/full/caller-groups', { kind: 'cidr', value: '10.0.0.0/8', group: 'lan' })
    const before = await a.counts()

    const refused = await a.call('DELETE', '/v1/partitions/full')
    expect(refused.statusCode).toBe(409)
    expect(refused.json()).toEqual({
      error: 'not_empty',
      message: 'partition "full" still holds 2 gateways, 1 carrier, 1 rule and 1 caller group; add ?force=true to delete it with its data'
    })
    expect(await a.counts()).toEqual(before)

    expect((await a.call('DELETE', '/v1/partitions/full?force=true')).statusCode).toBe(204)
    expect(await a.counts()).toEqual({ ...before, partition: before.partition - 1, gateway: 0, carrier: 0, carrier_gateway: 0, rule: 0, rule_target: 0, caller_group: 0 })
  })
})
