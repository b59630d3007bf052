/**
 * Test helpers over production pieces: the whole-data compile through the same Compilation the
 * page-by-page load drives (route-table.ts), the rules of one prefix as a list, caller lookups as values.
 */
import { beginCompile } from '../../src/routing/snapshot/route-table.js'
import { compileCallerIndexSteps } from '../../src/routing/snapshot/caller-index.js'
import type { CallerIndex, CompiledRule, CompileMeta, CompileResult, GroupIndex } from '../../src/routing/snapshot/compiled.js'
import { ruleAt, ruleCount } from '../../src/routing/snapshot/compiled.js'
import { dataChecksum } from '../../src/routing/snapshot/data-checksum.js'
import type { CallerGroupData, PartitionData } from '../../src/routing/routing-data.schema.js'
import { runAtOnce } from '../../src/routing/snapshot/slices.js'
import type { GroupSource } from '../../src/routing/decide/decision.js'
import { matchCaller, type CallerFound } from '../../src/routing/decide/match-caller.js'

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

/** Caller lookup as a value: the group and where it came from, or undefined. */
export function findCallerGroup (callers: CallerIndex, fromUri: string | undefined, sourceIp: string | undefined): { group: string, source: GroupSource } | undefined {
  const found: CallerFound = { group: '', groupSource: 'default' }
  return matchCaller(callers, fromUri, sourceIp, found) ? { group: found.group, source: found.groupSource } : undefined
}
