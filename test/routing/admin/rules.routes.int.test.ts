import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'

let a: AdminTestApp
const base = '/v1/partitions/default/rules'

/** rule_target rows of a rule, in position order. */
const targetRows = async (rule: number) => await a.db.selectFrom('rule_target')
  .select(['position', 'gateway_id', 'carrier_id', 'weight']).where('rule_id', '=', String(rule)).orderBy('position').execute()

beforeAll(async () => {
  a = await createAdminApp()
  await a.call('POST', '/v1/partitions', { name: 'default', default_group: 'retail' })
  await a.call('POST', '/v1/partitions', { name: 'other' })
  for (const id of ['gw1', 'gw2']) await a.call('POST', '/v1/partitions/default/gateways', { id, address: `${id}.example.com` })
  await a.call('POST', '/v1/partitions/default/carriers', { id: 'cr1', gateways: [{ gateway: 'gw1' }, { gateway: 'gw2' }] })
})
afterAll(async () => { await a.close() })

const window = { timezone: 'Europe/London', weekly: [{ days: ['mon', 'tue'], start: '08:00', end: '18:00' }] }

describe('rules CRUD', () => {
  it('creates with defaults and ordered targets, reads, lists, replaces, patches and deletes', async () => {
    const created = await a.call('POST', base, { groups: ['retail'], prefix: '+44', priority: 5, time_window: window, targets: [{ gateway: 'gw2' }, { carrier: 'cr1', weight: 3 }] })
    expect(created.statusCode).toBe(201)
    const rule = created.json()
    expect(created.headers.location).toBe(`${base}/${rule.id}`)
    expect(rule).toEqual({
      id: expect.any(Number),
      groups: ['retail'],
      prefix: '+44',
      priority: 5,
      time_window: window,
      targets: [{ gateway: 'gw2', weight: 1 }, { carrier: 'cr1', weight: 3 }],
      sort: 'ordered',
      max_targets: null,
      fallback: false,
      attrs: {},
      enabled: true,
      description: ''
    })
    expect((await targetRows(rule.id)).map((t) => [t.position, t.gateway_id !== null, t.carrier_id !== null, t.weight]))
      .toEqual([[0, true, false, 1], [1, false, true, 3]])
    expect((await a.call('GET', `${base}/${rule.id}`)).json()).toEqual(rule)

    const replaced = await a.call('PUT', `${base}/${rule.id}`, { prefix: '+44', groups: ['wholesale', 'retail'], targets: [{ gateway: 'gw1' }] })
    expect(replaced.statusCode).toBe(200)
    expect(replaced.json()).toMatchObject({ id: rule.id, groups: ['wholesale', 'retail'], priority: 0, time_window: null, targets: [{ gateway: 'gw1', weight: 1 }] })
    expect(await targetRows(rule.id)).toHaveLength(1)

    const patched = await a.call('PATCH', `${base}/${rule.id}`, { priority: 9, max_targets: 2 })
    expect(patched.json()).toMatchObject({ groups: ['wholesale', 'retail'], priority: 9, max_targets: 2, targets: [{ gateway: 'gw1', weight: 1 }] })

    expect((await a.call('DELETE', `${base}/${rule.id}`)).statusCode).toBe(204)
    expect(await targetRows(rule.id)).toEqual([])
    const gone = await a.call('GET', `${base}/${rule.id}`)
    expect(gone.statusCode).toBe(404)
    expect(gone.json()).toEqual({ error: 'not_found', message: `rule ${rule.id} not found in partition "default"` })
  })

  it('lists by exact prefix, prefix start and group, a page at a time', async () => {
    const make = async (prefix: string, groups?: string[]) =>
      (await a.call('POST', '/v1/partitions/other/rules', { groups: ['default'], prefix, ...(groups === undefined ? {} : { groups }), targets: [] })).json().id as number
    const r4420 = await make('4420')
    const r44 = await make('44', ['vip'])
    const r33 = await make('33')
    const rDefault = await make('')
    const list = async (query: string) => (await a.call('GET', `/v1/partitions/other/rules${query}`)).json()
    const ids = async (query: string) => (await list(query)).items.map((r: { id: number }) => r.id)

    expect(await ids('?prefix=44')).toEqual([r44])
    expect(await ids('?prefix_starts=44')).toEqual([r4420, r44])
    expect(await ids('?prefix=')).toEqual([rDefault])
    expect(await ids('?group=vip')).toEqual([r44])
    expect(await ids('?group=default')).toEqual([r4420, r33, rDefault])
    expect(await list('?limit=2&offset=1')).toMatchObject({ total: 4, limit: 2, offset: 1, items: [{ id: r44 }, { id: r33 }] })
    expect((await a.call('GET', '/v1/partitions/other/rules?prefix=4%20a')).statusCode).toBe(400)
  })

  it('keeps an id given in the body, and generates the next ones past it; ids are per partition', async () => {
    const kept = await a.call('POST', base, { groups: ['retail'], id: 500, prefix: '49', targets: [] })
    expect(kept.statusCode).toBe(201)
    expect(kept.json().id).toBe(500)
    const next = (await a.call('POST', base, { groups: ['retail'], prefix: '49', targets: [] })).json()
    expect(next.id).toBe(501)
    const dup = await a.call('POST', base, { groups: ['retail'], id: 500, targets: [] })
    expect(dup.statusCode).toBe(409)
    expect(dup.json()).toEqual({ error: 'already_exists', message: 'rule 500 already exists in partition "default"' })
    expect((await a.call('POST', '/v1/partitions/other/rules', { groups: ['retail'], id: 500, targets: [] })).statusCode).toBe(201)
    expect((await a.call('DELETE', '/v1/partitions/other/rules/500')).statusCode).toBe(204)
    expect((await a.call('GET', `${base}/500`)).statusCode).toBe(200)
    const moved = await a.call('PUT', `${base}/500`, { groups: ['retail'], id: 501, targets: [] })
    expect(moved.json()).toEqual({ error: 'immutable_id', message: 'id: 501 differs from 500 in the URL; it cannot be changed' })
    expect((await a.call('GET', '/v1/partitions/other/rules/500')).json().message).toBe('rule 500 not found in partition "other"')
  })
})

