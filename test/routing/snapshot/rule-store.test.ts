import { describe, expect, it } from 'vitest'
import {
  addRule, addTargetList, ALWAYS, byPriorityIn, createRuleStore, isEnabled, isFallback, maxTargetsOf, ruleView, slotOf, sortOf, type RuleColumns
} from '../../../src/routing/snapshot/rule-store.js'
import { tooManyDead } from '../../../src/routing/snapshot/incremental.js'
import type { CompiledPartition } from '../../../src/routing/snapshot/compiled.js'

const columns = (id: number, over: Partial<RuleColumns> = {}): RuleColumns => ({
  id,
  hashKey: id * 7,
  prefix: `44${id}`,
  priority: 0,
  maxTargets: Infinity,
  sort: 'ordered',
  enabled: true,
  fallback: false,
  window: ALWAYS,
  targets: 0,
  groups: 0,
  attrs: 0,
  ...over
})

function storeWithShared (): ReturnType<typeof createRuleStore> {
  const store = createRuleStore(2)
  addTargetList(store, [])
  store.groupLists.push(['default'])
  store.attrsList.push({})
  return store
}

describe('rule store', () => {
  it('reads back what a slot was written with, flags and limits included', () => {
    const store = storeWithShared()
    const a = addRule(store, columns(1, { sort: 'least_loaded', enabled: false, fallback: true, maxTargets: 3, priority: -4 }))
    const b = addRule(store, columns(2, { sort: 'hash' }))
    expect([a, b]).toEqual([0, 1])
    expect([sortOf(store, a), isEnabled(store, a), isFallback(store, a), maxTargetsOf(store, a)]).toEqual(['least_loaded', false, true, 3])
    expect([sortOf(store, b), isEnabled(store, b), isFallback(store, b), maxTargetsOf(store, b)]).toEqual(['hash', true, false, Infinity])
    expect(ruleView(store, a)).toEqual({
      id: 1, hashKey: 7, groups: ['default'], prefix: '441', priority: -4, window: null, targets: [], sort: 'least_loaded', maxTargets: 3, fallback: true, enabled: false, attrs: {}
    })
  })

  it('keeps every slot as it was when it grows: a table built before reads the same rules', () => {
    const store = storeWithShared()
    for (let id = 1; id <= 3; id++) addRule(store, columns(id, { priority: id }))
    const before = store.id
    const viewBefore = ruleView(store, 2)
    for (let id = 4; id <= 40; id++) addRule(store, columns(id, { priority: id }))
    expect(store.id).not.toBe(before)
    expect(store.length).toBe(40)
    expect(ruleView(store, 2)).toEqual(viewBefore)
    expect(Array.from(store.id.subarray(0, 40))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  })

  it('orders slots as drouting orders rules of one prefix: priority desc, then id asc', () => {
    const store = storeWithShared()
    const slots = [columns(5, { priority: 1 }), columns(3, { priority: 9 }), columns(4, { priority: 1 })].map((r) => addRule(store, r))
    expect(slots.sort(byPriorityIn(store)).map((s) => store.id[s])).toEqual([3, 4, 5])
  })

  it('interns a value once', () => {
    const list: string[] = []
    const slots = new Map<string, number>()
    expect([slotOf('a', list, slots), slotOf('b', list, slots), slotOf('a', list, slots)]).toEqual([0, 1, 0])
    expect(list).toEqual(['a', 'b'])
  })

  it('asks for a full read once dead slots outnumber the live rules and 100,000', () => {
    const table = (length: number, live: number): CompiledPartition => ({ store: { length }, rules: { size: live } }) as unknown as CompiledPartition
    expect(tooManyDead(table(150_000, 60_000))).toBe(false)
    expect(tooManyDead(table(160_001, 60_000))).toBe(true)
    expect(tooManyDead(table(2_000_000, 1_000_000))).toBe(false)
    expect(tooManyDead(table(2_000_001, 1_000_000))).toBe(true)
  })
})
