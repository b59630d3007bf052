// Scratch: one struct tm buffer the synchronous checks fill and read before returning (never kept across calls, so never seen by another).
/**
 * Checks a compiled time recurrence at an instant, as OpenSIPS 3.6.8 does (time_rec.c check_tmrec,
 * check_freq_interval, check_min_unit, check_recur_itv, check_byxxx, _tmrec_expr_check), its
 * arithmetic kept where it surprises: a by… value is matched by its formulas (bymonthday 31 does not
 * match in a 31-day month; a plain FR under freq monthly is the first Friday), a recurring span
 * starting on its first day must have begun strictly before the instant. Numbers only: no
 * allocation, no Intl (see timerec-zones.ts).
 */
import { fillTm, isLeapYear, monthDays, TM } from './timerec-calendar.js'
import { offsetAt } from './timerec-zones.js'
import { FREQ, type CompiledRecurrence, type CompiledTimeNode, type CompiledTimerec } from './timerec-model.js'

const DAY = 86_400
const tm = new Int32Array(TM.size)

/** Why a recurrence does not match (0: it does). */
export const MISS = Object.freeze({
  none: 0, beforeStart: 1, ended: 2, interval: 3, outside: 4, bymonth: 5, byweekno: 6, byyearday: 7, bymonthday: 8, byday: 9, until: 10, dates: 11
})

function intervalMatches (r: CompiledRecurrence): boolean {
  if (r.interval === 0 || r.interval === 1) return true
  const ts = r.ts
  switch (r.freq) {
    case FREQ.daily: return ((tm[TM.days] as number) - (ts[TM.days] as number)) % r.interval === 0
    case FREQ.weekly: {
      const t0 = (ts[TM.days] as number) - (((ts[TM.wday] as number) + 6) % 7)
      const t1 = (tm[TM.days] as number) - (((tm[TM.wday] as number) + 6) % 7)
      return Math.trunc((t1 - t0) / 7) % r.interval === 0
    }
    case FREQ.monthly: return (((tm[TM.year] as number) - (ts[TM.year] as number)) * 12 + (tm[TM.mon] as number) - (ts[TM.mon] as number)) % r.interval === 0
    case FREQ.yearly: return ((tm[TM.year] as number) - (ts[TM.year] as number)) % r.interval === 0
    default: return false
  }
}

/** check_recur_itv: is the instant inside the span [dtstart, dtend) repeated every `unit`. */
function inSpan (r: CompiledRecurrence, unit: number): boolean {
  const bgnTod = r.ts[TM.tod] as number
  const endTod = r.end[TM.tod] as number
  const x = tm[TM.tod] as number
  let slot: number
  switch (unit) {
    case FREQ.yearly: slot = TM.yday; break
    case FREQ.monthly: slot = TM.mday; break
    case FREQ.weekly: slot = TM.wday; break
    default:
      if (r.ts[TM.mday] === r.end[TM.mday]) return x - bgnTod >= 0 && endTod - x > 0
      return bgnTod - x <= 0 || x - endTod < 0
  }
  const d1 = r.ts[slot] as number
  const d2 = r.end[slot] as number
  const dx = tm[slot] as number
  if (d1 < d2) {
    if (dx < d1 || dx > d2) return false
    if (dx > d1 && dx < d2) return true
  } else if (d2 < d1) {
    if (dx > d2 && dx < d1) return false
    if (dx < d2 || dx > d1) return true
  } else if (dx !== d1) {
    return r.duration > DAY
  } else {
    return x - bgnTod >= 0 && endTod - x > 0
  }
  return (dx === d1 ? x - bgnTod : endTod - x) > 0
}

const UNIT_SECONDS = [0, 366 * DAY, 31 * DAY, 7 * DAY, DAY]

/** check_min_unit. */
function unitMatches (r: CompiledRecurrence): boolean {
  if (r.minUnit === 0) return false
  if (r.duration >= (UNIT_SECONDS[r.minUnit] as number)) return true
  return inSpan(r, r.minUnit)
}

const monWeek = (yday: number, wday: number): number => Math.trunc((yday + 7 - (wday !== 0 ? wday - 1 : 6)) / 7)

