// Scratch: one UTC-offset transition table per IANA zone, built from Intl once per process and then only read (a memo: it never changes an answer).
/**
 * Time zones for time recurrences, as the C library does them for OpenSIPS (localtime, mktime):
 * a table per zone of the instants its UTC offset changes, found once from Intl (a weekly scan
 * from December 1969 to 2100, each change bisected to the second; two changes less than a week
 * apart that cancel out would be missed — no zone has had one since 1970), so that turning an
 * instant into a wall clock during a call is a binary search, no Intl and no allocation. Instants
 * from 2100 on ask Intl each time (and allocate).
 */
import { isTimeZone } from '../validate-data.js'
import { runAtOnce, type Steps } from './slices.js'

export interface ZoneTable {
  readonly name: string
  /** Seconds since the epoch from which offsets[i] applies; starts[0] is -Infinity. */
  readonly starts: Float64Array
  /** UTC offsets in seconds (local = utc + offset). */
  readonly offsets: Int32Array
  /** Where the table stops; later instants go to Intl. */
  readonly endSec: number
  /** Per BUCKET seconds from SCAN_FROM, the index in starts/offsets in effect at the bucket's start; null: search. */
  readonly buckets: Int32Array | null
  readonly format: Intl.DateTimeFormat | null
}

const SCAN_FROM = -31 * 86_400
const SCAN_UNTIL = 4_102_444_800 // 2100-01-01T00:00:00Z
const SCAN_STEP = 7 * 86_400
/** About 24 days: the index to start from, so a lookup steps over at most a change or two. */
const BUCKET = 2_097_152

/** The UTC zone, which recurrences without a timezone use. */
export const UTC_ZONE: ZoneTable = Object.freeze({
  name: 'UTC', starts: new Float64Array([-Infinity]), offsets: new Int32Array([0]), endSec: Infinity, buckets: null, format: null
})

/** `12/31/1969, 19:00:00`: what the en-US format below gives for an instant. */
const FORMATTED = /^(\d{1,2})\/(\d{1,2})\/(\d{1,6}), (\d{2}):(\d{2}):(\d{2})$/

/**
 * The zone's UTC offset at `sec`, from the wall clock Intl gives for it. The formatted text is
 * read by a pattern: formatToParts, which builds an object per field, made the scan of a zone
 * (some 12,000 calls) about three times as long; a text of another shape is read by its parts.
 */
export function intlOffset (format: Intl.DateTimeFormat, sec: number): number {
  const m = FORMATTED.exec(format.format(sec * 1000))
  if (m !== null) return Math.round(Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]) % 24, Number(m[5]), Number(m[6])) / 1000 - sec)
  return partsOffset(format, sec)
}

/** intlOffset from formatToParts: the fields by their types, whatever the text around them. */
export function partsOffset (format: Intl.DateTimeFormat, sec: number): number {
  let year = 1970; let month = 1; let day = 1; let hour = 0; let minute = 0; let second = 0
  for (const part of format.formatToParts(sec * 1000)) {
    const n = Number(part.value)
    if (part.type === 'year') year = n
    else if (part.type === 'month') month = n
    else if (part.type === 'day') day = n
    else if (part.type === 'hour') hour = n % 24
    else if (part.type === 'minute') minute = n
    else if (part.type === 'second') second = n
  }
  return Math.round(Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - sec)
}

/** Weeks of the scan between two steps of a build: a few milliseconds of Intl. */
const WEEKS_PER_STEP = 128

/** The format intlOffset reads a zone's wall clock with. */
export const wallClockFormat = (name: string): Intl.DateTimeFormat => new Intl.DateTimeFormat('en-US', {
  timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric'
})

