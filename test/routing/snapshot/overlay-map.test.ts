/** The copy-on-write pieces of an incremental update: the overlay map and the row-hash table. */
import { describe, expect, it } from 'vitest'
import { GONE, overlay, OVERLAY_LIMIT, type Change } from '../../../src/routing/snapshot/overlay-map.js'
import { createRowHashes } from '../../../src/routing/snapshot/row-hashes.js'
import { runAtOnce } from '../../../src/routing/snapshot/slices.js'

const apply = <K, V>(map: ReadonlyMap<K, V>, changes: Array<[K, Change<V>]>): ReadonlyMap<K, V> => runAtOnce(overlay(map, new Map(changes)))

describe('overlay', () => {
  it('reads as the map with the changes applied, and leaves the map as it was', () => {
    const base = new Map(Array.from({ length: 100 }, (_, i) => [i, `v${i}`]))
    const next = apply(base, [[1, 'one'], [2, GONE], [500, 'new']])
    expect(next.get(1)).toBe('one')
    expect(next.has(2)).toBe(false)
    expect(next.get(2)).toBeUndefined()
    expect(next.get(500)).toBe('new')
    expect(next.get(3)).toBe('v3')
    expect(next.size).toBe(100)
    expect(new Map(next)).toEqual(new Map([...base].filter(([k]) => k !== 2).map(([k, v]) => [k, k === 1 ? 'one' : v] as [number, string]).concat([[500, 'new']])))
    expect(base.get(1)).toBe('v1')
    expect(base.size).toBe(100)
  })

  it('keeps one level over the first map however many updates follow, each reading as the sum of its changes', () => {
    const base = new Map(Array.from({ length: 1000 }, (_, i) => [i, i]))
    let map: ReadonlyMap<number, number> = base
    const expected = new Map(base)
    for (let round = 0; round < 50; round++) {
      const key = (round * 37) % 1200
      const removed = round % 3 === 0
      map = apply(map, [[key, removed ? GONE : -round]])
      if (removed) expected.delete(key)
      else expected.set(key, -round)
    }
    expect(map.size).toBe(expected.size)
    expect(new Map(map)).toEqual(expected)
    expect([...map.keys()].length).toBe(expected.size)
  })

  it('folds the changes into a new map past the limit, or when they are a large part of the map', () => {
    const small = new Map([[1, 1], [2, 2]])
    const folded = apply(small, [[1, GONE], [3, 3]])
    expect(folded).toBeInstanceOf(Map)
    expect(new Map(folded)).toEqual(new Map([[2, 2], [3, 3]]))
    const big = new Map(Array.from({ length: OVERLAY_LIMIT * 5 }, (_, i) => [i, i]))
    const many = apply(big, Array.from({ length: OVERLAY_LIMIT + 1 }, (_, i) => [i, GONE] as [number, Change<number>]))
    expect(many).toBeInstanceOf(Map)
    expect(many.size).toBe(OVERLAY_LIMIT * 4 - 1)
  })
})

describe('row hashes', () => {
  it('sets, reads, overwrites and deletes by rule id, large ids and growth included', () => {
    const hashes = createRowHashes(4)
    const reference = new Map<number, number>()
    let seed = 7
    const next = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed }
    for (let i = 0; i < 20_000; i++) {
      const id = i % 5 === 0 ? Number.MAX_SAFE_INTEGER - (next() % 1000) : 1 + (next() % 5000)
      if (next() % 4 === 0) {
        hashes.delete(id)
        reference.delete(id)
      } else {
        hashes.set(id, i)
        reference.set(id, i)
      }
    }
    expect(hashes.size()).toBe(reference.size)
    for (let id = 1; id <= 5000; id++) expect(hashes.get(id)).toBe(reference.get(id))
    for (const [id, hash] of reference) expect(hashes.get(id)).toBe(hash)
  })
})
