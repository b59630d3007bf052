/** A route-tables repository over data held in memory: the whole partition as one rule page. */
import type { SnapshotRepository } from '../../src/routing/snapshot/snapshot.repository.js'
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
