/**
 * One caller group's prefixes as a trie over typed arrays, the shape of drouting's own prefix tree:
 * a node per prefix character (its ten digit children in one block, any other character's in a
 * short list, and the rules at it), so the longest-prefix walk of a call reads the number's
 * characters once and makes no string, and a million prefixes are a few typed arrays instead of a
 * million-entry Map of strings that the collector marks on every major collection.
 *
 * A trie is immutable once built. An incremental update lays a small trie of its changes over the
 * loaded one (prefix-overlay.ts), where a changed prefix may say its rules were removed; past a
 * limit the changes are folded into a new trie, in steps. Both read as a ReadonlyMap of prefix →
 * rules, which is what explain, exports and the tests use; the decision uses `matches`.
 */
import { ROWS_PER_STEP, type Steps } from './slices.js'

/**
 * The rules of one prefix in a group, as slots of the table's rule store (rule-store.ts), by
 * priority desc, then id asc: the slot itself when it is the only one, as most are (an array per
 * rule was a million more objects for the collector to copy and mark at a million rules).
 */
export type PrefixRules = number | readonly number[]

export const ruleCount = (at: PrefixRules): number => (typeof at === 'number' ? 1 : at.length)
export const slotAt = (at: PrefixRules, i: number): number => (typeof at === 'number' ? at : at[i] as number)

/** A group's prefix → rules, with the walk a decision makes. */
export interface PrefixMap extends ReadonlyMap<string, PrefixRules> {
  /**
   * Sets `found[n]` to the rules at `number`'s first n characters, for every n from 0 to `upTo`
   * (undefined where there are none); `upTo` is at most the number's length.
   */
  matches: (number: string, upTo: number, found: Array<PrefixRules | undefined>) => void
}

// A node's value: no rules, rules removed (a change only), a slot, or (≤ LIST) the list at index LIST - value.
export const NOTHING = -1
export const REMOVED = -2
const LIST = -3
export const NO_NODE = -1
const DIGIT_0 = 48

function grown<A extends Int32Array | Uint16Array> (array: A, capacity: number): A {
  const out = new (array.constructor as new (n: number) => A)(capacity)
  out.set(array)
  return out
}

/** Read-only once built: the builders below and the change trie (prefix-overlay.ts) fill it. */
export class PrefixTrie implements PrefixMap {
  /** Node 0 is the root, the empty prefix. */
  protected nodes = 1
  /** Per node: its block of ten digit children in `digits` (NO_NODE: none yet), ... */
  protected block = new Int32Array(64).fill(NO_NODE)
  /** ... its first child that is not a digit, and its next sibling among those (a list: they are rare), ... */
  protected firstOther = new Int32Array(64).fill(NO_NODE)
  protected nextOther = new Int32Array(64).fill(NO_NODE)
  /** ... the character that leads to it, and its rules. */
  protected code = new Uint16Array(64)
  protected value = new Int32Array(64).fill(NOTHING)
  /** Blocks of ten: the child at each digit, NO_NODE where none. A lookup is two reads, not a walk of siblings. */
  protected digits = new Int32Array(10 * 16).fill(NO_NODE)
  protected blocks = 0
  protected readonly lists: number[][] = []
  /** Prefixes with rules (or, in a change trie, with an entry). */
  size = 0

  protected child (node: number, c: number): number {
    const digit = c - DIGIT_0
    if (digit >= 0 && digit <= 9) {
      const b = this.block[node] as number
      return b === NO_NODE ? NO_NODE : this.digits[b * 10 + digit] as number
    }
    let at = this.firstOther[node] as number
    while (at !== NO_NODE && this.code[at] !== c) at = this.nextOther[at] as number
    return at
  }