function anyOf (list: Int32Array, value: number, modulo: number, shift: number): boolean {
  for (let i = 0; i < list.length; i += 2) {
    if (value === (((list[i] as number) - shift) * (list[i + 1] as number) + modulo) % modulo + (shift === 0 && (list[i + 1] as number) < 0 ? 1 : 0)) return true
  }
  return false
}

/** check_byxxx with ac_get_maxval's figures for the instant's year and month. */
function byMiss (r: CompiledRecurrence): number {
  const year = tm[TM.year] as number
  const yday = tm[TM.yday] as number
  const wday = tm[TM.wday] as number
  const mday = tm[TM.mday] as number
  const yearDays = isLeapYear(year) ? 366 : 365
  const mdayMax = monthDays(year, tm[TM.mon] as number)
  const dec31Yday = yearDays - 1
  const dec31Wday = (((wday + dec31Yday - yday) % 7) + 7) % 7
  if (r.bymonth !== null && !anyOf(r.bymonth, tm[TM.mon] as number, 12, 1)) return MISS.bymonth
  if (r.freq === FREQ.yearly && r.byweekno !== null && !anyOf(r.byweekno, monWeek(yday, wday), monWeek(dec31Yday, dec31Wday) + 1, 1)) return MISS.byweekno
  if (r.byyearday !== null && !anyOf(r.byyearday, yday, yearDays, 1)) return MISS.byyearday
  if (r.bymonthday !== null && !anyOf(r.bymonthday, mday, mdayMax, 0)) return MISS.bymonthday
  if (r.byday !== null) {
    const v = wday > dec31Wday ? wday - dec31Wday + 1 : dec31Wday - wday
    const ywdayMax = Math.trunc((dec31Yday - v) / 7) + 1
    const mwdayMax = Math.trunc((mdayMax - 1 - ((mdayMax - mday) % 7)) / 7) + 1
    const byday = r.byday
    let i = 0
    for (; i < byday.length; i += 2) {
      if (byday[i] !== wday) continue
      const req = byday[i + 1] as number
      if (r.freq === FREQ.yearly) {
        if (Math.trunc(yday / 7) === (req + ywdayMax) % ywdayMax) break
      } else if (r.freq !== FREQ.monthly || Math.trunc((mday - 1) / 7) === (req + mwdayMax) % mwdayMax) break
    }
    if (i >= byday.length) return MISS.byday
  }
  return MISS.none
}

/** check_tmrec: 0 when the recurrence holds at `sec`, else the MISS reason (before inversion). */
export function recurrenceMiss (r: CompiledRecurrence, sec: number): number {
  if (sec < r.dtstart) return MISS.beforeStart
  if (r.freq === FREQ.none) return sec < r.dtend ? MISS.none : MISS.ended
  fillTm(r.zone, sec, tm)
  if (!intervalMatches(r)) return MISS.interval
  if (!unitMatches(r)) return MISS.outside
  const by = r.bymonth !== null || r.byweekno !== null || r.byyearday !== null || r.bymonthday !== null || r.byday !== null ? byMiss(r) : MISS.none
  if (by !== MISS.none) return by
  return sec <= r.until ? MISS.none : MISS.until
}

/** A node's own answer, before its inversion. */
export function nodeHolds (node: CompiledTimeNode, sec: number): boolean {
  switch (node.kind) {
    case 'rec': return recurrenceMiss(node, sec) === MISS.none
    case 'dates': {
      const day = Math.floor((sec + offsetAt(node.zone, sec)) / DAY)
      return day >= node.fromDay && day <= node.untilDay
    }
    case 'group': {
      const ops = node.operands
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i] as CompiledTimeNode
        if ((nodeHolds(op, sec) !== op.inverted) !== node.and) return !node.and
      }
      return node.and
    }
  }
}

/** Whether the rule is valid in time at `nowMs` (milliseconds since the epoch; OpenSIPS checks whole seconds). */
export function isTimerecOpen (timerec: CompiledTimerec, nowMs: number): boolean {
  return nodeHolds(timerec.root, Math.floor(nowMs / 1000)) !== timerec.root.inverted
}
