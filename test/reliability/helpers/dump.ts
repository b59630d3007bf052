/** Every row of the routing, gateway-state and status-group tables as one canonical text: equal dumps, equal data. */
import type { Kysely } from 'kysely'
import type { Database } from '../../../src/db.js'

export const DUMPED_TABLES = [
  'partition', 'gateway', 'carrier', 'carrier_gateway', 'rule', 'rule_target', 'caller_group',
  'gateway_state', 'carrier_state', 'runtime_setting', 'status_group'
] as const

/** Rows sorted by their JSON text: the order a SELECT returns them in is not part of the data. */
export async function dumpTables (db: Kysely<Database>): Promise<string> {
  const tables = await Promise.all(DUMPED_TABLES.map(async (table) => {
    const rows = await db.selectFrom(table).selectAll().execute()
    return [table, rows.map((row) => JSON.stringify(row)).sort()] as const
  }))
  return JSON.stringify(Object.fromEntries(tables))
}

/** What differs between two dumps, table by table: rows only in `before` (-) and only in `after` (+). */
export function dumpDiff (before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, string[]>
  const b = JSON.parse(after) as Record<string, string[]>
  const lines: string[] = []
  for (const table of Object.keys({ ...a, ...b })) {
    const was = new Set(a[table] ?? [])
    const now = new Set(b[table] ?? [])
    for (const row of was) if (!now.has(row)) lines.push(`${table} - ${row}`)
    for (const row of now) if (!was.has(row)) lines.push(`${table} + ${row}`)
  }
  return lines.join('\n')
}
