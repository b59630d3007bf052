/**
 * A table's rule id → slot map without a million-entry Map. A full read compiles the rules in id
 * order (rule-pages.ts reads them so) and writes them into consecutive slots, so the store's own
 * id column, over the slots the read wrote, is already sorted: a lookup is a binary search in it.
 * A Map of a million numbers was a second of a million-rule load, and each time it grew it rehashed
 * every entry in one step, a stall of tens of milliseconds the event loop could not get between.
 * Rules given out of order (an import document, a test's pages) are filed in a Map instead.
 */
import type { RuleStore } from './compiled.js'

/** The ids of slots [0, size) of a store, ascending: slot i holds the i-th smallest id. */
class SortedSlots implements ReadonlyMap<number, number> {
  constructor (private readonly store: RuleStore, readonly size: number) {}

  get (id: number): number | undefined {
    // The column is read on each call: a store that grew replaced its arrays, with the same values.
    const ids = this.store.id
    let lo = 0
    let hi = this.size - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const at = ids[mid] as number
      if (at === id) return mid
      if (at < id) lo = mid + 1
      else hi = mid - 1
    }
    return undefined
  }

  has (id: number): boolean { return this.get(id) !== undefined }

  * entries (): MapIterator<[number, number]> { for (let slot = 0; slot < this.size; slot++) yield [this.store.id[slot] as number, slot] }
  * keys (): MapIterator<number> { for (let slot = 0; slot < this.size; slot++) yield this.store.id[slot] as number }
  * values (): MapIterator<number> { for (let slot = 0; slot < this.size; slot++) yield slot }
  [Symbol.iterator] (): MapIterator<[number, number]> { return this.entries() }

  forEach (fn: (slot: number, id: number, map: ReadonlyMap<number, number>) => void): void {
    for (let slot = 0; slot < this.size; slot++) fn(slot, this.store.id[slot] as number, this)
  }
}

/** Collects the slots of a table being compiled; `has` finds a repeated id. */
export interface SlotIds {
  has: (id: number) => boolean
  set: (id: number, slot: number) => void
  /** The map of what was set, for the table (nothing is set after). */
  done: () => ReadonlyMap<number, number>
}

/**
 * Starts sorted when the store is empty (a full read); the first id out of order, or a slot not
 * the next one, moves what was set into a Map, which takes the rest.
 */
export function slotIds (store: RuleStore): SlotIds {
  let map: Map<number, number> | undefined = store.length === 0 ? undefined : new Map()
  let size = 0
  let last = -Infinity
  return {
    has: (id) => (map === undefined ? id <= last && new SortedSlots(store, size).has(id) : map.has(id)),
    set (id, slot) {
      if (map === undefined && id > last && slot === size) {
        size++
        last = id
        return
      }
      map ??= new Map(new SortedSlots(store, size))
      map.set(id, slot)
    },
    done: () => map ?? new SortedSlots(store, size)
  }
}
