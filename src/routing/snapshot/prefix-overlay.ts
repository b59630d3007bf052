/**
 * Copy-on-write of a group's prefix trie (prefix-trie.ts) for an incremental update: a small
 * trie of the changed prefixes, each its new rules or its removal, laid over the loaded trie;
 * past a limit the changes are folded into a new trie, in steps.
 */
import { GONE, OverlayMap, type Change } from './overlay-map.js'
import { NO_NODE, NOTHING, PrefixTrie, REMOVED, type PrefixMap, type PrefixRules } from './prefix-trie.js'
import { ROWS_PER_STEP, type Steps } from './slices.js'

/** A prefix's new rules, or GONE: its rules were removed. */
export type PrefixChange = Change<PrefixRules>

/** A trie of changes, each the new rules of a prefix or its removal. */
export class ChangeTrie extends PrefixTrie {
  set (prefix: string, change: PrefixChange): void {
    const node = this.nodeOf(prefix)
    if (this.value[node] === NOTHING) this.size++
    if (change === GONE) this.value[node] = REMOVED
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

/** A trie with a change trie over it (overlay-map.ts for the map, the change trie for the walk): what an incremental update gives a group. */
class Overlaid extends OverlayMap<string, PrefixRules> implements PrefixMap {
  constructor (readonly trie: PrefixTrie, readonly over: ChangeTrie, changes: ReadonlyMap<string, PrefixChange>) {
    super(trie, changes)
  }

  matches (number: string, upTo: number, found: Array<PrefixRules | undefined>): void {
    this.trie.matches(number, upTo, found)
    this.over.changeMatches(number, upTo, found)
  }
}

/** Changes kept over a trie before they are folded into a new one. */
export const PREFIX_OVERLAY_LIMIT = 50_000

/**
 * `map` with `changes` applied (a prefix → its new rules, already sorted, or GONE),
 * sharing `map`'s trie: an earlier overlay's changes are merged, so there is one level. Returns
 * steps because folding many changes into a new trie takes a while.
 */
export function * overlayPrefixes (map: PrefixMap, changes: ReadonlyMap<string, PrefixChange>): Steps<PrefixMap> {
  if (changes.size === 0) return map
  const base = map instanceof Overlaid ? map.trie : map as PrefixTrie
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
  for (const [prefix, change] of merged) if (change !== GONE) folded.set(prefix, change)
  return folded
}
