import { hashString, mixSeed } from '../../../src/routing/snapshot/hash.js'
import { type SortMode } from '../../../src/routing/snapshot/compiled.js'
import { describe, expect, it } from 'vitest'
import { callSeed, drawBelow, nextUint32, orderTargets, type Sortable } from '../../../src/routing/decide/select.js'

/** A sequence as a function, and an exact draw below n from it (the reference algorithms below use these). */
function createRandom (seed: number): () => number {
  const prng = { state: seed | 0 }
  return () => nextUint32(prng)
}
function below (next: () => number, n: number): number {
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % n)
  let draw = next()
  while (draw >= limit) draw = next()
  return draw % n
}

interface Item extends Sortable { readonly id: string }
const items = (weights: number[]): Item[] => weights.map((weight, i) => ({ id: `gw${i + 1}`, weight, hashKey: hashString(`gw${i + 1}`) }))
const ids = (list: readonly Item[]): string[] => list.map((item) => item.id)
const CALLS = 10_000
const seedOf = (i: number): number => mixSeed(callSeed(`${i}-a84b4c76e66710@pc33.atlanta.example.com`), 12345)

/** Share of CALLS in which each item comes at `position`. */
function shares (list: Item[], sort: SortMode, position = 0): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(list.map((item) => [item.id, 0]))
  for (let i = 0; i < CALLS; i++) {
    const id = orderTargets(list, sort, seedOf(i))[position]?.id ?? ''
    counts[id] = (counts[id] ?? 0) + 1
  }
  return Object.fromEntries(Object.entries(counts).map(([id, n]) => [id, n / CALLS]))
}

function expectShares (actual: Record<string, number>, expected: Record<string, number>): void {
  for (const [id, share] of Object.entries(expected)) expect(Math.abs((actual[id] ?? 0) - share), `${id}: ${actual[id]} vs ${share}`).toBeLessThanOrEqual(0.02)
}

describe('seeding', () => {
  it('derives the same seed from the same Call-ID, and different seeds from different ones', () => {
    expect(callSeed('abc@host')).toBe(callSeed('abc@host'))
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => callSeed(`call-${i}`)))
    expect(seeds.size).toBe(1000)
  })

  it('gives a reproducible uint32 sequence per seed', () => {
    const a = createRandom(42)
    const b = createRandom(42)
    const first = [a(), a(), a()]
    expect([b(), b(), b()]).toEqual(first)
    expect(first.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32)).toBe(true)
  })

  it('draws below(n) uniformly in [0, n)', () => {
    const prng = { state: 7 }
    const counts = [0, 0, 0]
    for (let i = 0; i < 30_000; i++) counts[drawBelow(prng, 3)]! += 1
    for (const n of counts) expect(Math.abs(n / 30_000 - 1 / 3)).toBeLessThan(0.02)
  })
})

describe('orderTargets', () => {
  it('keeps the listed order for ordered, returning the same array', () => {
    const list = items([1, 5, 9])
    expect(orderTargets(list, 'ordered', 1)).toBe(list)
  })

  it.each(['weighted', 'hash'] as const)('%s: the same Call-ID always gives the same order', (sort) => {
    const list = items([10, 20, 30, 40])
    for (let i = 0; i < 50; i++) expect(ids(orderTargets(list, sort, seedOf(i)))).toEqual(ids(orderTargets(list, sort, seedOf(i))))
    const orders = new Set(Array.from({ length: 200 }, (_, i) => ids(orderTargets(list, sort, seedOf(i))).join()))
    expect(orders.size).toBeGreaterThan(10)
  })

  it.each(['weighted', 'hash'] as const)('%s: returns every item exactly once', (sort) => {
    const list = items([3, 0, 1, 0, 7])
    expect(ids(orderTargets(list, sort, 99)).sort()).toEqual(ids(list).sort())
  })

  it.each<[SortMode, number[], Record<string, number>]>([
    ['weighted', [10, 30, 60], { gw1: 0.1, gw2: 0.3, gw3: 0.6 }],
    ['weighted', [1, 2], { gw1: 1 / 3, gw2: 2 / 3 }],
    ['weighted', [1, 1, 1], { gw1: 1 / 3, gw2: 1 / 3, gw3: 1 / 3 }],
    ['weighted', [1, 1, 1, 1, 96], { gw1: 0.01, gw4: 0.01, gw5: 0.96 }],
    ['hash', [10, 30, 60], { gw1: 0.1, gw2: 0.3, gw3: 0.6 }],
    ['hash', [1, 2], { gw1: 1 / 3, gw2: 2 / 3 }]
  ])('%s %j: first-position shares over 10,000 Call-IDs are within 2 %% of the weights', (sort, weights, expected) => {
    expectShares(shares(items(weights), sort), expected)
  })

  it('weighted: no edge bias — with equal weights each item is last a third of the time too', () => {
    expectShares(shares(items([1, 1, 1]), 'weighted', 2), { gw1: 1 / 3, gw2: 1 / 3, gw3: 1 / 3 })
  })

  it('weighted: the second position follows the draw without replacement', () => {
    // P(gw1 second) = P(gw2 first)·1/4 + P(gw3 first)·1/2 = 0.3·(10/70) + 0.6·(10/40)
    expectShares(shares(items([10, 30, 60]), 'weighted', 1), { gw1: 0.3 * 10 / 70 + 0.6 * 10 / 40 })
  })

  it.each(['weighted', 'hash'] as const)('%s: zero weights come after every weighted item, in a uniform order among themselves', (sort) => {
    const list = items([0, 5, 0, 5])
    const firstZero: Record<string, number> = { gw1: 0, gw3: 0 }
    for (let i = 0; i < CALLS; i++) {
      const order = ids(orderTargets(list, sort, seedOf(i)))
      expect(order.slice(0, 2).sort()).toEqual(['gw2', 'gw4'])
      firstZero[order[2] ?? '']! += 1 / CALLS
    }
    expectShares(firstZero, { gw1: 0.5, gw3: 0.5 })
  })

  it.each(['weighted', 'hash'] as const)('%s: all-zero weights are a uniform shuffle', (sort) => {
    expectShares(shares(items([0, 0, 0, 0]), sort), { gw1: 0.25, gw2: 0.25, gw3: 0.25, gw4: 0.25 })
  })

  it('hash: removing one item never reorders the others', () => {
    const list = items([10, 20, 30, 40, 0])
    for (let i = 0; i < 1000; i++) {
      const full = ids(orderTargets(list, 'hash', seedOf(i)))
      for (const gone of ids(list)) {
        const without = ids(orderTargets(list.filter((item) => item.id !== gone), 'hash', seedOf(i)))
        expect(without).toEqual(full.filter((id) => id !== gone))
      }
    }
  })

  it('hash: calls whose first choice was not the removed item keep their first choice', () => {
    const list = items([10, 30, 60])
    let moved = 0
    for (let i = 0; i < CALLS; i++) {
      const before = orderTargets(list, 'hash', seedOf(i))[0]?.id
      const after = orderTargets(list.slice(1), 'hash', seedOf(i))[0]?.id
      if (before !== 'gw1' && before !== after) moved++
    }
    expect(moved).toBe(0)
  })
})

