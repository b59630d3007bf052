/**
 * Compiles a parsed time recurrence expression (routing/timerec/parse-timerec.ts) into the
 * decision's model (timerec-model.ts), doing at snapshot time what OpenSIPS 3.6.8 does when it
 * parses (time_rec.c _tmrec_parse): date-times to instants in the recurrence's zone (glibc mktime),
 * dtend from the duration or else to the end of the smallest unit, the by… lists in its encoding.
 */
import { parseTimerec, timerecErrorText, type LocalDateTime, type Recurrence, type TimerecExpr } from '../timerec/parse-timerec.js'
import { daysFromCivil, fillTm, TM } from './timerec-calendar.js'
import { FREQ, type CompiledRecurrence, type CompiledTimeNode, type CompiledTimerec } from './timerec-model.js'
import { localToUtc, zoneTable, type ZoneTable } from './timerec-zones.js'

const DAY = 86_400

const localSeconds = (t: LocalDateTime): number => daysFromCivil(t.year, t.month, t.day) * DAY + t.hour * 3600 + t.minute * 60 + t.second
const instant = (zone: ZoneTable, t: LocalDateTime): number => localToUtc(zone, localSeconds(t))

/** [value, req] pairs: byday req is the ordinal less one when positive (1FR → 0), as is; the others carry the sign. */
function pairs (values: readonly number[] | null): Int32Array | null {
  if (values === null) return null
  const out = new Int32Array(values.length * 2)
  values.forEach((v, i) => { out[2 * i] = Math.abs(v); out[2 * i + 1] = v < 0 ? -1 : 1 })
  return out
}

function byDayPairs (rec: Recurrence): Int32Array | null {
  if (rec.byday === null) return null
  const out = new Int32Array(rec.byday.length * 2)
  rec.byday.forEach((d, i) => { out[2 * i] = d.weekday; out[2 * i + 1] = d.ordinal > 0 ? d.ordinal - 1 : d.ordinal })
  return out
}

/** get_min_interval: the smallest unit the recurrence repeats in. */
function minUnit (rec: Recurrence): number {
  if (rec.freq === 'daily' || rec.byday !== null || rec.bymonthday !== null || rec.byyearday !== null) return FREQ.daily
  if (rec.freq === 'weekly' || rec.byweekno !== null) return FREQ.weekly
  if (rec.freq === 'monthly' || rec.bymonth !== null) return FREQ.monthly
  if (rec.freq === 'yearly') return FREQ.yearly
  return 0
}

/** dtend when neither it nor a duration is given: the end of dtstart's day, week, month or year, as _tmrec_parse counts it. */
function defaultEnd (dtstart: number, ts: Int32Array, unit: number): number {
  const tod = ts[TM.tod] as number
  switch (unit) {
    case FREQ.daily: return dtstart + DAY - tod
    case FREQ.weekly: return dtstart + 7 * DAY - ((ts[TM.wday] as number) * DAY + tod)
    case FREQ.monthly: return dtstart + 31 * DAY - ((ts[TM.mday] as number) * DAY + tod)
    case FREQ.yearly: return dtstart + 366 * DAY - ((ts[TM.yday] as number) * DAY + tod)
    default: return 4_294_967_295
  }
}

/** A recurrence of the model from its fields; `zone` already resolved. */
export function compileRecurrence (rec: Recurrence, zone: ZoneTable, index: number, text: string, inverted: boolean): CompiledRecurrence {
  const dtstart = instant(zone, rec.dtstart)
  const ts = new Int32Array(TM.size)
  fillTm(zone, dtstart, ts)
  const unit = minUnit(rec)
  const dtend = rec.duration !== null ? dtstart + rec.duration : rec.dtend !== null ? instant(zone, rec.dtend) : defaultEnd(dtstart, ts, unit)
  const end = new Int32Array(TM.size)
  fillTm(zone, dtend, end)
  return Object.freeze({
    kind: 'rec',
    inverted,
    index,
    text,
    zone,
    dtstart,
    dtend,
    duration: dtend - dtstart,
    freq: rec.freq === null ? FREQ.none : FREQ[rec.freq],
    until: rec.until === null ? Infinity : instant(zone, rec.until),
    interval: rec.interval ?? 0,
    ts,
    end,
    minUnit: unit,
    byday: byDayPairs(rec),
    bymonthday: pairs(rec.bymonthday),
    byyearday: pairs(rec.byyearday),
    byweekno: pairs(rec.byweekno),
    bymonth: pairs(rec.bymonth)
  })
}

function compileNode (expr: TimerecExpr): CompiledTimeNode {
  if (expr.kind === 'leaf') return compileRecurrence(expr.rec, zoneTable(expr.rec.timezone), expr.index, expr.text, expr.inverted)
  return Object.freeze({ kind: 'group', inverted: expr.inverted, and: expr.op === 'and', operands: Object.freeze(expr.operands.map(compileNode)) })
}

/** A timerec text compiled; null when blank (always valid); a string says why it cannot be used. */
export function compileTimerec (text: string): CompiledTimerec | string | null {
  const parsed = parseTimerec(text)
  if (!parsed.ok) return `timerec: ${timerecErrorText(parsed.error)}`
  if (parsed.expr === null) return null
  return Object.freeze({ text, root: compileNode(parsed.expr) })
}

/** Both must match: a rule's time window and its timerec. */
export function bothTimes (a: CompiledTimerec | null, b: CompiledTimerec | null): CompiledTimerec | null {
  if (a === null || b === null) return a ?? b
  return Object.freeze({ text: `${a.text} & ${b.text}`, root: Object.freeze({ kind: 'group', inverted: false, and: true, operands: Object.freeze([a.root, b.root]) }) })
}

/**
 * A rule's validity in time: its compiled time window (or null, or why it is refused) and its
 * timerec text, compiled once per distinct text through `cache` (the snapshot's own).
 */
export function withTimerec (window: CompiledTimerec | string | null, timerec: string | null | undefined, cache: Map<string, CompiledTimerec | string>): CompiledTimerec | string | null {
  if (typeof window === 'string' || timerec === null || timerec === undefined || timerec.trim() === '') return window
  const key = `timerec\0${timerec}`
  let compiled = cache.get(key)
  if (compiled === undefined) cache.set(key, compiled = compileTimerec(timerec) ?? '')
  if (typeof compiled === 'string') return compiled === '' ? window : compiled
  return bothTimes(window, compiled)
}
