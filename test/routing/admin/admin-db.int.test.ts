import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app.js'
import { createDb } from '../../../src/db.js'
import { dbErrorToAppError } from '../../../src/db-errors.js'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'
import { fakeDeps } from '../../helpers/fake-deps.js'
import { createTcpProxy } from '../../helpers/tcp-proxy.js'

let a: AdminTestApp
beforeAll(async () => {
  a = await createAdminApp()
  await a.call('POST', '/v1/partitions', { name: 'default' })
})
afterAll(async () => { await a.close() })

describe('every write is one transaction', () => {
  it('advances data_version once committed, for every entity, and not when refused', async () => {
    const steps: Array<[method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload: unknown, status: number]> = [
      ['POST', '/v1/partitions/default/gateways', { id: 'gw1', address: '10.0.0.1' }, 201],
      ['POST', '/v1/partitions/default/carriers', { id: 'cr1', gateways: [{ gateway: 'gw1' }] }, 201],
      ['POST', '/v1/partitions/default/carriers', { id: 'cr2', gateways: [{ gateway: 'gw1' }, { gateway: 'gw2' }] }, 400],
      ['PUT', '/v1/partitions/default/carriers/cr1', { id: 'cr1', gateways: [] }, 200],
      ['POST', '/v1/partitions/default/rules', { groups: ['default'], id: 7, prefix: '44', targets: [{ carrier: 'cr1' }] }, 201],
      ['PATCH', '/v1/partitions/default/rules/7', { groups: ['default'], targets: [{ carrier: 'cr9' }] }, 400],
      ['PATCH', '/v1/partitions/default/rules/7', { prefix: '4420' }, 200],
      ['POST', '/v1/partitions/default/caller-groups', { kind: 'cidr', value: '10.0.0.0/8', group: 'lan' }, 201],
      ['POST', '/v1/partitions/default/caller-groups', { kind: 'cidr', value: '10.0.0.0/8', group: 'lan' }, 409],
      ['DELETE', '/v1/partitions/default/carriers/cr1', undefined, 409],
      ['DELETE', '/v1/partitions/default/rules/7', undefined, 204],
      ['DELETE', '/v1/partitions/default/carriers/cr1', undefined, 204],
      ['PATCH', '/v1/partitions/default', { description: 'edited' }, 200],
      ['PATCH', '/v1/partitions/default', { default_group: 'bad group' }, 400]
    ]
    let version = await a.version('default')
    for (const [method, url, payload, status] of steps) {
      const before = await a.counts()
      const res = await a.call(method, url, payload)
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status)
      const next = await a.version('default')
      if (status < 300) {
        expect(next, `${method} ${url}`).toBeGreaterThan(version)
      } else {
        expect(next, `${method} ${url}`).toBe(version)
        expect(await a.counts(), `${method} ${url}`).toEqual(before)
      }
      version = next
    }
  })
})

describe('PostgreSQL errors as answers', () => {
  const caught = async (statement: ReturnType<typeof sql>): Promise<unknown> => {
    try {
      await statement.execute(a.db)
    } catch (err) {
      return err
    }
    throw new Error('the statement succeeded')
  }

  it('maps unique, foreign-key, restrict and check violations the repositories did not catch', async () => {
    await a.call('POST', '/v1/partitions/default/gateways', { id: 'held', address: '10.0.0.2' })
    await a.call('POST', '/v1/partitions/default/carriers', { id: 'holder', gateways: [{ gateway: 'held' }] })
    const id = sql`(SELECT id FROM partition WHERE name = 'default')`
    const unique = dbErrorToAppError(await caught(sql`INSERT INTO gateway (partition_id, gw_id, address) VALUES (${id}, 'held', 'x')`))
    expect(unique).toMatchObject({ statusCode: 409, code: 'already_exists' })
    expect(unique?.message).toMatch(/^conflicts with existing data: Key \(partition_id, gw_id\)=\(\d+, held\) already exists\. \(gateway, constraint gateway_partition_id_gw_id_key\)$/)
    const foreign = dbErrorToAppError(await caught(sql`INSERT INTO rule_target (rule_id, partition_id, position, gateway_id) VALUES (123456, ${id}, 0, 1)`))
    expect(foreign).toMatchObject({ statusCode: 409, code: 'in_use' })
    const restrict = dbErrorToAppError(await caught(sql`DELETE FROM gateway WHERE gw_id = 'held'`))
    expect(restrict).toMatchObject({ statusCode: 409, code: 'in_use' })
    const check = dbErrorToAppError(await caught(sql`UPDATE gateway SET strip = 99 WHERE gw_id = 'held'`))
    expect(check).toMatchObject({ statusCode: 400, code: 'invalid_data' })
    expect(check?.message).toContain('gateway_strip_check')
  })

  it('answers 503 db_unavailable when the database cannot be reached', async () => {
    const proxy = await createTcpProxy('127.0.0.1', 1) // never opened: connections are refused
    const url = new URL(a.t.url)
    url.hostname = '127.0.0.1'
    url.port = String(proxy.port)
    const db = createDb({ url: url.toString(), poolMax: 1, onPoolError: () => {}, connectionTimeoutMs: 2000 })
    const deps = fakeDeps()
    const app = await buildApp({ registry: deps.registry, externalGroups: deps.externalGroups, db: db.kysely })
    try {
      for (const request of [
        { method: 'POST' as const, url: '/v1/partitions', payload: { name: 'p' } },
        { method: 'GET' as const, url: '/v1/partitions/default/gateways' }
      ]) {
        const res = await app.inject(request)
        expect(res.statusCode, request.url).toBe(503)
        expect(res.json()).toEqual({ error: 'db_unavailable', message: 'database unavailable; nothing was written' })
      }
    } finally {
      await app.close()
      await db.close()
    }
  })
})
