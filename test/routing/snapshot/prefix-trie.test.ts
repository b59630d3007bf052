import { describe, expect, it } from 'vitest'
import { PrefixTrieBuilder, sortSlots, type PrefixMap, type PrefixRules } from '../../../src/routing/snapshot/prefix-trie.js'
import { overlayPrefixes, type PrefixChange } from '../../../src/routing/snapshot/prefix-overlay.js'
import { GONE } from '../../../src/routing/snapshot/overlay-map.js'
import { runAtOnce } from '../../../src/routing/snapshot/slices.js'

/** A small deterministic generator, so a failure repeats. */
function lcg (seed: number): () => number {
  let state = seed
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 0x1_0000_0000
}

const ALPHABET = '0123456789+*#'

function randomPrefix (random: () => number, maxLength: number): string {
  let text = ''
  const length = Math.floor(random() * (maxLength + 1))
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * (random() < 0.9 ? 10 : ALPHABET.length))]
  return text
}

const byDescending = (a: number, b: number): number => b - a

/** What the trie must equal: a Map of prefix → slots, sorted as the builder sorts them. */
function build (entries: ReadonlyArray<[string, number]>): { trie: PrefixMap, reference: Map<string, PrefixRules>, lengths: Int32Array } {
  const builder = new PrefixTrieBuilder(65)
  const lists = new Map<string, number[]>()
  for (const [prefix, slot] of entries) {
    builder.add(prefix, slot)
    lists.set(prefix, [...(lists.get(prefix) ?? []), slot])
  }
  const trie = runAtOnce(builder.finish(byDescending))
  const reference = new Map<string, PrefixRules>([...lists].map(([prefix, slots]) => [prefix, slots.length === 1 ? slots[0] as number : slots.sort(byDescending)]))
  return { trie, reference, lengths: builder.lengths }
}

function expectSame (trie: PrefixMap, reference: ReadonlyMap<string, PrefixRules>, numbers: readonly string[]): void {
  expect(trie.size).toBe(reference.size)
  const sortedEntries = (map: Iterable<[string, PrefixRules]>): Array<[string, PrefixRules]> => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  expect(sortedEntries(trie)).toEqual(sortedEntries(reference))
  const found: Array<PrefixRules | undefined> = []
  for (const number of numbers) {
    expect(trie.get(number)).toEqual(reference.get(number))
    expect(trie.has(number)).toBe(reference.has(number))
    const upTo = Math.min(number.length, 9)
    trie.matches(number, upTo, found)
    for (let n = 0; n <= upTo; n++) expect(found[n], `${number} at ${n}`).toEqual(reference.get(number.slice(0, n)))
  }
}

describe('prefix trie', () => {
  it('holds what a Map of the same prefixes holds, and walks a number as slicing it would', () => {
    const random = lcg(7)
    const entries: Array<[string, number]> = Array.from({ length: 3000 }, (_, slot) => [randomPrefix(random, 6), slot])
    const { trie, reference, lengths } = build(entries)
    const numbers = [...Array.from({ length: 500 }, () => randomPrefix(random, 12)), ...reference.keys(), '', '99999999999']
    expectSame(trie, reference, numbers)
    for (let n = 0; n <= 6; n++) expect(lengths[n]).toBe([...reference.keys()].filter((p) => p.length === n).length)
  })

  it('sorts and freezes the rules of a prefix with several', () => {
    const { trie } = build([['44', 1], ['44', 7], ['44', 3], ['4', 2]])
    expect(trie.get('44')).toEqual([7, 3, 1])
    expect(Object.isFrozen(trie.get('44'))).toBe(true)
    expect(trie.get('4')).toBe(2)
    expect(trie.get('441')).toBeUndefined()
    expect(trie.get('')).toBeUndefined()
  })

  it('overlays changes copy-on-write, merges overlays of overlays, and folds many changes into a new trie', () => {
    const random = lcg(11)
    const { trie } = build(Array.from({ length: 2000 }, (_, slot) => [randomPrefix(random, 6), slot]))
    const before = new Map(trie)
    let map: PrefixMap = trie
    const reference = new Map(trie)
    let slot = 10_000
    for (let round = 0; round < 30; round++) {
      const changes = new Map<string, PrefixChange>()
      const keys = [...reference.keys()]
      for (let i = 0; i < (round === 29 ? 600 : 5); i++) {
        if (random() < 0.4 && keys.length > 0) changes.set(keys[Math.floor(random() * keys.length)] as string, GONE)
        else changes.set(randomPrefix(random, 7), random() < 0.5 ? slot++ : Object.freeze([slot++, slot++]))
      }
      for (const [prefix, change] of changes) {
        if (change === GONE) reference.delete(prefix)
        else reference.set(prefix, change)
      }
      map = runAtOnce(overlayPrefixes(map, changes))
      expectSame(map, reference, [...Array.from({ length: 50 }, () => randomPrefix(random, 10)), ...changes.keys()])
    }
    // The loaded trie itself never changed.
    expect(new Map(trie)).toEqual(before)
  })

  it('removes a prefix nobody had without counting it', () => {
    const { trie } = build([['1', 1]])
    const map = runAtOnce(overlayPrefixes(trie, new Map<string, PrefixChange>([['2', GONE], ['1', 5]])))
    expect(map.size).toBe(1)
    expect(map.get('1')).toBe(5)
  })
})

describe('sortSlots', () => {
  it('orders a list as Array.prototype.sort does, in place, short or long, ties kept in order', () => {
    const next = lcg(11)
    const rnd = (n: number): number => Math.floor(next() * n)
    const priority = Array.from({ length: 64 }, () => rnd(4))
    const by = (a: number, b: number): number => (priority[b] as number) - (priority[a] as number)
    for (let length = 0; length <= 40; length++) {
      const list = Array.from({ length }, () => rnd(64))
      const expected = list.slice().sort(by)
      expect(sortSlots(list, by)).toBe(list)
      expect(list).toEqual(expected)
    }
  })
})
