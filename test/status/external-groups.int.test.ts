import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventBus } from '../../src/events.js'
import { createExternalGroups } from '../../src/status/external-groups.js'
import { createStatusGroupRepository } from '../../src/status/status-group.repository.js'
import { StatusRegistry } from '../../src/status/status-registry.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let t: TestDatabase
beforeAll(async () => { t = await createTestDatabase() })
afterAll(async () => { await t.drop() })

const instance = () => {
  const registry = new StatusRegistry(createEventBus(() => {}))
  registry.createGroup('core', { required: true }).add('main', { status: 1 })
  return { registry, groups: createExternalGroups(registry, createStatusGroupRepository(t.db.kysely)) }
}

describe('external status groups in PostgreSQL', () => {
  it('survive a restart and keep gating readiness until fed again', async () => {
    const first = instance()
    expect(await first.groups.put('security', true, 20)).toBe(true)
    first.registry.requireIdentifier('security', 'main').set(1, 'ok')
    expect(first.registry.readiness().ready).toBe(true)

    const restarted = instance()
    await restarted.groups.load()
    const group = restarted.registry.requireGroup('security')
    expect(group.options).toEqual({ required: true, external: true, ringSize: 20 })
    expect(restarted.registry.readiness()).toMatchObject({ ready: false, notReady: [{ group: 'security', identifier: 'main', details: 'no status reported yet' }] })

    await restarted.groups.remove('security')
    const again = instance()
    await again.groups.load()
    expect(again.registry.group('security')).toBeUndefined()
  })

  it('refuses names the table refuses', async () => {
    const { groups } = instance()
    await expect(groups.put('x'.repeat(65), false, undefined)).rejects.toThrow()
    expect((await createStatusGroupRepository(t.db.kysely).list()).map((g) => g.name)).not.toContain('x'.repeat(65))
  })
})
