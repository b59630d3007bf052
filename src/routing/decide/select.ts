// Scratch: the draw sequence and the sort-key arrays of the order being built.
/**
 * Deterministic target ordering seeded by the Call-ID: ordered, weighted (drouting `W`), hash
 * (rendezvous) and least_loaded (relative free capacity).
 */
import type { SortMode } from '../snapshot/compiled.js'
import { hashString, mixSeed } from '../snapshot/hash.js'

/** What the orderings need of an item: its weight and a precomputed 32-bit hash of its id. */
export interface Sortable {
  readonly weight: number
  readonly hashKey: number
}

/** The seed of a call: same Call-ID, same seed, on every instance and after every restart. */
export const callSeed = (callId: string): number => hashString(callId)

/** The state of one mulberry32 sequence (tiny, fast, passes the usual statistical suites for this use). */
export interface Prng { state: number }

/** The next uint32 of the sequence. */
export function nextUint32 (prng: Prng): number {
  prng.state = (prng.state + 0x6d2b79f5) | 0
  let t = Math.imul(prng.state ^ (prng.state >>> 15), 1 | prng.state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return (t ^ (t >>> 14)) >>> 0
}

const TWO_32 = 0x1_0000_0000

/** An exactly uniform integer in [0, n): rejection removes the modulo bias (drouting issue #108 was a bias). */
export function drawBelow (prng: Prng, n: number): number {
  const limit = TWO_32 - (TWO_32 % n)
  let value = nextUint32(prng)
  while (value >= limit) value = nextUint32(prng)
  return value % n
}

// Scratch: the sequence of the order being drawn, reseeded by each weighted order. One object for
// the module instead of one per call (a closure per call was a measurable share of the decision);
// nothing in between can re-enter.
const draws: Prng = { state: 0 }

/**
 * drouting weight_based_sort: draw r in [0, remaining weight), take the first item whose running
 * sum exceeds r, repeat on the rest. Zero-weight items can never be drawn, so they follow, in a
 * uniform random order (Fisher–Yates); all zero is therefore a uniform shuffle. Writes into `list`.
 */
function weightedOrder<T extends Sortable> (items: readonly T[], seed: number, list: T[]): T[] {
  draws.state = seed | 0
  list.length = items.length
  let total = 0
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T
    list[i] = item
    total += item.weight
  }
  let p = 0
  for (; total > 0; p++) {
    const r = drawBelow(draws, total)
    let acc = 0
    let j = p
    for (; j < list.length; j++) {
      acc += (list[j] as T).weight
      if (acc > r) break
    }
    const picked = list[j] as T
    list[j] = list[p] as T
    list[p] = picked
    total -= picked.weight
  }
  for (let i = list.length - 1; i > p; i--) {
    const j = p + drawBelow(draws, i - p + 1)
    const swap = list[i] as T
    list[i] = list[j] as T
    list[j] = swap
  }
  return list
}

// The sort keys of the list being ordered, by its index: ascending `keys`, ties by ascending
// `hashes`. Shared by every call (an order is computed whole before the next one starts), so an
// order allocates nothing once they have grown to the longest list.
let keys = new Float64Array(16)
let hashes = new Float64Array(16)
const indexes: number[] = []

function reserveKeys (n: number): void {
  if (n <= keys.length) return
  keys = new Float64Array(n)
  hashes = new Float64Array(n)
}

const byKeys = (a: number, b: number): number => ((keys[a] as number) - (keys[b] as number)) || ((hashes[a] as number) - (hashes[b] as number))

/** Below this many items an insertion sort is quicker than Array#sort and allocates nothing. */
const INSERTION_SORT_MAX = 32

/**
 * `items` into `list` by ascending (key, hash), stably: the same order Array#sort gave the former
 * per-item objects with the same comparison, since a stable order under one comparison is unique.
 */
function sortByKeys<T> (items: readonly T[], list: T[]): T[] {
  const n = items.length
  indexes.length = n
  for (let i = 0; i < n; i++) indexes[i] = i
  if (n > INSERTION_SORT_MAX) {
    indexes.sort(byKeys)
  } else {
    for (let i = 1; i < n; i++) {
      const index = indexes[i] as number
      let j = i - 1
      for (; j >= 0 && byKeys(indexes[j] as number, index) > 0; j--) indexes[j + 1] = indexes[j] as number
      indexes[j + 1] = index
    }
  }
  list.length = n
  for (let i = 0; i < n; i++) list[i] = items[indexes[i] as number] as T
  return list
}

/**
 * Weighted rendezvous hashing: each item scores -ln(u)/weight with u a hash of (seed, item id);
 * ascending scores. P(first) = weight / total, like a weighted draw, and an item's score does not
 * depend on the others, so removing one item never reorders the rest. Zero weights score +∞
 * and follow, ordered by their hash.
 */
function hashOrder<T extends Sortable> (items: readonly T[], seed: number, list: T[]): T[] {
  reserveKeys(items.length)
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T
    const h = mixSeed(seed, item.hashKey)
    keys[i] = item.weight > 0 ? -Math.log((h + 0.5) / TWO_32) / item.weight : Infinity
    hashes[i] = h
  }
  return sortByKeys(items, list)
}

/**
 * Most relative free capacity first (1 = unlimited or idle, 0 = full); equal capacity is ordered
 * by a hash of (seed, item id), so ties spread over the items call by call and the same Call-ID
 * gets the same order. Weights play no part: capacity is the operator's statement of size here.
 */
function leastLoadedOrder<T extends Sortable> (items: readonly T[], seed: number, free: (item: T) => number, list: T[]): T[] {
  reserveKeys(items.length)
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T
    // Negated so that ascending keys put the most free first: -a - -b is exactly b - a.
    keys[i] = -free(item)
    hashes[i] = mixSeed(seed, item.hashKey)
  }
  return sortByKeys(items, list)
}

const ALL_FREE = (): number => 1

/**
 * Orders `items` by `sort`; `ordered` (or a single item) returns the same array, allocating nothing.
 * `free` is least_loaded's measure of an item's relative free capacity in [0, 1]. The other orders
 * are written into `into` when given (the caller's scratch array, overwritten by its next use),
 * else into a new array.
 */
export function orderTargets<T extends Sortable> (items: readonly T[], sort: SortMode, seed: number, free: (item: T) => number = ALL_FREE, into: T[] = []): readonly T[] {
  if (items.length < 2 || sort === 'ordered') return items
  if (sort === 'weighted') return weightedOrder(items, seed, into)
  return sort === 'hash' ? hashOrder(items, seed, into) : leastLoadedOrder(items, seed, free, into)
}
