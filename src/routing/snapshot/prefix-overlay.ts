/**
 * Copy-on-write of a group's prefix trie (prefix-trie.ts) for an incremental update: a small
 * trie of the changed prefixes, each its new rules or its removal, laid over the loaded trie;
 * past a limit the changes are folded into a new trie, in steps.
 */
import { NO_NODE, NOTHING, PrefixMapBase, PrefixTrie, REMOVED, type PrefixMap, type PrefixRules } from './prefix-trie.js'
import { ROWS_PER_STEP, type Steps } from './slices.js'

/** The removed entry of a change (`overlayPrefixes`). */
export const REMOVED_PREFIX: unique symbol = Symbol('removed prefix')
export type PrefixChange = PrefixRules | typeof REMOVED_PREFIX

/** A trie of changes, each the new rules of a prefix or its removal. */
export class ChangeTrie extends PrefixTrie {
  set (prefix: string, change: PrefixChange): void {
    const node = this.nodeOf(prefix)
    if (this.value[node] === NOTHING) this.size++
    if (change === REMOVED_PREFIX) this.value[node] = REMOVED
    else this.put(node, change)
  }

  /** Writes this change trie's entries over `found` (see `matches`): a removal clears the entry. */
  changeMatches (number: string, upTo: number, found: Array<PrefixRules | undefined>): void {
    let node = 0
    for (let n = 0; ; n++) {
      const at = this.value[node] as number
      if (at !== NOTHING) found[n] = this.rulesOf(at) // REMOVED has no rules
      if (n === upTo) return
      node = this.child(node, number.charCodeAt(n))
      if (node === NO_NODE) return
    }
  }
}

/**
 * A trie with a change trie over it: what an incremental update gives a group. The changes are
 * kept as a Map too: for `get`, for iteration, and for the next update to merge.
 */
class Overlaid extends PrefixMapBase {
  readonly size: number

  constructor (readonly base: PrefixTrie, readonly over: ChangeTrie, readonly changes: ReadonlyMap<string, PrefixChange>) {
    super()
    let size = base.size
    for (const [prefix, change] of changes) {
      const had = base.has(prefix)
      if (change === REMOVED_PREFIX) size -= had ? 1 : 0
      else size += had ? 0 : 1
    }
    this.size = size
  }

  get (prefix: string): PrefixRules | undefined {
    const change = this.changes.get(prefix)
    if (change === undefined) return this.base.get(prefix)
    return change === REMOVED_PREFIX ? undefined : change
  }

  matches (number: string, upTo: number, found: Array<PrefixRules | undefined>): void {
    this.base.matches(number, upTo, found)
    this.over.changeMatches(number, upTo, found)
  }

  * entries (): MapIterator<[string, PrefixRules]> {
    for (const [prefix, rules] of this.base) if (!this.changes.has(prefix)) yield [prefix, rules]
    for (const [prefix, change] of this.changes) if (change !== REMOVED_PREFIX) yield [prefix, change]
  }
}

/** Changes kept over a trie before they are folded into a new one. */
export const PREFIX_OVERLAY_LIMIT = 50_000

/**
 * `map` with `changes` applied (a prefix → its new rules, already sorted, or REMOVED_PREFIX),
 * sharing `map`'s trie: an earlier overlay's changes are merged, so there is one level. Returns
 * steps because folding many changes into a new trie takes a while.
 */
export function * overlayPrefixes (map: PrefixMap, changes: ReadonlyMap<string, PrefixChange>): Steps<PrefixMap> {
  if (changes.size === 0) return map
  const base = map instanceof Overlaid ? map.base : map as PrefixTrie
  const merged = new Map<string, PrefixChange>(map instanceof Overlaid ? map.changes : undefined)
  for (const [prefix, change] of changes) merged.set(prefix, change)
  if (merged.size <= PREFIX_OVERLAY_LIMIT && merged.size * 4 <= base.size) {
    const over = new ChangeTrie()
    let n = 0
    for (const [prefix, change] of merged) {
      over.set(prefix, change)
      if (++n % ROWS_PER_STEP === 0) yield
    }
    return new Overlaid(base, over, merged)
  }
  const folded = new ChangeTrie()
  let n = 0
  for (const [prefix, rules] of base) {
    if (!merged.has(prefix)) folded.set(prefix, rules)
    if (++n % ROWS_PER_STEP === 0) yield
  }
  for (const [prefix, change] of merged) if (change !== REMOVED_PREFIX) folded.set(prefix, change)
  return folded
}
