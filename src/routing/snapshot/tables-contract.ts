/** What route-tables.ts answers: a partition's lookup, and what a reload was asked to do and what it did. */
import { AppError } from '../../errors.js'
import type { CompiledPartition, LoadCounts } from './compiled.js'

export interface ReloadOutcome {
  readonly partition: string
  readonly ok: boolean
  /** The partition no longer exists in the database (its snapshot was dropped). */
  readonly removed?: boolean
  readonly version?: number
  readonly checksum?: string
  readonly counts?: LoadCounts
  readonly durationMs: number
  readonly error?: string
  /** incremental: the change log applied; verified: every row compared, the differing ones read; full: read and compiled whole. */
  readonly mode?: 'full' | 'incremental' | 'verified'
}

/**
 * How a reload reads: `changes` follows the change log, `verify` compares every row's hash with
 * what is loaded and reads the ones that differ, `full` reads and compiles the partition whole.
 * Each falls back to the next when it cannot tell; a run asked for twice does the stronger.
 */
export type ReloadHow = 'changes' | 'verify' | 'full'
export const STRENGTH: Record<ReloadHow, number> = { changes: 0, verify: 1, full: 2 }

/** What the routing endpoint needs per call, in one Map lookup. */
export type Lookup =
  | { readonly state: 'ready', readonly table: CompiledPartition }
  | { readonly state: 'not_ready' }
  | { readonly state: 'unknown' }

/** The loaded snapshot of a partition, or the 404 / 503 that an admin or feedback request answers. */
export function requireTable (tables: { readonly lookup: (partition: string) => Lookup }, partition: string): CompiledPartition {
  const found = tables.lookup(partition)
  if (found.state === 'unknown') throw new AppError(404, 'not_found', `partition "${partition}" not found`)
  if (found.state === 'not_ready') throw new AppError(503, 'not_ready', `partition "${partition}" has no data loaded yet`)
  return found.table
}
