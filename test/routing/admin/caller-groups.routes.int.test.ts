import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'

let a: AdminTestApp
const base = '/v1/partitions/default/caller-groups'

beforeAll(async () => {
  a = await createAdminApp()
  await a.call('POST', '/v1/partitions', { name: 'default' })
})
afterAll(async () => { await a.close() })

describe('caller groups CRUD', () => {
  it('creates normalised entries with an id, reads, lists by kind and group, replaces, patches and deletes', async () => {
    const created = await a.call('POST', base, { kind: 'from_domain', value: 'Carrier.Example.COM', group: 'wholesale' })
    expect(created.statusCode).toBe(201)
    const entry = created.json()
    expect(entry).toEqual({ id: expect.any(Number), kind: 'from_domain', value: 'carrier.example.com', group: 'wholesale', description: '' })
    expect(created.headers.location).toBe(`${base}/${entry.id}`)
    expect((await a.call('GET', `${base}/${entry.id}`)).json()).toEqual(entry)

    const cidr = (await a.call('POST', base, { kind: 'cidr', value: '10.0.0.0/8', group: 'lan' })).json()
    const user = (await a.call('POST', base, { kind: 'from_uri', value: 'sip:alice@Example.com', group: 'lan' })).json()
    expect(user.value).toBe('alice@example.com')
    const ids = async (query: string) => (await a.call('GET', `${base}${query}`)).json().items.map((e: { id: number }) => e.id)
    expect(await ids('?kind=cidr')).toEqual([cidr.id])
    expect(await ids('?group=lan')).toEqual([cidr.id, user.id])
    expect(await ids('?group=lan&kind=from_uri')).toEqual([user.id])
    expect((await a.call('GET', `${base}?limit=1&offset=2`)).json()).toMatchObject({ total: 3, limit: 1, offset: 2, items: [{ id: user.id }] })

    const replaced = await a.call('PUT', `${base}/${cidr.id}`, { kind: 'cidr', value: '192.168.0.0/16', group: 'office', description: 'hq' })
    expect(replaced.json()).toEqual({ id: cidr.id, kind: 'cidr', value: '192.168.0.0/16', group: 'office', description: 'hq' })
    const patched = await a.call('PATCH', `${base}/${cidr.id}`, { group: 'lan' })
    expect(patched.json()).toEqual({ id: cidr.id, kind: 'cidr', value: '192.168.0.0/16', group: 'lan', description: 'hq' })

    expect((await a.call('DELETE', `${base}/${cidr.id}`)).statusCode).toBe(204)
    const gone = await a.call('GET', `${base}/${cidr.id}`)
    expect(gone.statusCode).toBe(404)
    expect(gone.json()).toEqual({ error: 'not_found', message: `caller group ${cidr.id} not found in partition "default"` })
  })
})

describe('caller group errors', () => {
  it('400: a value that does not fit its kind; a kind the schema does not know', async () => {
    const before = await a.counts()
    const cidr = await a.call('POST', base, { kind: 'cidr', value: '10.0.0.0/33', group: 'lan' })
    expect(cidr.statusCode).toBe(400)
    expect(cidr.json()).toEqual({ error: 'invalid_data', message: 'value: "10.0.0.0/33" is not an IPv4 or IPv6 network (a.b.c.d/len)' })
    expect((await a.call('POST', base, { kind: 'ip', value: '10.0.0.1', group: 'lan' })).statusCode).toBe(400)
    expect(await a.counts()).toEqual(before)
  })

  it('409: the same kind and value twice, also when written differently', async () => {
    await a.call('POST', base, { kind: 'from_domain', value: 'dup.example.com', group: 'a' })
    const res = await a.call('POST', base, { kind: 'from_domain', value: 'DUP.example.com', group: 'b' })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ error: 'already_exists', message: 'caller group from_domain "dup.example.com" already exists in partition "default"' })
    const other = (await a.call('POST', base, { kind: 'from_domain', value: 'other.example.com', group: 'a' })).json()
    const patch = await a.call('PATCH', `${base}/${other.id}`, { value: 'dup.example.com' })
    expect(patch.statusCode).toBe(409)
    // Rewriting an entry with its own value is not a conflict.
    expect((await a.call('PATCH', `${base}/${other.id}`, { group: 'c' })).statusCode).toBe(200)
  })

  it('404: a missing partition or entry', async () => {
    expect((await a.call('GET', '/v1/partitions/nope/caller-groups')).json().message).toBe('partition "nope" not found')
    expect((await a.call('PUT', `${base}/424242`, { kind: 'cidr', value: '10.0.0.0/8', group: 'x' })).json().message)
      .toBe('caller group 424242 not found in partition "default"')
  })
})