/** The orders as first written: a copy per weighted call, an object per item and Array#sort for the others. */
const reference = {
  weighted<T extends Sortable> (items: readonly T[], seed: number): T[] {
    const next = createRandom(seed)
    const list = items.slice()
    let total = 0
    for (const item of list) total += item.weight
    let p = 0
    for (; total > 0; p++) {
      const r = below(next, total)
      let acc = 0
      let j = p
      for (; j < list.length; j++) {
        acc += list[j]!.weight
        if (acc > r) break
      }
      const picked = list[j]!
      list[j] = list[p]!
      list[p] = picked
      total -= picked.weight
    }
    for (let i = list.length - 1; i > p; i--) {
      const j = p + below(next, i - p + 1)
      const swap = list[i]!
      list[i] = list[j]!
      list[j] = swap
    }
    return list
  },
  hash<T extends Sortable> (items: readonly T[], seed: number): T[] {
    const scored = items.map((item) => {
      const h = mixSeed(seed, item.hashKey)
      return { item, h, score: item.weight > 0 ? -Math.log((h + 0.5) / 2 ** 32) / item.weight : Infinity }
    })
    return scored.sort((a, b) => (a.score - b.score) || (a.h - b.h)).map((s) => s.item)
  },
  least_loaded<T extends Sortable> (items: readonly T[], seed: number, free: (item: T) => number): T[] {
    const scored = items.map((item) => ({ item, free: free(item), h: mixSeed(seed, item.hashKey) }))
    return scored.sort((a, b) => (b.free - a.free) || (a.h - b.h)).map((s) => s.item)
  }
}

describe('orderTargets into scratch arrays', () => {
  it.each(['weighted', 'hash', 'least_loaded'] as const)('%s: the same order as the reference for every seed, with ties, zero weights and long lists', (sort) => {
    const into: Item[] = []
    const nested: Item[] = []
    let seed = 1
    const next = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n }
    for (let round = 0; round < 3000; round++) {
      const n = 2 + (round % 10 === 0 ? next(80) : next(8))
      // Repeated ids (same hash key) and equal capacities make ties on both keys.
      const list = Array.from({ length: n }, (_, i) => {
        const id = `gw${next(3) === 0 ? 1 : i}`
        return { id, weight: next(4) === 0 ? 0 : next(50), hashKey: hashString(id) }
      })
      const frees = new Map(list.map((item) => [item, [0, 0.5, 1][next(3)]!]))
      const free = (item: Item): number => frees.get(item)!
      const callSeedOf = seedOf(round)
      const expected = ids(sort === 'least_loaded' ? reference.least_loaded(list, callSeedOf, free) : reference[sort](list, callSeedOf))
      // A nested order into another array must not disturb the first (a carrier inside a rule).
      const outer = orderTargets(list, sort, callSeedOf, free, into)
      orderTargets(list.slice().reverse(), sort, callSeedOf + 1, free, nested)
      expect(ids(outer)).toEqual(expected)
      expect(outer).toBe(into)
    }
  })

  it('leaves `ordered` and single items as they are, without touching the scratch array', () => {
    const into: Item[] = []
    const list = items([5, 1])
    expect(orderTargets(list, 'ordered', 3, undefined, into)).toBe(list)
    expect(orderTargets(items([5]), 'hash', 3, undefined, into)).toHaveLength(1)
    expect(into).toHaveLength(0)
  })
})
