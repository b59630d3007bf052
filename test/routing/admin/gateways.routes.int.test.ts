import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'

let a: AdminTestApp
const base = '/v1/partitions/default/gateways'

beforeAll(async () => {
  a = await createAdminApp()
  await a.call('POST', '/v1/partitions', { name: 'default' })
})
afterAll(async () => { await a.close() })

describe('gateways CRUD', () => {
  it('creates with defaults, reads, lists with a filter and pages, replaces, patches and deletes', async () => {
    const created = await a.call('POST', base, { id: 'gw1', address: 'sip:10.0.0.1:5060', strip: 2, prefix: '00', weight: 10 })
    expect(created.statusCode).toBe(201)
    expect(created.headers.location).toBe(`${base}/gw1`)
    expect(created.json()).toEqual({
      id: 'gw1',
      address: 'sip:10.0.0.1:5060',
      strip: 2,
      prefix: '00',
      socket: '',
      attrs: {},
      probe_mode: 'never',
      weight: 10,
      fr_timer: null,
      fr_inv_timer: null,
      max_calls: null,
      max_cps: null,
      enabled: true,
      description: ''
    })
    expect((await a.call('GET', `${base}/gw1`)).json()).toEqual(created.json())

    await a.call('POST', base, { id: 'gw2', address: '10.0.0.2' })
    await a.call('POST', base, { id: 'other', address: '10.0.0.3' })
    await a.call('POST', base, { id: 'a_b', address: '10.0.0.4' })
    await a.call('POST', base, { id: 'axb', address: '10.0.0.5' })

    const filtered = (await a.call('GET', `${base}?id_prefix=gw`)).json()
    expect(filtered).toMatchObject({ total: 2, limit: 100, offset: 0 })
    expect(filtered.items.map((g: { id: string }) => g.id)).toEqual(['gw1', 'gw2'])
    // `_` is a LIKE wildcard; the filter takes it literally.
    expect((await a.call('GET', `${base}?id_prefix=a_`)).json().items.map((g: { id: string }) => g.id)).toEqual(['a_b'])
    const page = (await a.call('GET', `${base}?limit=2&offset=1`)).json()
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 1 })
    expect(page.items.map((g: { id: string }) => g.id)).toEqual(['axb', 'gw1'])

    const replaced = await a.call('PUT', `${base}/gw1`, { id: 'gw1', address: 'sip:10.0.0.9;transport=tcp', fr_timer: 2000 })
    expect(replaced.statusCode).toBe(200)
    expect(replaced.json()).toMatchObject({ address: 'sip:10.0.0.9;transport=tcp', strip: 0, prefix: '', weight: 1, fr_timer: 2000 })

    const patched = await a.call('PATCH', `${base}/gw1`, { weight: 5, attrs: { carrier: 'bt' }, fr_timer: null })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ address: 'sip:10.0.0.9;transport=tcp', weight: 5, attrs: { carrier: 'bt' }, fr_timer: null })
    expect((await a.call('GET', `${base}/gw1`)).json()).toEqual(patched.json())

    expect((await a.call('DELETE', `${base}/gw2`)).statusCode).toBe(204)
    const gone = await a.call('GET', `${base}/gw2`)
    expect(gone.statusCode).toBe(404)
    expect(gone.json()).toEqual({ error: 'not_found', message: 'gateway "gw2" not found in partition "default"' })
  })

  it('takes ids with dots and colons in the path', async () => {
    expect((await a.call('POST', base, { id: 'sbc.lon:1', address: 'sbc.example.com' })).statusCode).toBe(201)
    expect((await a.call('GET', `${base}/sbc.lon:1`)).json().address).toBe('sbc.example.com')
  })
})

