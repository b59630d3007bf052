import { describe, expect, it } from 'vitest'
import { addRule, ALWAYS, createRuleStore } from '../../../src/routing/snapshot/rule-store.js'
import { slotIds } from '../../../src/routing/snapshot/slot-ids.js'

/** Writes rules of these ids into a fresh store as a compile does, filing each slot. */
function filed (ids: readonly number[]): { map: ReadonlyMap<number, number>, repeated: number[] } {
  const store = createRuleStore(2)
  const slots = slotIds(store)
  const repeated: number[] = []
  for (const id of ids) {
    if (slots.has(id)) {
      repeated.push(id)
      continue
    }
    const slot = addRule(store, { id, hashKey: 0, prefix: '', priority: 0, maxTargets: Infinity, sort: 'ordered', enabled: true, fallback: false, window: ALWAYS, targets: 0, groups: 0, attrs: 0 })
    slots.set(id, slot)
  }
  return { map: slots.done(), repeated }
}

describe('slotIds', () => {
  it('ids in ascending order need no Map: the store\'s id column is searched, across its growth', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => 3 + i * 7)
    const { map, repeated } = filed(ids)
    expect(map).not.toBeInstanceOf(Map)
    expect(repeated).toEqual([])
    expect(map.size).toBe(1000)
    ids.forEach((id, slot) => { expect(map.get(id)).toBe(slot) })
    for (const missing of [0, 1, 4, 2 + 7 * 999, 10 + 7 * 999, -1, 3.5]) expect(map.has(missing)).toBe(false)
    expect([...map.entries()]).toEqual(ids.map((id, slot) => [id, slot]))
    expect([...map.keys()]).toEqual(ids)
  })

  it('an id out of order moves to a Map and keeps every slot; a repeat is found either way', () => {
    const { map, repeated } = filed([5, 9, 9, 2, 5, 12, 2])
    expect(map).toBeInstanceOf(Map)
    expect(repeated).toEqual([9, 5, 2])
    expect([...map.entries()]).toEqual([[5, 0], [9, 1], [2, 2], [12, 3]])
  })

  it('an empty read gives an empty map', () => {
    const { map } = filed([])
    expect(map.size).toBe(0)
    expect(map.get(1)).toBeUndefined()
  })
})
