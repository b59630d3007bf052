/** A content checksum of a partition's data (drouting's "data available <md5>", in sha256). */
import { createHash, type Hash } from 'node:crypto'
import type { CallerGroupData, CarrierData, GatewayData, PartitionData, RuleData } from '../routing-data.schema.js'
import { ROWS_PER_STEP, runAtOnce, type Steps } from './slices.js'

function hasKeys (record: object): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true
  return false
}

/** JSON with object keys sorted, for the free-form parts (attrs, settings, time windows) and for diffs. */
export function canonical (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const record = value as Record<string, unknown>
  // Most attrs are empty: skip the key array, filter and sort that a million rules would allocate.
  if (!hasKeys(record)) return '{}'
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`
}

// Rows re-built with their keys in a fixed order, so native JSON.stringify is canonical and fast
// (a generic key sort took seconds for 1M rules); Record<keyof …> makes a new field a compile error here.
const gatewayFields = (g: GatewayData): Record<keyof GatewayData, unknown> => ({
  id: g.id, address: g.address, strip: g.strip, prefix: g.prefix, socket: g.socket, attrs: canonical(g.attrs), probe_mode: g.probe_mode, weight: g.weight, fr_timer: g.fr_timer, fr_inv_timer: g.fr_inv_timer, max_calls: g.max_calls, max_cps: g.max_cps, enabled: g.enabled, description: g.description
})
const carrierFields = (c: CarrierData): Record<keyof CarrierData, unknown> => ({
  id: c.id, sort: c.sort, first_only: c.first_only, max_calls: c.max_calls, max_cps: c.max_cps, enabled: c.enabled, attrs: canonical(c.attrs), description: c.description, gateways: c.gateways.map((m) => [m.gateway, m.weight])
})
const ruleFields = (r: RuleData): Record<keyof RuleData, unknown> => ({
  id: r.id,
  groups: r.groups,
  prefix: r.prefix,
  priority: r.priority,
  time_window: r.time_window === null ? null : canonical(r.time_window),
  targets: r.targets.map((t) => ('gateway' in t ? ['g', t.gateway, t.weight ?? 1] : ['c', t.carrier, t.weight ?? 1])),
  sort: r.sort,
  max_targets: r.max_targets,
  fallback: r.fallback,
  attrs: canonical(r.attrs),
  enabled: r.enabled,
  description: r.description,
  // Last and left out when null, so the sums of data without one stay what they were.
  timerec: r.timerec ?? undefined
})
const callerFields = (c: CallerGroupData): Record<keyof CallerGroupData, unknown> => ({ kind: c.kind, value: c.value, group: c.group, description: c.description })

const byId = (a: { id: string | number }, b: { id: string | number }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const q = JSON.stringify

/** JSON of the values a row shares with others (frozen: see rule-pages.ts), written once per value. */
type SharedJson = Map<object, string>

function sharedJson<V extends object> (value: V, seen: SharedJson, write: (value: V) => string): string {
  if (!Object.isFrozen(value)) return write(value)
  let json = seen.get(value)
  if (json === undefined) seen.set(value, json = write(value))
  return json
}

/** The targets part of a rule line; undefined when one names neither a gateway nor a carrier (the generic path writes it). */
function targetsJson (targets: RuleData['targets']): string | undefined {
  let out = ''
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] as RuleData['targets'][number]
    const gateway = 'gateway' in t
    const id = gateway ? t.gateway : t.carrier
    if (typeof id !== 'string') return undefined
    out += `${i === 0 ? '' : ','}["${gateway ? 'g' : 'c'}",${q(id)},${q(t.weight ?? 1)}]`
  }
  return out
}

/**
 * `JSON.stringify(ruleFields(r))` built as one string: no field object, no array per target (a
 * third of the checksum time at 1M rules). Rows with a field missing take the generic path, whose
 * JSON.stringify drops undefined keys: the output must stay byte for byte the same.
 */
function ruleLine (r: RuleData, seen: SharedJson): string {
  if (r.id === undefined || r.groups === undefined || r.prefix === undefined || r.priority === undefined || r.time_window === undefined ||
    r.targets === undefined || r.sort === undefined || r.max_targets === undefined || r.fallback === undefined || r.attrs === undefined ||
    r.enabled === undefined || r.description === undefined) return q(ruleFields(r))
  const targets = sharedJson(r.targets, seen, (list) => targetsJson(list) ?? '\0')
  if (targets === '\0') return q(ruleFields(r))
  const timeWindow = r.time_window === null ? 'null' : sharedJson(r.time_window, seen, (tw) => q(canonical(tw)))
  return `{"id":${q(r.id)},"groups":${sharedJson(r.groups, seen, q)},"prefix":${q(r.prefix)},"priority":${q(r.priority)},"time_window":${timeWindow},` +
    `"targets":[${targets}],"sort":${q(r.sort)},"max_targets":${q(r.max_targets)},"fallback":${q(r.fallback)},"attrs":${sharedJson(r.attrs, seen, (a) => q(canonical(a)))},` +
    `"enabled":${q(r.enabled)},"description":${q(r.description)}${r.timerec === undefined || r.timerec === null ? '' : `,"timerec":${q(r.timerec)}`}}`
}

/** The rows in id order; rows read from the database already are, and a sorted check is cheaper than a sort. */
function * inIdOrder<T extends { id: string | number }> (rows: readonly T[]): Steps<readonly T[]> {
  for (let i = 1; i < rows.length; i++) {
    if (byId(rows[i - 1] as T, rows[i] as T) > 0) return rows.slice().sort(byId)
    if (i % ROWS_PER_STEP === 0) yield
  }
  return rows
}

/** Feeds the hash in chunks: one update per row costs more than the hashing. */
function * hashRows<T> (hash: Hash, name: string, rows: readonly T[], line: (row: T) => string): Steps<void> {
  let chunk = `\n${name}`
  for (let i = 0; i < rows.length; i++) {
    chunk += `\n${line(rows[i] as T)}`
    if (chunk.length > 65536) {
      hash.update(chunk)
      chunk = ''
    }
    if (i % ROWS_PER_STEP === 0) yield
  }
  hash.update(chunk)
}

/** What a snapshot read gives besides the rules (see snapshotChecksum). */
type Head = Omit<PartitionData, 'rules'>

/** The sum of a partition: its parts in a fixed order, the rules' part written by `rules`. */
function * sumOf (head: Head, rules: (hash: Hash) => Steps<void>): Steps<string> {
  const hash = createHash('sha256')
  hash.update(canonical(head.partition))
  yield * hashRows(hash, 'gateways', yield * inIdOrder(head.gateways), (g) => q(gatewayFields(g)))
  yield * hashRows(hash, 'carriers', yield * inIdOrder(head.carriers), (c) => q(carrierFields(c)))
  yield * rules(hash)
  yield * hashRows(hash, 'caller_groups', head.caller_groups.map((c) => q(callerFields(c))).sort(), (row) => q(row))
  return hash.digest('hex')
}

/** The checksum as steps, for a caller that must keep the event loop turning (see slices.ts). */
export function * dataChecksumSteps (data: PartitionData): Steps<string> {
  const seen: SharedJson = new Map()
  return yield * sumOf(data, function * (hash) { yield * hashRows(hash, 'rules', yield * inIdOrder(data.rules), (r) => ruleLine(r, seen)) })
}

/** 2^52: every row hash is below it, and their sum is kept modulo it, which a double holds exactly. */
const ROW_HASH_MOD = 4503599627370496

/**
 * The rules of a snapshot as a multiset of row hashes (rule-pages.ts: PostgreSQL hashes each
 * stored row as it reads it): a count and a sum modulo 2^52, so a row can be added or taken out
 * in any order, and an edit applied to a loaded snapshot sums to what a full load of the edited
 * data gives. A sum is a weaker fingerprint than a digest of the rows (a chance of 2^-52 that a
 * change leaves it equal, none that one is crafted against it matters here: it tells instances
 * and loads apart, it protects nothing).
 */
export interface RowSum { count: number, sum: number }

export const emptyRowSum = (): RowSum => ({ count: 0, sum: 0 })
export function addRowHash (rows: RowSum, hash: number): void {
  rows.count++
  rows.sum = (rows.sum + hash) % ROW_HASH_MOD
}
export function removeRowHash (rows: RowSum, hash: number): void {
  rows.count--
  rows.sum = (rows.sum - hash + ROW_HASH_MOD) % ROW_HASH_MOD
}

/**
 * The checksum of a snapshot read from the database, in two parts so an incremental update
 * rehashes only what changed: the head (the partition, gateways, carriers and caller groups as
 * dataChecksum writes them) as a hash state that is copied, never finished, and the rules' RowSum
 * after it. Equal stored rows give an equal sum on every instance; since the rows name targets by
 * row id, re-importing identical data gives a new one, as a new version does.
 */
export function * snapshotHeadHash (head: Head): Steps<Hash> {
  const hash = createHash('sha256')
  hash.update(canonical(head.partition))
  yield * hashRows(hash, 'gateways', yield * inIdOrder(head.gateways), (g) => q(gatewayFields(g)))
  yield * hashRows(hash, 'carriers', yield * inIdOrder(head.carriers), (c) => q(carrierFields(c)))
  yield * hashRows(hash, 'caller_groups', head.caller_groups.map((c) => q(callerFields(c))).sort(), (row) => q(row))
  return hash
}

export function snapshotChecksum (headHash: Hash, rows: RowSum): string {
  return headHash.copy().update(`\nrules ${rows.count} ${rows.sum}`).digest('hex')
}

/** sha256 of the data, rows in id order: equal data gives an equal sum whatever the row or key order. */
export function dataChecksum (data: PartitionData): string {
  return runAtOnce(dataChecksumSteps(data))
}
