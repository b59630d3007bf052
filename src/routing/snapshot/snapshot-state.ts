/**
 * What a loaded snapshot keeps besides its table so that an edit can be applied to it without a
 * full reload (incremental.ts): the head it was compiled from, the row-id names of its targets,
 * the interning context of its rules, the checksum's parts, and per group how many prefixes of
 * each length it holds (its maxPrefixLength). None of it is reachable from the table: an update
 * builds a new table and keeps working on this.
 */
import type { Hash } from 'node:crypto'
import type { RuleContext } from './compile-rows.js'
import type { LoadCounts, PartitionHead } from './compiled.js'
import type { RowSum } from './data-checksum.js'
import type { RowHashes } from './row-hashes.js'
import type { TargetNames } from './rule-pages.js'

/** Longest rule prefix: `+` and 64 digits (compile-rows.ts RULE_PREFIX). */
export const MAX_PREFIX_LENGTH = 65

export interface SnapshotState {
  head: PartitionHead
  names: TargetNames
  ctx: RuleContext
  headHash: Hash
  readonly counts: LoadCounts
  readonly rows: RowSum
  readonly hashes: RowHashes
  /** Per group: how many prefixes of each length (index) it has rules at. */
  readonly prefixLengths: Map<string, Int32Array>
  /** Rules read but discarded: an edit of a gateway or carrier may make them usable. */
  readonly discarded: Set<number>
}

export const NO_NAMES: TargetNames = { gateways: new Map(), carriers: new Map() }

/** The highest length with a prefix, 0 when none. */
export function maxLength (lengths: Int32Array): number {
  for (let n = lengths.length - 1; n > 0; n--) if ((lengths[n] as number) > 0) return n
  return 0
}
