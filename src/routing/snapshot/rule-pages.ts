/**
 * The rules and gateways of a partition as the snapshot loader reads them, in pages. A page of
 * rules is one query answering one JSON text: the rules' tuples as triggers store them on write
 * (migration 0009: the targets as one compact text, and a hash of the row, which the checksum sums,
 * see data-checksum.ts), joined; building them per load (aggregating ~2 rule_target rows and
 * converting a dozen values per rule) was half of a million-rule load. The names come from the
 * gateway and carrier rows the same transaction read.
 *
 * At a million rules the read is allocation-bound (every object that survives the page is copied
 * by the young-generation collector, then marked in the old one), so the snapshot gets the tuples
 * as JSON.parse gives them and compiles each from its texts (compile-rule.ts compileTuple): no
 * RuleData per rule. A routing snapshot compiles each page as it arrives (route-table.ts
 * compileRouteTableFromPages), so a page's tuples die young. The same query reads the rules an
 * edit changed (rulesByIds). An export maps the same pages to RuleData, sharing the parts that
 * repeat across rules (the groups, time window, attrs and target list are parsed once per text).
 */
import type { RulePage, RuleTuple, TargetNames } from './compiled.js'
import { attrsFromJson, NO_ATTRS } from './compile-rows.js'
import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely'
import type { Database, GatewayTable } from '../../db.js'
import type { RuleData, RuleTargetData, TimeWindowData } from '../routing-data.schema.js'

/**
 * Rules per page: one unpaged result of a million rules held the event loop for about 100 ms at a
 * time. A page of this size is a few milliseconds to parse and map, one slice of a reload.
 */
export const RULE_PAGE = 2000

/**
 * A page is one row holding the page as JSON text: the rules' stored tuples (RuleTuple, compiled.ts,
 * written on insert and update by a trigger, migration 0009). pg would otherwise build a row object
 * and decode a string per field, a dozen per rule; JSON.parse does the page natively, numbers and
 * booleans without a string.
 */
interface PageRow { readonly n: number, readonly last: string | null, readonly page: string | null }

/** The page query over the rules `where` selects (it names the rule table `rule`), `limit` of them in id order. */
function tuples (partitionId: string, where: RawBuilder<unknown>, limit: number | null): RawBuilder<PageRow> {
  return sql<PageRow>`
    WITH r AS (
      SELECT id, tuple FROM rule WHERE partition_id = ${partitionId} AND ${where} ORDER BY id ${limit === null ? sql`` : sql`LIMIT ${limit}`}
    )
    SELECT count(*)::int AS n, max(id)::text AS last, '[' || string_agg(tuple, ',' ORDER BY id) || ']' AS page FROM r`
}

