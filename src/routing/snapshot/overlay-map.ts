/**
 * A read-only map that is another map with a few entries changed: how an incremental update
 * changes a million-entry index copy-on-write without copying it. The old map is never touched,
 * so a decision that holds the old table sees the old entries whole. An overlay of an overlay
 * keeps one level (its changes are merged); past a limit the changes are folded into a new map,
 * in steps so that the event loop keeps turning.
 */
import { ROWS_PER_STEP, type Steps } from './slices.js'

/** A removed entry in the changes. */
export const GONE: unique symbol = Symbol('gone')
export type Change<V> = V | typeof GONE

/** Changes kept over a base before they are folded into a new map. */
export const OVERLAY_LIMIT = 50_000

export class OverlayMap<K, V> implements ReadonlyMap<K, V> {
  readonly size: number

  constructor (readonly base: ReadonlyMap<K, V>, readonly changes: ReadonlyMap<K, Change<V>>) {
    let size = base.size
    for (const [key, value] of changes) {
      const had = base.has(key)
      if (value === GONE) size -= had ? 1 : 0
      else size += had ? 0 : 1
    }
    this.size = size
  }

  get (key: K): V | undefined {
    const changed = this.changes.get(key)
    if (changed === undefined) return this.base.get(key)
    return changed === GONE ? undefined : changed
  }

  has (key: K): boolean {
    const changed = this.changes.get(key)
    return changed === undefined ? this.base.has(key) : changed !== GONE
  }

  * entries (): MapIterator<[K, V]> {
    for (const [key, value] of this.base) if (!this.changes.has(key)) yield [key, value]
    for (const [key, value] of this.changes) if (value !== GONE) yield [key, value]
  }

  * keys (): MapIterator<K> { for (const [key] of this.entries()) yield key }
  * values (): MapIterator<V> { for (const [, value] of this.entries()) yield value }
  [Symbol.iterator] (): MapIterator<[K, V]> { return this.entries() }

  forEach (fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this)
  }
}

/**
 * `map` with `changes` applied, sharing `map`'s entries. Returns steps because folding a large
 * overlay into a new map takes a while.
 */
export function * overlay<K, V> (map: ReadonlyMap<K, V>, changes: ReadonlyMap<K, Change<V>>): Steps<ReadonlyMap<K, V>> {
  if (changes.size === 0) return map
  const base = map instanceof OverlayMap ? map.base as ReadonlyMap<K, V> : map
  const merged = new Map<K, Change<V>>(map instanceof OverlayMap ? map.changes as ReadonlyMap<K, Change<V>> : undefined)
  for (const [key, value] of changes) merged.set(key, value)
  if (merged.size <= OVERLAY_LIMIT && merged.size * 4 <= base.size) return new OverlayMap(base, merged)
  const folded = new Map<K, V>()
  let n = 0
  for (const [key, value] of base) {
    if (!merged.has(key)) folded.set(key, value)
    if (++n % ROWS_PER_STEP === 0) yield
  }
  for (const [key, value] of merged) if (value !== GONE) folded.set(key, value)
  return folded
}