  /** The node of `prefix`, made with its missing ancestors. */
  protected nodeOf (prefix: string): number {
    let node = 0
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i)
      const next = this.child(node, c)
      node = next === NO_NODE ? this.newChild(node, c) : next
    }
    return node
  }

  private newChild (parent: number, c: number): number {
    if (this.nodes === this.value.length) this.grow()
    const node = this.nodes++
    this.code[node] = c
    const digit = c - DIGIT_0
    if (digit >= 0 && digit <= 9) {
      let b = this.block[parent] as number
      if (b === NO_NODE) {
        if ((this.blocks + 1) * 10 > this.digits.length) this.digits = grown(this.digits, this.digits.length * 2).fill(NO_NODE, this.digits.length)
        this.block[parent] = b = this.blocks++
      }
      this.digits[b * 10 + digit] = node
    } else {
      this.nextOther[node] = this.firstOther[parent] as number
      this.firstOther[parent] = node
    }
    return node
  }

  private grow (): void {
    const capacity = this.value.length * 2
    const from = this.value.length
    this.block = grown(this.block, capacity).fill(NO_NODE, from)
    this.firstOther = grown(this.firstOther, capacity).fill(NO_NODE, from)
    this.nextOther = grown(this.nextOther, capacity).fill(NO_NODE, from)
    this.code = grown(this.code, capacity)
    this.value = grown(this.value, capacity).fill(NOTHING, from)
  }

  /** Puts `rules` (sorted) at `node`. */
  protected put (node: number, rules: PrefixRules): void {
    if (typeof rules === 'number') {
      this.value[node] = rules
    } else {
      this.value[node] = LIST - this.lists.length
      this.lists.push(rules as number[])
    }
  }

  /** The node of `prefix`, or NO_NODE. */
  protected find (prefix: string): number {
    let node = 0
    for (let i = 0; i < prefix.length && node !== NO_NODE; i++) node = this.child(node, prefix.charCodeAt(i))
    return node
  }

  protected rulesOf (value: number): PrefixRules | undefined {
    return value >= 0 ? value : value <= LIST ? this.lists[LIST - value] : undefined
  }

  get (prefix: string): PrefixRules | undefined {
    const node = this.find(prefix)
    return node === NO_NODE ? undefined : this.rulesOf(this.value[node] as number)
  }

  has (prefix: string): boolean { return this.get(prefix) !== undefined }

  matches (number: string, upTo: number, found: Array<PrefixRules | undefined>): void {
    const { value } = this
    let node = 0
    let n = 0
    for (;;) {
      const at = value[node] as number
      found[n] = at >= 0 ? at : at <= LIST ? this.lists[LIST - at] : undefined
      if (n === upTo) return
      node = this.child(node, number.charCodeAt(n++))
      if (node === NO_NODE) break
    }
    for (; n <= upTo; n++) found[n] = undefined
  }

  /** Every node with a value, depth first, with its prefix. */
  protected * nodesWithValues (): Generator<[string, number]> {
    const stack: Array<[number, string]> = [[0, '']]
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const [node, prefix] = top
      if (this.value[node] !== NOTHING) yield [prefix, node]
      const b = this.block[node] as number
      for (let d = 0; d < 10 && b !== NO_NODE; d++) {
        const c = this.digits[b * 10 + d] as number
        if (c !== NO_NODE) stack.push([c, prefix + String(d)])
      }
      for (let c = this.firstOther[node] as number; c !== NO_NODE; c = this.nextOther[c] as number) stack.push([c, prefix + String.fromCharCode(this.code[c] as number)])
    }
  }

  * entries (): MapIterator<[string, PrefixRules]> {
    for (const [prefix, node] of this.nodesWithValues()) {
      const rules = this.rulesOf(this.value[node] as number)
      if (rules !== undefined) yield [prefix, rules]
    }
  }

  * keys (): MapIterator<string> { for (const [key] of this.entries()) yield key }
  * values (): MapIterator<PrefixRules> { for (const [, value] of this.entries()) yield value }
  [Symbol.iterator] (): MapIterator<[string, PrefixRules]> { return this.entries() }
  forEach (fn: (value: PrefixRules, key: string, map: ReadonlyMap<string, PrefixRules>) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this)
  }
}

/** A trie being built from a load's rules, one (prefix, slot) at a time; then `finish`. */
export class PrefixTrieBuilder extends PrefixTrie {
  /** How many prefixes of each length have rules (snapshot-state.ts prefixLengths). */
  readonly lengths: Int32Array
  maxPrefixLength = 0

  constructor (maxPrefixLength: number) {
    super()
    this.lengths = new Int32Array(maxPrefixLength + 1)
  }

  /** Files `slot` under `prefix`: the rules of a prefix are sorted by `finish`. */
  add (prefix: string, slot: number): void {
    const node = this.nodeOf(prefix)
    const at = this.value[node] as number
    if (at === NOTHING) {
      this.value[node] = slot
      this.size++
      this.lengths[prefix.length] = (this.lengths[prefix.length] as number) + 1
      if (prefix.length > this.maxPrefixLength) this.maxPrefixLength = prefix.length
    } else if (at >= 0) {
      this.value[node] = LIST - this.lists.length
      this.lists.push([at, slot])
    } else {
      (this.lists[LIST - at] as number[]).push(slot)
    }
  }

  /** Sorts each prefix's rules by `byPriority`; the trie must not be changed after. */
  * finish (byPriority: (a: number, b: number) => number): Steps<PrefixMap> {
    for (let i = 0; i < this.lists.length; i++) {
      Object.freeze(sortSlots(this.lists[i] as number[], byPriority))
      if (i % ROWS_PER_STEP === 0) yield
    }
    return this
  }
}

/** Lists up to this long are sorted in place by insertion. */
const SHORT_LIST = 16

/**
 * `list` sorted by `by`, in place. Most prefixes with more than one rule have two or three, and
 * Array.prototype.sort copies its array into a work array on every call: at a million rules,
 * about a tenth of what a load allocated (docs/benchmarks.md).
 */
export function sortSlots (list: number[], by: (a: number, b: number) => number): number[] {
  if (list.length > SHORT_LIST) return list.sort(by)
  for (let i = 1; i < list.length; i++) {
    const slot = list[i] as number
    let j = i - 1
    for (; j >= 0 && by(list[j] as number, slot) > 0; j--) list[j + 1] = list[j] as number
    list[j + 1] = slot
  }
  return list
}

export const EMPTY_PREFIXES: PrefixMap = new PrefixTrieBuilder(0)
