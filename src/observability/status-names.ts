/**
 * Names for the status integers of the registry's identifiers, for people (the status page, the
 * overview): each owner's status constants with a word per value, and for any other identifier
 * (external groups) the registry's own rule, > 0 ready and < 0 not ready (0 is refused).
 */
import { DB_STATUS } from '../db-monitor.js'
import { EMBEDDED_STATUS } from '../embedded-supervisor.js'
import { PARTITION_STATUS } from '../routing/snapshot/route-tables.js'

/** status → name; a Record over the constant's keys, so a value added there without a name fails to compile. */
const named = <K extends string>(values: Readonly<Record<K, number>>, names: Readonly<Record<K, string>>): ReadonlyMap<number, string> =>
  new Map((Object.keys(values) as K[]).map((key) => [values[key], names[key]]))

/** server.ts's CORE_STATUS (not imported: server.ts imports this folder); test/observability/status-names.test.ts keeps them equal. */
export const CORE_STATUS_NAMES: ReadonlyMap<number, string> = new Map([[-1, 'initialising'], [1, 'running'], [-2, 'terminating']])
const DB = named(DB_STATUS, { unreachable: 'unreachable', connecting: 'connecting', connected: 'connected', degraded: 'degraded (serving from memory)' })
const EMBEDDED = named(EMBEDDED_STATUS, { running: 'running', down: 'down (restarting)' })
const PARTITION = named(PARTITION_STATUS, { noData: 'no data', loading: 'loading', ready: 'ready', reloading: 'reloading' })

/** The names of one identifier's statuses, or undefined where only the generic rule applies. */
function namesOf (group: string, identifier: string): ReadonlyMap<number, string> | undefined {
  if (group === 'core' && identifier === 'main') return CORE_STATUS_NAMES
  if (group === 'db') return identifier === 'main' ? DB : identifier === 'embedded' ? EMBEDDED : undefined
  if (group === 'routing' && !identifier.endsWith(';events')) return PARTITION
  return undefined
}

/** What `status` means for group/identifier: its owner's word, else "ready" / "not ready". */
export function statusName (group: string, identifier: string, status: number): string {
  return namesOf(group, identifier)?.get(status) ?? (status > 0 ? 'ready' : 'not ready')
}

/** Every named status of group/identifier, as JSON object keys (for the page's live events). */
export function statusNames (group: string, identifier: string): Record<string, string> {
  return Object.fromEntries([...(namesOf(group, identifier) ?? [])].map(([status, name]) => [String(status), name]))
}
