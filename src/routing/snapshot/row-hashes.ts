/**
 * Rule id → the hash of its stored row, for every rule row a snapshot read (loaded or discarded):
 * what an incremental update takes out of the checksum's sum when the row changes or goes. Open
 * addressing over two Float64Arrays: a million entries are 32 MB the collector never walks,
 * where a Map would be a million entries and heap numbers to mark on every major collection.
 */
const EMPTY = 0
const DELETED = -1

export interface RowHashes {
  readonly size: () => number
  readonly get: (id: number) => number | undefined
  readonly set: (id: number, hash: number) => void
  readonly delete: (id: number) => void
  /** How many slots there are: a pass over every entry in steps is `forEachIn` over [0, slots()). */
  readonly slots: () => number
  /** The entries held by slots [from, to), in no particular order. */
  readonly forEachIn: (from: number, to: number, fn: (id: number, hash: number) => void) => void
}

/** Rule ids are >= 1 (a database check), so 0 and -1 mark free slots. */
export function createRowHashes (expected = 1024): RowHashes {
  let capacity = 1024
  while (capacity < expected * 2) capacity *= 2
  let keys = new Float64Array(capacity)
  let values = new Float64Array(capacity)
  let size = 0
  let used = 0

  const slotOf = (id: number): number => {
    let i = (Math.imul(id | 0, 0x9e3779b1) ^ Math.floor(id / 4294967296)) & (keys.length - 1)
    let free = -1
    for (;;) {
      const k = keys[i] as number
      if (k === id) return i
      if (k === EMPTY) return free >= 0 ? free : i
      if (k === DELETED && free < 0) free = i
      i = (i + 1) & (keys.length - 1)
    }
  }

  const grow = (): void => {
    const oldKeys = keys
    const oldValues = values
    const length = size * 4 > oldKeys.length ? oldKeys.length * 2 : oldKeys.length
    keys = new Float64Array(length)
    values = new Float64Array(length)
    used = size
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i] as number
      if (k === EMPTY || k === DELETED) continue
      const at = slotOf(k)
      keys[at] = k
      values[at] = oldValues[i] as number
    }
  }

  return {
    size: () => size,
    get (id) {
      const at = slotOf(id)
      return keys[at] === id ? values[at] : undefined
    },
    set (id, hash) {
      let at = slotOf(id)
      if (keys[at] !== id) {
        if ((used + 1) * 2 > keys.length) {
          grow()
          at = slotOf(id)
        }
        if (keys[at] === EMPTY) used++
        keys[at] = id
        size++
      }
      values[at] = hash
    },
    delete (id) {
      const at = slotOf(id)
      if (keys[at] !== id) return
      keys[at] = DELETED
      size--
    },
    slots: () => keys.length,
    forEachIn (from, to, fn) {
      for (let i = from; i < Math.min(to, keys.length); i++) {
        const k = keys[i] as number
        if (k !== EMPTY && k !== DELETED) fn(k, values[i] as number)
      }
    }
  }
}
