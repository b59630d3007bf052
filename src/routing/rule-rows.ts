/**
 * The rules and gateways of a partition as the snapshot loader reads them, in pages. A page of
 * rules is one query: the rules, and their targets folded into one text per rule by PostgreSQL
 * over one range scan of rule_target (a subquery per rule cost PostgreSQL twice as much). A row
 * per target cost more than the rest of the read together; the names come from the gateway and
 * carrier rows the same transaction already read.
 *
 * At a million rules the read is allocation-bound (every object that survives the page is copied
 * by the young-generation collector, then marked in the old one), so a page is mapped straight
 * to RuleData and the parts that repeat across rules are shared: the groups, time window, attrs,
 * sort and target list of a rule are parsed once per distinct text. Shared values are frozen.
 */
import { sql, type Selectable, type Transaction } from 'kysely'
import type { Database, GatewayTable } from '../db.js'
import type { RuleData, RuleTargetData, TimeWindowData } from './routing-data.schema.js'

/**
 * Rows per page. libuv reads a socket up to 32 times in one turn, and pg parses every complete
 * row it gets there: one unpaged result of a million rules held the event loop for about 100 ms
 * at a time. A page of this size is well under a millisecond of parsing per socket read.
 */
export const RULE_PAGE = 2000

/** A rule as one page query gives it: jsonb and the groups array as text, parsed (once per distinct value) here. */
interface RuleRow {
  readonly id: string
  readonly groups: string
  readonly prefix: string
  readonly priority: number
  readonly time_window: string | null
  readonly sort: RuleData['sort']
  readonly max_targets: number | null
  readonly fallback: boolean
  readonly attrs: string
  readonly enabled: boolean
  readonly description: string
  /** `g<gateway row id>:<weight>` or `c<carrier row id>:<weight>`, comma-separated in position order; null: none. */
  readonly targets: string | null
}

function page (trx: Transaction<Database>, partitionId: string, after: string): Promise<{ rows: RuleRow[] }> {
  return sql<RuleRow>`
    WITH r AS (
      SELECT id, groups::text AS groups, prefix, priority, time_window::text AS time_window, sort, max_targets, fallback, attrs::text AS attrs, enabled, description
      FROM rule WHERE partition_id = ${partitionId} AND id > ${after} ORDER BY id LIMIT ${RULE_PAGE}
    )
    SELECT r.*, t.targets FROM r LEFT JOIN (
      SELECT rule_id, string_agg(coalesce('g' || gateway_id, 'c' || carrier_id) || ':' || weight, ',' ORDER BY position) AS targets
      FROM rule_target
      WHERE partition_id = ${partitionId} AND rule_id > ${after} AND rule_id <= (SELECT max(id) FROM r)
      GROUP BY rule_id
    ) t ON t.rule_id = r.id
    ORDER BY r.id`.execute(trx)
}

/**
 * A PostgreSQL text[] literal (`{a,b}`, `{"a b","c\"d"}`) as its elements; unquoted NULL is null,
 * as pg's own array parser gives it.
 */
export function parseTextArray (text: string): Array<string | null> {
  const inner = text.slice(1, -1)
  if (inner === '') return []
  if (!inner.includes('"') && !inner.includes('\\')) return inner.split(',').map((item) => (item === 'NULL' ? null : item))
  const out: Array<string | null> = []
  let i = 0
  while (i <= inner.length) {
    let item = ''
    if (inner[i] === '"') {
      for (i++; i < inner.length && inner[i] !== '"'; i++) item += inner[i] === '\\' ? inner[++i] : inner[i]
      out.push(item)
      i += 2
    } else {
      const comma = inner.indexOf(',', i)
      const end = comma < 0 ? inner.length : comma
      item = inner.slice(i, end)
      out.push(item === 'NULL' ? null : item)
      i = end + 1
    }
  }
  return out
}

const NO_TARGETS: RuleTargetData[] = Object.freeze([]) as unknown as RuleTargetData[]
const EMPTY_ATTRS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>
const asAttrs = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}

