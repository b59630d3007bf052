import { describe, expect, it } from 'vitest'
import { below, callSeed, createRandom, hashString, mixSeed, orderTargets, type Sortable, type SortMode } from '../../src/routing/select.js'

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
    const next = createRandom(7)
    const counts = [0, 0, 0]
    for (let i = 0; i < 30_000; i++) counts[below(next, 3)]! += 1
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
