import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { testApp } from '../helpers/fake-deps.js'

let t: Awaited<ReturnType<typeof testApp>>
let app: FastifyInstance

beforeEach(async () => {
  t = await testApp()
  app = t.app
  t.registry.createGroup('core', { required: true }).add('main', { status: 1, details: 'running' }).report('running')
  const routing = t.registry.createGroup('routing', { required: true })
  routing.add('default', { status: 1, details: 'data available' }).report('DB data loading successfully completed')
  routing.add('default;events', { status: 1, ringSize: 200 })
})
afterEach(async () => { await app.close() })

describe('GET /v1/status', () => {
  it('lists every group with its identifiers', async () => {
    const res = await app.inject('/v1/status')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual([
      { name: 'core', readiness: true, required: true, external: false, identifiers: [{ name: 'main', readiness: true, status: 1, details: 'running' }] },
      {
        name: 'routing',
        readiness: true,
        required: true,
        external: false,
        identifiers: [
          { name: 'default', readiness: true, status: 1, details: 'data available' },
          { name: 'default;events', readiness: true, status: 1, details: '' }
        ]
      }
    ])
  })

  it('answers one identifier and the `all` aggregate', async () => {
    expect((await app.inject('/v1/status/routing/default')).json()).toEqual({ readiness: true, status: 1, details: 'data available' })
    t.registry.requireIdentifier('routing', 'default').set(-1, 'loading')
    expect((await app.inject('/v1/status/routing/all')).json()).toEqual({ readiness: false, status: -1, details: 'aggregated' })
    expect((await app.inject('/v1/status/routing')).json()).toMatchObject({ name: 'routing', readiness: false })
  })

  it('answers 404 naming an unknown group or identifier', async () => {
    const group = await app.inject('/v1/status/nope')
    expect(group.statusCode).toBe(404)
    expect(group.json()).toEqual({ error: 'unknown_group', message: 'unknown status group "nope"' })
    const id = await app.inject('/v1/status/routing/nope')
    expect(id.statusCode).toBe(404)
    expect(id.json().message).toBe('unknown identifier "nope" in status group "routing"')
  })

  it('refuses a malformed name with 400', async () => {
    const res = await app.inject('/v1/status/bad%20name')
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('validation_error')
  })
})

describe('reports and identifiers', () => {
  it('lists reports per group and identifier, oldest first', async () => {
    const all = await app.inject('/v1/reports')
    expect(all.json()[0]).toEqual({ name: 'core', identifiers: [{ name: 'main', reports: [{ timestamp: 1795262400, date: 'Sat Nov 21 12:00:00 2026', log: 'running' }] }] })
    const one = await app.inject('/v1/reports/routing/default')
    expect(one.json()).toEqual({ name: 'default', reports: [expect.objectContaining({ log: 'DB data loading successfully completed' })] })
    expect((await app.inject('/v1/reports/routing')).json().identifiers).toHaveLength(2)
  })

  it('lists identifier names', async () => {
    expect((await app.inject('/v1/identifiers')).json()).toEqual([
      { group: 'core', identifiers: ['main'] },
      { group: 'routing', identifiers: ['default', 'default;events'] }
    ])
    expect((await app.inject('/v1/identifiers/routing')).json()).toEqual({ group: 'routing', identifiers: ['default', 'default;events'] })
  })
})

describe('external groups', () => {
  it('creates a group that gates readiness until it is fed', async () => {
    const created = await app.inject({ method: 'PUT', url: '/v1/status/security', payload: { required: true } })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ name: 'security', external: true, required: true, readiness: false })
    expect(t.repository.rows.get('security')).toEqual({ name: 'security', required: true, ringSize: 50 })
    expect(t.registry.readiness().ready).toBe(false)

    const set = await app.inject({ method: 'PUT', url: '/v1/status/security/main', payload: { status: 1, details: 'fail2ban running' } })
    expect(set.json()).toEqual({ readiness: true, status: 1, details: 'fail2ban running' })
    expect(t.registry.readiness().ready).toBe(true)
    expect(t.events.at(-1)?.payload).toEqual({ group: 'security', identifier: 'main', status: 1, details: 'fail2ban running', old_status: -1 })

    const report = await app.inject({ method: 'POST', url: '/v1/reports/security/main', payload: { log: 'IP 1.2.3.4 detected as attacker' } })
    expect(report.statusCode).toBe(201)
    expect(report.json().reports.map((r: { log: string }) => r.log)).toEqual(['IP 1.2.3.4 detected as attacker'])
  })

  it('updates an existing group with 200 and creates identifiers on first status', async () => {
    await app.inject({ method: 'PUT', url: '/v1/status/cron', payload: {} })
    const again = await app.inject({ method: 'PUT', url: '/v1/status/cron', payload: { required: true, ring_size: 5 } })
    expect(again.statusCode).toBe(200)
    const res = await app.inject({ method: 'PUT', url: '/v1/status/cron/backup', payload: { status: -3, details: 'last backup failed' } })
    expect(res.json()).toEqual({ readiness: false, status: -3, details: 'last backup failed' })
    expect(t.registry.requireIdentifier('cron', 'backup').ringSize).toBe(5)
  })

  it('refuses status 0 and unknown fields', async () => {
    await app.inject({ method: 'PUT', url: '/v1/status/cron', payload: {} })
    const zero = await app.inject({ method: 'PUT', url: '/v1/status/cron/main', payload: { status: 0 } })
    expect(zero.statusCode).toBe(400)
    expect(zero.json().message).toMatch(/status/)
    const extra = await app.inject({ method: 'PUT', url: '/v1/status/cron/main', payload: { status: 1, colour: 'red' } })
    expect(extra.statusCode).toBe(400)
  })

  it('refuses writes to groups rtroute maintains itself', async () => {
    for (const request of [
      { method: 'PUT' as const, url: '/v1/status/core/main', payload: { status: 1 } },
      { method: 'POST' as const, url: '/v1/reports/core/main', payload: { log: 'x' } },
      { method: 'PUT' as const, url: '/v1/status/routing', payload: {} },
      { method: 'DELETE' as const, url: '/v1/status/core' }
    ]) {
      const res = await app.inject(request)
      expect(res.statusCode, `${request.method} ${request.url}`).toBe(409)
      expect(res.json().error).toBe('private_group')
    }
  })

  it('deletes an external group', async () => {
    await app.inject({ method: 'PUT', url: '/v1/status/cron', payload: { required: true } })
    expect((await app.inject({ method: 'DELETE', url: '/v1/status/cron' })).statusCode).toBe(204)
    expect(t.repository.rows.size).toBe(0)
    expect((await app.inject('/v1/status/cron')).statusCode).toBe(404)
    expect(t.registry.readiness().ready).toBe(true)
  })
})

describe('probes', () => {
  it('/readyz is 503 naming the identifiers that are not ready, then 200', async () => {
    const routing = t.registry.requireIdentifier('routing', 'default')
    routing.set(-1, 'loading')
    const res = await app.inject('/readyz')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ ready: false, not_ready: [{ group: 'routing', identifier: 'default', status: -1, details: 'loading' }] })
    routing.set(2, 'reloading')
    expect((await app.inject('/readyz')).statusCode).toBe(200)
  })

  it('/livez stays 200 while not ready', async () => {
    t.registry.requireIdentifier('core', 'main').set(-2, 'terminating')
    expect((await app.inject('/livez')).statusCode).toBe(200)
  })
})