/** Parses a text once per distinct value; what it gives is frozen, being shared. */
function interner<T> (parse: (text: string) => T): (text: string) => T {
  const seen = new Map<string, T>()
  return (text) => {
    let value = seen.get(text)
    if (value === undefined) {
      value = Object.freeze(parse(text))
      seen.set(text, value)
    }
    return value
  }
}

/**
 * Every rule of the partition as RuleData (what rows.ts's ruleFromRow gives for the same row), in
 * id order, read in pages inside the caller's transaction (one snapshot). The next page is asked
 * for before this one is mapped, so PostgreSQL works on it meanwhile.
 */
export async function selectRuleData (trx: Transaction<Database>, partitionId: string, names: TargetNames): Promise<RuleData[]> {
  const groupsOf = interner((text) => parseTextArray(text) as string[])
  const windowOf = interner((text) => JSON.parse(text) as TimeWindowData)
  const attrsOf = interner((text) => (text === '{}' ? EMPTY_ATTRS : asAttrs(JSON.parse(text))))
  const targetsOf = interner((text) => targetsFromText(text, names).map((t) => Object.freeze(t)))
  const sorts = new Map<string, RuleData['sort']>()
  const out: RuleData[] = []
  let next = page(trx, partitionId, '0')
  for (;;) {
    const { rows } = await next
    const full = rows.length === RULE_PAGE
    if (full) next = page(trx, partitionId, (rows[rows.length - 1] as RuleRow).id)
    for (const r of rows) {
      let sort = sorts.get(r.sort)
      if (sort === undefined) sorts.set(r.sort, sort = r.sort)
      out.push({
        id: Number(r.id),
        groups: groupsOf(r.groups),
        prefix: r.prefix,
        priority: r.priority,
        time_window: r.time_window === null ? null : windowOf(r.time_window),
        targets: r.targets === null ? NO_TARGETS : targetsOf(r.targets),
        sort,
        max_targets: r.max_targets,
        fallback: r.fallback,
        attrs: attrsOf(r.attrs),
        enabled: r.enabled,
        description: r.description
      })
    }
    if (!full) return out
  }
}

/** The partition's gateways in gw_id byte order (COLLATE "C", as exports sort them), in pages like the rules. */
export async function selectGateways (trx: Transaction<Database>, partitionId: string): Promise<Array<Selectable<GatewayTable>>> {
  const out: Array<Selectable<GatewayTable>> = []
  let after: string | undefined
  for (;;) {
    const { rows } = await sql<Selectable<GatewayTable>>`
      SELECT * FROM gateway
      WHERE partition_id = ${partitionId} ${after === undefined ? sql`` : sql`AND gw_id COLLATE "C" > ${after}`}
      ORDER BY gw_id COLLATE "C" LIMIT ${RULE_PAGE}`.execute(trx)
    for (const row of rows) out.push(row)
    if (rows.length < RULE_PAGE) return out
    after = (rows[rows.length - 1] as Selectable<GatewayTable>).gw_id
  }
}

/** Row id → name, of the partition's gateways and carriers. */
export interface TargetNames {
  readonly gateways: ReadonlyMap<string, string>
  readonly carriers: ReadonlyMap<string, string>
}

/**
 * The targets of one rule, as the former per-target join gave them: a gateway by its name, else
 * the carrier's name ('' when it has none: the foreign keys make that impossible).
 */
export function targetsFromText (text: string | null, names: TargetNames): RuleTargetData[] {
  if (text === null || text === '') return []
  const out: RuleTargetData[] = []
  for (const item of text.split(',')) {
    const colon = item.indexOf(':')
    const id = item.slice(1, colon)
    const weight = Number(item.slice(colon + 1))
    const gateway = item.charCodeAt(0) === 103 /* g */ ? names.gateways.get(id) : undefined
    out.push(gateway !== undefined ? { gateway, weight } : { carrier: item.charCodeAt(0) === 99 /* c */ ? names.carriers.get(id) ?? '' : '', weight })
  }
  return out
}
