/** Route tables over data held in memory, for tests: the repository (the whole partition as one rule page) and the tables loaded from it. */
import { pino } from 'pino'
import { createEventBus } from '../../src/events.js'
import { createRouteTables, type RouteTables } from '../../src/routing/snapshot/route-tables.js'
import type { SnapshotRepository } from '../../src/routing/snapshot/snapshot.repository.js'
import { RING_SIZES, StatusRegistry } from '../../src/status/status-registry.js'
import type { RulePage } from '../../src/routing/snapshot/compiled.js'
import type { PartitionData } from '../../src/routing/routing-data.schema.js'
import { pageOf } from './row-hash.js'

type Loaded = { data: PartitionData, version: number } | undefined

export function memorySnapshot (load: (name: string) => Promise<Loaded>): Pick<SnapshotRepository, 'snapshot'> {
  return {
    async snapshot (name, build) {
      const loaded = await load(name)
      if (loaded === undefined) return undefined
      const { rules, ...head } = loaded.data
      async function * pages (): AsyncGenerator<RulePage> {
        yield pageOf(rules)
      }
      return await build({ head, version: loaded.version }, pages())
    }
  }
}

/** Route tables holding one in-memory partition `p` (`data`, version 1), loaded; its status in `registry`'s `routing` group. */
export async function memoryTables (data: PartitionData, registry = new StatusRegistry(createEventBus((err) => { throw err }))): Promise<RouteTables> {
  const tables = createRouteTables({
    repository: { ...memorySnapshot(async () => ({ data, version: 1 })), versions: async () => [{ name: 'p', version: 1 }] },
    group: registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition }),
    log: pino({ level: 'silent' }),
    debounceMs: 10
  })
  await tables.sweep('start')
  return tables
}
