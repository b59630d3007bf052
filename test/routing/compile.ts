/**
 * Test oracles of the snapshot compile: the whole data at once through the same Compilation the
 * page-by-page load drives (route-table.ts), and the rules of one prefix as a list.
 */
import { beginCompile } from '../../src/routing/snapshot/route-table.js'
import { compileCallerIndexSteps } from '../../src/routing/snapshot/caller-index.js'
import type { CallerIndex, CompiledRule, CompileMeta, CompileResult, GroupIndex } from '../../src/routing/snapshot/compiled.js'
import { ruleAt, ruleCount } from '../../src/routing/snapshot/compiled.js'
import { dataChecksum } from '../../src/routing/snapshot/data-checksum.js'
import type { CallerGroupData, PartitionData } from '../../src/routing/routing-data.schema.js'
import { runAtOnce } from '../../src/routing/snapshot/slices.js'

/** A table from the whole data; `checksum` skips hashing when the test already has one. */
export function compileRouteTable (data: PartitionData, meta: CompileMeta & { checksum?: string }): CompileResult {
  const compilation = runAtOnce(beginCompile(data, meta))
  runAtOnce(compilation.rules(data.rules))
  return runAtOnce(compilation.finish(meta.checksum ?? dataChecksum(data)))
}

/** The rules a group has at a prefix, as a list. */
export function rulesAt (index: GroupIndex | undefined, prefix: string): readonly CompiledRule[] {
  const at = index?.byPrefix.get(prefix)
  if (at === undefined) return []
  return Array.from({ length: ruleCount(at) }, (_, i) => ruleAt(at, i))
}

/** The caller index of some caller groups, discarded ones reported to `discarded`. */
export function compileCallerIndex (groups: readonly CallerGroupData[], discarded?: (id: string, why?: string) => void): CallerIndex {
  return runAtOnce(compileCallerIndexSteps(groups, discarded ?? (() => {})))
}