function * build (name: string): Steps<ZoneTable> {
  const format = wallClockFormat(name)
  const starts = [-Infinity]
  const offsets = [intlOffset(format, SCAN_FROM)]
  let previous = offsets[0] as number
  let weeks = 0
  for (let t = SCAN_FROM + SCAN_STEP; t < SCAN_UNTIL + SCAN_STEP; t += SCAN_STEP) {
    let lo = t - SCAN_STEP
    // Each change between lo (at the previous offset) and t: the first second with another offset.
    while (intlOffset(format, t) !== previous) {
      let hi = t
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2)
        if (intlOffset(format, mid) === previous) lo = mid
        else hi = mid
      }
      starts.push(hi)
      offsets.push(previous = intlOffset(format, hi))
      lo = hi
    }
    if (++weeks % WEEKS_PER_STEP === 0) yield
  }
  const buckets = new Int32Array(Math.ceil((SCAN_UNTIL - SCAN_FROM) / BUCKET) + 1)
  for (let b = 0, i = 0; b < buckets.length; b++) {
    while (i + 1 < starts.length && (starts[i + 1] as number) <= SCAN_FROM + b * BUCKET) i++
    buckets[b] = i
  }
  return Object.freeze({ name, starts: new Float64Array(starts), offsets: new Int32Array(offsets), endSec: SCAN_UNTIL, buckets, format })
}

const tables = new Map<string, ZoneTable>()

/** The table of a zone Intl knows (the caller checked it), built on first use. */
export function zoneTable (name: string | null): ZoneTable {
  if (name === null || name === 'UTC') return UTC_ZONE
  let table = tables.get(name)
  if (table === undefined) tables.set(name, table = runAtOnce(build(name)))
  return table
}

/**
 * Builds the tables of the zones among `names` that Intl knows and that are not built yet, in
 * steps: a zone's table is about a hundred milliseconds of Intl, which a load runs in slices
 * before it compiles the rules that name the zone (compile-rule.ts zonesNamed) rather than in one
 * go inside a rule's compile. Names that are no zone are passed over: the compile says why.
 */
export function * warmZones (names: Iterable<string>): Steps<void> {
  for (const name of names) {
    if (name === 'UTC' || tables.has(name) || !isTimeZone(name)) continue
    tables.set(name, yield * build(name))
  }
}

/** The UTC offset in seconds at `sec` (seconds since the epoch). */
export function offsetAt (zone: ZoneTable, sec: number): number {
  if (sec >= zone.endSec && zone.format !== null) return intlOffset(zone.format, Math.floor(sec))
  const starts = zone.starts
  if (zone.buckets !== null && sec >= SCAN_FROM) {
    let i = zone.buckets[Math.floor((sec - SCAN_FROM) / BUCKET)] as number
    while (i + 1 < starts.length && (starts[i + 1] as number) <= sec) i++
    return zone.offsets[i] as number
  }
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((starts[mid] as number) <= sec) lo = mid
    else hi = mid - 1
  }
  return zone.offsets[lo] as number
}

/**
 * The instant of a wall-clock time (`local`: its seconds as if it were UTC), as glibc's mktime
 * gives it with tm_isdst -1 in a gap: with the offset from before the change (America/New_York
 * 02:30 on the spring-forward day is 07:30Z, i.e. 03:30 EDT). In an overlap (the repeated hour)
 * glibc's answer depends on the offset of the process's previous mktime call, so OpenSIPS has no
 * fixed one: rtroute takes the first (earlier) instant, as RFC 5545 does.
 */
export function localToUtc (zone: ZoneTable, local: number): number {
  const before = offsetAt(zone, local - 86_400)
  const after = offsetAt(zone, local + 86_400)
  const early = local - before
  if (before === after || offsetAt(zone, early) === before) return early
  const late = local - after
  return offsetAt(zone, late) === after ? late : early
}

/** How many instants show this wall-clock time in the zone: 0 in a gap, 2 in an overlap (the repeated hour), else 1. */
export function wallClockCount (zone: ZoneTable, local: number): number {
  const before = offsetAt(zone, local - 86_400)
  const after = offsetAt(zone, local + 86_400)
  const valid = (offset: number): boolean => offsetAt(zone, local - offset) === offset
  if (before === after) return valid(before) ? 1 : 0
  return (valid(before) ? 1 : 0) + (valid(after) ? 1 : 0)
}
