/**
 * Rule time windows (IANA timezone, weekly hours, date range): the convenience form of a time
 * recurrence, compiled to the same model (timerec-model.ts) and checked by the same code
 * (timerec-eval.ts). Each weekly entry is a weekly recurrence on its days from start to end, local
 * wall clock, end exclusive (24:00 ends the day); the date range is a `dates` node comparing the
 * local date, inclusive. Open when the date range holds and, if weekly hours are given, one of them.
 */
import type { TimeWindowData } from '../routing-data.schema.js'
import { checkTimeWindow } from '../validate-data.js'
import { daysFromCivil, TM } from './timerec-calendar.js'
import { isTimerecOpen } from './timerec-eval.js'
import { FREQ, type CompiledDates, type CompiledRecurrence, type CompiledTimeNode, type CompiledTimerec } from './timerec-model.js'
import { zoneTable, type ZoneTable } from './timerec-zones.js'

/** What a rule's validity in time compiles to (a time window, a timerec, or both). */
export type CompiledWindow = CompiledTimerec

/** tm_wday (0 = Sunday) of the window's day names. */
const WDAY: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }

const dayNumber = (date: string): number => {
  const [y = 0, m = 1, d = 1] = date.split('-').map(Number)
  return daysFromCivil(y, m, d)
}

const minutes = (clockTime: string): number => {
  const [h = 0, m = 0] = clockTime.split(':').map(Number)
  return h * 60 + m
}

/**
 * A weekly entry as a recurrence that has always run: freq weekly, byday its days, a span from
 * start to end on one local day (end 24:00: up to midnight, as a span ending on the next day).
 */
function weeklyRecurrence (zone: ZoneTable, days: readonly string[], start: string, end: string): CompiledRecurrence {
  const from = minutes(start)
  const to = minutes(end)
  const ts = new Int32Array(TM.size)
  ts[TM.mday] = 1
  ts[TM.tod] = from * 60
  const endTm = new Int32Array(TM.size)
  endTm[TM.mday] = to === 1440 ? 2 : 1
  endTm[TM.tod] = to === 1440 ? 0 : to * 60
  const byday = new Int32Array(days.length * 2)
  days.forEach((day, i) => { byday[2 * i] = WDAY[day] ?? 0 })
  return Object.freeze({
    kind: 'rec',
    inverted: false,
    index: 0,
    text: `${days.join(',')} ${start}-${end} ${zone.name}`,
    zone,
    dtstart: -Infinity,
    dtend: Infinity,
    duration: (to - from) * 60,
    freq: FREQ.weekly,
    until: Infinity,
    interval: 0,
    ts,
    end: endTm,
    minUnit: FREQ.daily,
    byday,
    bymonthday: null,
    byyearday: null,
    byweekno: null,
    bymonth: null
  })
}

/** Compiles a window; a string explains why it cannot be used (unknown zone, inverted range…). */
export function compileTimeWindow (data: TimeWindowData): CompiledWindow | string {
  const problems = checkTimeWindow(data, 'time_window')
  if (problems.length > 0) return problems.map((p) => `${p.path}: ${p.message}`).join('; ')
  const zone = zoneTable(data.timezone)
  const parts: CompiledTimeNode[] = []
  if (data.from !== undefined || data.until !== undefined || data.weekly === undefined || data.weekly.length === 0) {
    const dates: CompiledDates = {
      kind: 'dates',
      inverted: false,
      index: 0,
      text: `${data.from ?? ''}..${data.until ?? ''} ${data.timezone}`,
      zone,
      fromDay: data.from === undefined ? -Infinity : dayNumber(data.from),
      untilDay: data.until === undefined ? Infinity : dayNumber(data.until)
    }
    parts.push(Object.freeze(dates))
  }
  if (data.weekly !== undefined && data.weekly.length > 0) {
    const entries = data.weekly.map((w) => weeklyRecurrence(zone, w.days, w.start, w.end))
    parts.push(entries.length === 1 ? entries[0] as CompiledRecurrence : Object.freeze({ kind: 'group', inverted: false, and: false, operands: Object.freeze(entries) }))
  }
  const root = parts.length === 1 ? parts[0] as CompiledTimeNode : Object.freeze({ kind: 'group' as const, inverted: false, and: true, operands: Object.freeze(parts) })
  return Object.freeze({ text: `time_window ${JSON.stringify(data)}`, root })
}

/** Open when the local date is within [from, until] and, if weekly hours are set, the local time is in one of them. */
export const isWindowOpen = isTimerecOpen