describe('gateway errors', () => {
  it('400: a prefix with a letter, from the JSON schema', async () => {
    const res = await a.call('POST', base, { id: 'gwp', address: '10.0.0.1', prefix: '44a' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ error: 'validation_error', message: 'body/prefix must match pattern "^[0-9+*#]{0,32}$"' })
  })

  it('400: an address that is not a SIP URI or host[:port], and a SIP URI with a user part', async () => {
    const res = await a.call('POST', base, { id: 'gwx', address: 'not a uri!' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ error: 'invalid_data', message: 'address: "not a uri!" is not a SIP URI or host[:port]' })
    const port = await a.call('POST', base, { id: 'gwx', address: '10.0.0.1:99999', socket: 'udp 10.0.0.10' })
    expect(port.json().message).toBe('address: "10.0.0.1:99999" has port 99999, expected 1 to 65535; socket: "udp 10.0.0.10" is not proto:ip:port (e.g. udp:10.0.0.10:5060)')
    await a.call('POST', base, { id: 'gwu', address: '10.0.0.1' })
    const patch = await a.call('PATCH', `${base}/gwu`, { address: 'sip:0044@10.0.0.1' })
    expect(patch.statusCode).toBe(400)
    expect(patch.json().message).toBe('address: "sip:0044@10.0.0.1" carries a user part; the dialled number goes there')
    expect((await a.call('GET', `${base}/gwu`)).json().address).toBe('10.0.0.1')
  })

  it('400: a body id that differs from the URL', async () => {
    const res = await a.call('PUT', `${base}/gwu`, { id: 'gw-renamed', address: '10.0.0.1' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ error: 'immutable_id', message: 'id: "gw-renamed" differs from "gwu" in the URL; it cannot be changed' })
    expect((await a.call('PATCH', `${base}/gwu`, { id: 'gw-renamed' })).statusCode).toBe(400)
  })

  it('404: a missing partition or gateway', async () => {
    const partition = await a.call('POST', '/v1/partitions/nope/gateways', { id: 'gw1', address: '10.0.0.1' })
    expect(partition.statusCode).toBe(404)
    expect(partition.json()).toEqual({ error: 'not_found', message: 'partition "nope" not found' })
    expect((await a.call('GET', '/v1/partitions/nope/gateways')).json().message).toBe('partition "nope" not found')
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await a.call(method, `${base}/gw9`, method === 'PATCH' ? { weight: 1 } : undefined)
      expect(res.statusCode, method).toBe(404)
      expect(res.json().message).toBe('gateway "gw9" not found in partition "default"')
    }
    expect((await a.call('PUT', `${base}/gw9`, { id: 'gw9', address: '10.0.0.9' })).statusCode).toBe(404)
  })

  it('409: a duplicate id', async () => {
    await a.call('POST', base, { id: 'gwd', address: '10.0.0.1' })
    const res = await a.call('POST', base, { id: 'gwd', address: '10.0.0.2' })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ error: 'already_exists', message: 'gateway "gwd" already exists in partition "default"' })
  })

  it('409: deleting a gateway used by rules and a carrier lists them, and deletes nothing', async () => {
    await a.call('POST', base, { id: 'used', address: '10.0.1.1' })
    await a.call('POST', base, { id: 'spare', address: '10.0.1.2' })
    const r1 = (await a.call('POST', '/v1/partitions/default/rules', { groups: ['default'], prefix: '44', targets: [{ gateway: 'used' }] })).json()
    const r2 = (await a.call('POST', '/v1/partitions/default/rules', { groups: ['default'], prefix: '33', targets: [{ gateway: 'spare' }, { gateway: 'used' }] })).json()
    await a.call('POST', '/v1/partitions/default/carriers', { id: 'cr1', gateways: [{ gateway: 'used' }] })
    const before = await a.counts()
    const version = await a.version('default')

    const res = await a.call('DELETE', `${base}/used`)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ error: 'in_use', message: `gateway "used" is used by rules ${r1.id}, ${r2.id} and carrier "cr1"` })
    expect(await a.counts()).toEqual(before)
    expect(await a.version('default')).toBe(version)

    await a.call('DELETE', `/v1/partitions/default/rules/${r1.id}`)
    await a.call('DELETE', '/v1/partitions/default/carriers/cr1')
    expect((await a.call('DELETE', `${base}/used`)).json().message).toBe(`gateway "used" is used by rule ${r2.id}`)
  })

  it('refuses unknown fields and a wrong type', async () => {
    expect((await a.call('POST', base, { id: 'gwz', address: '10.0.0.1', colour: 'red' })).statusCode).toBe(400)
    const weight = await a.call('POST', base, { id: 'gwz', address: '10.0.0.1', weight: '5' })
    expect(weight.statusCode).toBe(400)
    expect(weight.json().message).toMatch(/weight/)
  })
})

describe('data_version', () => {
  it('advances after each committed write and not after a refused one', async () => {
    let version = await a.version('default')
    const step = async (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload: unknown, status: number): Promise<void> => {
      const res = await a.call(method, url, payload)
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status)
      const next = await a.version('default')
      if (status < 300) expect(next, `${method} ${url}`).toBeGreaterThan(version)
      else expect(next, `${method} ${url}`).toBe(version)
      version = next
    }
    await step('POST', base, { id: 'v1', address: '10.0.2.1' }, 201)
    await step('POST', base, { id: 'v1', address: '10.0.2.1' }, 409)
    await step('PUT', `${base}/v1`, { id: 'v1', address: '10.0.2.2' }, 200)
    await step('PUT', `${base}/v1`, { id: 'v1', address: 'bad address' }, 400)
    await step('PATCH', `${base}/v1`, { enabled: false }, 200)
    await step('PATCH', `${base}/v1`, { address: 'sip:a@b' }, 400)
    await step('DELETE', `${base}/v1`, undefined, 204)
    await step('DELETE', `${base}/v1`, undefined, 404)
  })
})
