/** Dependencies for app.inject() tests that touch no database. */
import { buildApp, type AppOptions } from '../../src/app.js'
import { createEventBus, type EventMap, type EventName } from '../../src/events.js'
import { createExternalGroups } from '../../src/status/external-groups.js'
import type { StatusGroupRepository, StoredGroup } from '../../src/status/status-group.repository.js'
import { StatusRegistry } from '../../src/status/status-registry.js'

/** The repository's contract over a Map, standing in for the table in route tests. */
export function memoryGroupRepository (): StatusGroupRepository & { rows: Map<string, StoredGroup> } {
  const rows = new Map<string, StoredGroup>()
  return {
    rows,
    list: async () => [...rows.values()],
    upsert: async (group) => { rows.set(group.name, group) },
    remove: async (name) => { rows.delete(name) }
  }
}

export interface RecordedEvent<K extends EventName = EventName> { name: K, payload: EventMap[K] }

export function fakeDeps () {
  const events: RecordedEvent[] = []
  const bus = createEventBus((err) => { throw err })
  bus.on('E_CORE_SR_STATUS_CHANGED', (payload) => { events.push({ name: 'E_CORE_SR_STATUS_CHANGED', payload }) })
  let clock = Date.UTC(2026, 10, 21, 12, 0, 0)
  const registry = new StatusRegistry(bus, () => clock)
  const repository = memoryGroupRepository()
  const externalGroups = createExternalGroups(registry, repository)
  return {
    bus,
    registry,
    repository,
    externalGroups,
    events,
    tick: (ms: number) => { clock += ms }
  }
}

export async function testApp (options: AppOptions = {}) {
  const deps = fakeDeps()
  const app = await buildApp(deps, options)
  return { app, ...deps }
}
