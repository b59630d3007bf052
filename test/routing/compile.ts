/**
 * Test helpers over production pieces: the whole-data compile through the same Compilation the
 * page-by-page load drives (route-table.ts), the rules of one prefix as a list, caller lookups as values.
 */
import { beginCompile } from '../../src/routing/snapshot/route-table.js'
import { compileCallerIndexSteps } from '../../src/routing/snapshot/caller-index.js'
import type { CallerIndex, CompiledPartition, CompiledRule, CompileMeta, CompileResult } from '../../src/routing/snapshot/compiled.js'
import { ruleCount, slotAt } from '../../src/routing/snapshot/compiled.js'
import { ruleView } from '../../src/routing/snapshot/rule-store.js'
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
export function rulesAt (table: CompiledPartition, group: string, prefix: string): readonly CompiledRule[] {
  const at = table.groups.get(group)?.byPrefix.get(prefix)
  if (at === undefined) return []
  return Array.from({ length: ruleCount(at) }, (_, i) => ruleView(table.store, slotAt(at, i)))
}

/** A rule of the table as one object, by id. */
export function ruleOf (table: CompiledPartition, id: number): CompiledRule | undefined {
  const slot = table.rules.get(id)
  return slot === undefined ? undefined : ruleView(table.store, slot)
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