async function page (trx: Transaction<Database>, partitionId: string, after: string): Promise<PageRow> {
  const { rows } = await tuples(partitionId, sql`id > ${after}`, RULE_PAGE).execute(trx)
  return rows[0] ?? { n: 0, last: null, page: null }
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
const EMPTY_ATTRS = NO_ATTRS as Record<string, unknown>

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

/** Maps pages' JSON text to RuleData (for an export), sharing what repeats across the rules of one read. */
function dataMapper (names: TargetNames): (text: string) => readonly RuleData[] {
  const groupsOf = interner((text) => parseTextArray(text) as string[])
  const windowOf = interner((text) => JSON.parse(text) as TimeWindowData)
  const attrsOf = interner((text) => attrsFromJson(text) as Record<string, unknown>)
  const targetsOf = interner((text) => targetsFromText(text, names).map((t) => Object.freeze(t)))
  return (text) => {
    const tuples = JSON.parse(text) as RuleTuple[]
    const rules = new Array<RuleData>(tuples.length)
    for (let i = 0; i < tuples.length; i++) {
      const [id, groups, prefix, priority, timeWindow, sort, maxTargets, fallback, attrs, enabled, description, targets, timerec] = tuples[i] as RuleTuple
      rules[i] = {
        id,
        groups: groupsOf(groups),
        prefix,
        priority,
        time_window: timeWindow === null ? null : windowOf(timeWindow),
        targets: targets === null ? NO_TARGETS : targetsOf(targets),
        sort,
        max_targets: maxTargets,
        fallback,
        attrs: attrs === '{}' ? EMPTY_ATTRS : attrsOf(attrs),
        enabled,
        description,
        ...(timerec === null ? {} : { timerec })
      }
    }
    return rules
  }
}

/** A page's JSON text as the tuples themselves, for the snapshot's compile (compile-rule.ts compileTuple). */
const tupleMapper = (names: TargetNames) => (text: string): RulePage => {
  const tuples = JSON.parse(text) as RuleTuple[]
  const hashes = new Float64Array(tuples.length)
  for (let i = 0; i < tuples.length; i++) hashes[i] = (tuples[i] as RuleTuple)[13]
  return { tuples, names, hashes }
}

/**
 * Every rule of the partition, in id order, a page at a time, inside the caller's transaction (one
 * snapshot), each page as `map` gives it. The next page is asked for before this one is mapped,
 * so PostgreSQL works on it meanwhile. A consumer that keeps only what it compiles from a page
 * lets the page's objects die young.
 */
async function * pagesOf<P> (trx: Transaction<Database>, partitionId: string, map: (text: string) => P): AsyncGenerator<P, void, void> {
  // The page asked for ahead is awaited only if the consumer goes on: handled meanwhile, so one
  // that fails after the consumer stopped (an aborted reload) is not an unhandled rejection.
  const ask = (after: string): Promise<PageRow> => {
    const asked = page(trx, partitionId, after)
    asked.catch(() => {})
    return asked
  }
  let next = ask('0')
  for (;;) {
    const { n, last, page: text } = await next
    const full = n === RULE_PAGE && last !== null
    if (full) next = ask(last)
    if (text === null) return
    yield map(text)
    if (!full) return
  }
}

/** Every rule of the partition as stored (tuple pages), for the snapshot. */
export const rulePages = (trx: Transaction<Database>, partitionId: string, names: TargetNames): AsyncGenerator<RulePage, void, void> =>
  pagesOf(trx, partitionId, tupleMapper(names))

/** The rules of the given ids that exist, as rulePages reads them (one page, however many). */
export async function rulesByIds (trx: Transaction<Database>, partitionId: string, names: TargetNames, ids: readonly string[]): Promise<RulePage> {
  if (ids.length === 0) return { tuples: [], names, hashes: new Float64Array(0) }
  const { rows } = await tuples(partitionId, sql`id = ANY(${ids}::bigint[])`, null).execute(trx)
  const text = rows[0]?.page ?? null
  return text === null ? { tuples: [], names, hashes: new Float64Array(0) } : tupleMapper(names)(text)
}

/** Rules per page of a verifying read: an id and a hash each, about 20 bytes of text per rule. */
export const HASH_PAGE = 5000

/** One page of a verifying read: rule ids in ascending order and the hash of each one's stored row. */
export interface RuleHashPage {
  readonly ids: Float64Array
  readonly hashes: Float64Array
  /** An id past 2^53 (stored before migration 0006): digit by digit it may not round as JSON.parse does, so only a full reload compares it right. */
  readonly unsafe: boolean
}

/** `id hash id hash …` (decimal, single spaces) into the two arrays, without a string per number. */
export function parseHashPage (text: string, n: number): RuleHashPage {
  const ids = new Float64Array(n)
  const hashes = new Float64Array(n)
  let value = 0
  let k = 0
  let unsafe = false
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 32
    if (code === 32) {
      if (value > Number.MAX_SAFE_INTEGER) unsafe = true
      if ((k & 1) === 0) ids[k >> 1] = value
      else hashes[k >> 1] = value
      k++
      value = 0
    } else {
      value = value * 10 + (code - 48)
    }
  }
  if (k !== n * 2) throw new Error(`rule hash page: ${k} numbers for ${n} rules`)
  return { ids, hashes, unsafe }
}

/**
 * Every rule's id and stored-row hash (rule.tuple_hash, migration 0010), in id order, a page at a
 * time, inside the caller's transaction: what a verifying reload compares with what it has loaded.
 */
export async function * ruleHashPages (trx: Transaction<Database>, partitionId: string): AsyncGenerator<RuleHashPage, void, void> {
  let after = '0'
  for (;;) {
    const { rows } = await sql<PageRow>`
      WITH r AS (SELECT id, tuple_hash FROM rule WHERE partition_id = ${partitionId} AND id > ${after} ORDER BY id LIMIT ${HASH_PAGE})
      SELECT count(*)::int AS n, max(id)::text AS last, string_agg(id::text || ' ' || tuple_hash::text, ' ' ORDER BY id) AS page FROM r`.execute(trx)
    const { n, last, page: text } = rows[0] ?? { n: 0, last: null, page: null }
    if (text === null || last === null) return
    yield parseHashPage(text, n)
    if (n < HASH_PAGE) return
    after = last
  }
}

/** Every rule of the partition as RuleData, in id order (see pagesOf). */
export async function selectRuleData (trx: Transaction<Database>, partitionId: string, names: TargetNames): Promise<RuleData[]> {
  const out: RuleData[] = []
  for await (const rules of pagesOf(trx, partitionId, dataMapper(names))) for (const rule of rules) out.push(rule)
  return out
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

export type { TargetNames } from './compiled.js'

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