describe('rule errors', () => {
  const refused = async (payload: unknown, message: string, method: 'POST' | 'PATCH' = 'POST', url = base): Promise<void> => {
    const before = await a.counts()
    const version = await a.version('default')
    const res = await a.call(method, url, payload)
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().message).toBe(message)
    expect(await a.counts()).toEqual(before)
    expect(await a.version('default')).toBe(version)
  }

  it('400: a prefix with a letter the partition does not list in extra_prefix_chars', async () => {
    await refused({ groups: ['retail'], prefix: '44a', targets: [] }, 'prefix: prefix "44a" holds "a" at position 3: a prefix holds only digits after an optional +')
  })

  it('400: a rule without groups, never tied to the default group behind the writer\'s back', async () => {
    await refused({ id: 77, prefix: '44', targets: [] },
      'groups: required (rule 77): name the caller groups the rule serves, e.g. ["default"] (a rule without groups is never tied to the default group behind your back)')
    await refused({ groups: [], prefix: '44', targets: [] }, 'body/groups must NOT have fewer than 1 items')
  })

  it('400: an unknown timezone', async () => {
    await refused({ groups: ['retail'], time_window: { timezone: 'Mars/Olympus' }, targets: [] },
      'time_window.timezone: unknown timezone "Mars/Olympus" (expected an IANA name such as Europe/London)')
  })

  it('400: a weekly window that ends before it starts', async () => {
    await refused({ groups: ['retail'], time_window: { timezone: 'UTC', weekly: [{ days: ['sat'], start: '18:00', end: '08:00' }] }, targets: [] },
      'time_window.weekly[0]: ends (08:00) before it starts (18:00); split a window that crosses midnight in two')
  })

  it('400: unknown targets, every problem named', async () => {
    await refused({ groups: ['retail'], targets: [{ gateway: 'gw1' }, { gateway: 'gw9' }, { carrier: 'cr9' }] },
      'targets[1].gateway: unknown gateway "gw9"; targets[2].carrier: unknown carrier "cr9"')
  })

  it('400: a PATCH whose merged result is invalid leaves the rule as it was', async () => {
    const rule = (await a.call('POST', base, { groups: ['retail'], prefix: '61', time_window: window, targets: [{ gateway: 'gw1' }] })).json()
    await refused({ groups: ['retail'], targets: [{ gateway: 'gw1' }, { gateway: 'gw9' }] }, 'targets[1].gateway: unknown gateway "gw9"', 'PATCH', `${base}/${rule.id}`)
    await refused({ groups: ['a', 'a'] }, 'groups: lists a group twice', 'PATCH', `${base}/${rule.id}`)
    expect((await a.call('GET', `${base}/${rule.id}`)).json()).toEqual(rule)
  })

  it('404: a missing partition, a rule id that is not a number', async () => {
    expect((await a.call('POST', '/v1/partitions/nope/rules', { groups: ['retail'], targets: [] })).json().message).toBe('partition "nope" not found')
    expect((await a.call('GET', `${base}/abc`)).statusCode).toBe(400)
    expect((await a.call('DELETE', `${base}/999999`)).json().message).toBe('rule 999999 not found in partition "default"')
  })
})
