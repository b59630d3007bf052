/** The partition sweeps: what they reload, and what they leave to a reload already under way. */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createEventBus } from '../../../src/events.js'
import { createRouteTables } from '../../../src/routing/snapshot/route-tables.js'
import type { PartitionData } from '../../../src/routing/routing-data.schema.js'
import { RING_SIZES, StatusRegistry } from '../../../src/status/status-registry.js'
import { memorySnapshot } from '../../helpers/memory-snapshot.js'
import { gateway, partitionData, rule } from '../fixtures.js'

const DATA: PartitionData = partitionData({ gateways: [gateway('a', '10.0.0.1:5060')], rules: [rule(1, '44', ['a'])] })

function tablesOver (version: () => number) {
  const reads: number[] = []
  const registry = new StatusRegistry(createEventBus(() => {}))
  const group = registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
  const load = async () => {
    const v = version()
    reads.push(v)
    // A read that takes a while, as a big partition's does.
    await new Promise((resolve) => setTimeout(resolve, 30))
    return { data: DATA, version: v }
  }
  const tables = createRouteTables({ repository: { ...memorySnapshot(load), versions: async () => [{ name: 'p', version: version() }] }, group, log: pino({ level: 'silent' }), debounceMs: 10 })
  return { tables, reads }
}

describe('a partition sweep', () => {
  it('that finds a reload of the same version under way waits for it instead of reading the partition again', async () => {
    const { tables, reads } = tablesOver(() => 1)
    // At start-up: the first sweep and the change listener's, together.
    await Promise.all([tables.sweep('start'), tables.sweep('listening for changes')])
    expect(reads).toEqual([1])
    expect(tables.lookup('p')).toMatchObject({ state: 'ready' })
    await tables.sweep('periodic')
    expect(reads).toEqual([1])
  })

  it('reloads after the running reload when the version it saw is not the one loaded', async () => {
    let version = 1
    const { tables, reads } = tablesOver(() => version)
    const first = tables.sweep('start')
    await new Promise((resolve) => setTimeout(resolve, 5))
    version = 2
    await Promise.all([first, tables.sweep('listening for changes')])
    expect(reads).toEqual([1, 2])
    expect(tables.lookup('p')).toMatchObject({ state: 'ready', table: { version: 2 } })
  })
})

describe('required partitions', () => {
  /** Route tables over partitions held in memory: `stored` is what the database has. */
  function tablesWith (stored: Map<string, number>, required: string[]) {
    const registry = new StatusRegistry(createEventBus(() => {}))
    const group = registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
    const load = async (name: string) => (stored.has(name) ? { data: DATA, version: stored.get(name) ?? 0 } : undefined)
    const versions = async () => [...stored].map(([name, version]) => ({ name, version }))
    const tables = createRouteTables({ repository: { ...memorySnapshot(load), versions }, group, log: pino({ level: 'silent' }), debounceMs: 10, required })
    return { tables, registry }
  }
  const notReady = (registry: StatusRegistry) => registry.readiness().notReady.map(({ identifier, status, details }) => [identifier, status, details])

  it('keeps readiness off until each exists and is loaded, and names what is missing', async () => {
    const stored = new Map<string, number>()
    const { tables, registry } = tablesWith(stored, ['default', 'eu'])
    expect(notReady(registry)).toEqual([['default', -2, 'no data loaded'], ['eu', -2, 'no data loaded']])
    await tables.sweep('start')
    const missing = (name: string) => [name, -2, `no data loaded: partition "${name}" does not exist (required for readiness)`]
    expect(notReady(registry)).toEqual([missing('default'), missing('eu')])
    // Queries for a partition that does not exist still get unknown_partition.
    expect(tables.lookup('default')).toEqual({ state: 'unknown' })

    stored.set('default', 1)
    await tables.sweep('periodic')
    expect(notReady(registry)).toEqual([missing('eu')])
    stored.set('eu', 1)
    await tables.sweep('periodic')
    expect(registry.readiness()).toEqual({ ready: true, notReady: [] })

    // Deleted again: not ready again, with a report that says so.
    stored.delete('eu')
    await tables.sweep('periodic')
    expect(notReady(registry)).toEqual([missing('eu')])
    expect(tables.lookup('eu')).toEqual({ state: 'unknown' })
    expect(registry.requireIdentifier('routing', 'eu').reports().at(-1)?.log).toBe('partition "eu" does not exist (required for readiness)')
  })
})
