import { describe, expect, it } from 'vitest'
import { beginCompile } from '../../../src/routing/snapshot/route-table.js'
import type { RuleTuple, TargetNames } from '../../../src/routing/snapshot/compiled.js'
import { targetsFromText } from '../../../src/routing/snapshot/rule-pages.js'
import { runAtOnce } from '../../../src/routing/snapshot/slices.js'
import type { PartitionData, RuleData } from '../../../src/routing/routing-data.schema.js'
import { carrier, gateway, rule } from '../fixtures.js'
import { ruleOf } from '../compile.js'

// Row ids as the database gives them (text), named as the snapshot read names them.
const names: TargetNames = {
  gateways: new Map([['11', 'gw-a'], ['12', 'gw-b'], ['4503599627370497', 'gw-far']]),
  carriers: new Map([['7', 'cr-x']])
}
const head: Omit<PartitionData, 'rules'> = {
  partition: { default_group: 'default', extra_prefix_chars: '', description: '', settings: {} },
  gateways: [gateway('gw-a'), gateway('gw-b'), gateway('gw-far')],
  carriers: [carrier('cr-x', ['gw-a'])],
  caller_groups: []
}

// Target texts as migration 0009 writes them, and ones it does not write (a leading zero, no
// weight, another kind, a row past 2^51) that must still compile as the RuleData they stand for.
const TEXTS = [
  'g11:1,c7:40,g12:0', 'g11:1,c7:40,g12:0', 'g12:1', 'g11:65535', 'g11:70000', 'g99:1,g11:1', 'g99:1', 'c99:2',
  'g011:1', 'g11:', 'g11', 'x11:1', 'g4503599627370497:5', 'g12:1,g12:1', null
]

const tupleOf = (id: number, targets: string | null): RuleTuple =>
  [id, '{default}', `${id}`, 0, null, 'ordered', null, false, '{}', true, '', targets, null, 0]

type Compilation = ReturnType<typeof beginCompile> extends Generator<unknown, infer C> ? C : never
function compiled (add: (c: Compilation) => void) {
  const c = runAtOnce(beginCompile(head, { partition: 'p', version: 1 }))
  add(c)
  return runAtOnce(c.finish('x'))
}

describe('a stored rule compiled from its tuple', () => {
  it('gives every rule, prefix, count and problem of the RuleData it stands for, whatever its target text', () => {
    const tuples = TEXTS.map((text, i) => tupleOf(i + 1, text))
    const rules: RuleData[] = TEXTS.map((text, i) => ({ ...rule(i + 1, `${i + 1}`, []), targets: targetsFromText(text, names) }))
    const fromTuples = compiled((c) => runAtOnce(c.page({ tuples, names, hashes: new Float64Array(tuples.length) })))
    const fromRules = compiled((c) => runAtOnce(c.rules(rules)))
    // Rule by rule: texts that name the same targets may be one list or two in the store.
    for (let id = 1; id <= TEXTS.length; id++) expect(ruleOf(fromTuples.table, id)).toEqual(ruleOf(fromRules.table, id))
    expect([...fromTuples.table.groups.get('default')?.byPrefix ?? []]).toEqual([...fromRules.table.groups.get('default')?.byPrefix ?? []])
    expect(fromTuples.counts).toEqual(fromRules.counts)
    expect(fromTuples.problems).toEqual(fromRules.problems)
    expect(fromTuples.counts.rules).toEqual({ loaded: 10, discarded: 5 })
  })
})
