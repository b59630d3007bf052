// Scratch: each zone's clock (the UTC offset of the last minute asked about), shared by its compiled windows.
/** Rule time windows (IANA timezone, weekly hours, date range) compiled once, checked per call without Intl. */
import type { TimeWindowData } from '../routing-data.schema.js'
import { checkTimeWindow } from '../validate-data.js'

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

/**
 * The UTC offset of one zone for the last UTC minute asked about. Offsets change only at
 * whole-minute instants, so one Intl call per zone per minute serves every rule in that zone;
 * shared by every compiled window of the zone, it is a memo, not state that changes answers.
 */
export interface ZoneClock {
  readonly format: Intl.DateTimeFormat
  minute: number
  offsetMs: number
}

const zoneClocks = new Map<string, ZoneClock>()

function zoneClock (zone: string): ZoneClock {
  let clock = zoneClocks.get(zone)
  if (clock === undefined) {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric'
    })
    clock = { format, minute: Number.NaN, offsetMs: 0 }
    zoneClocks.set(zone, clock)
  }
  return clock
}

function computeOffset (format: Intl.DateTimeFormat, utcMs: number): number {
  const f: Record<string, number> = {}
  for (const part of format.formatToParts(utcMs)) {
    if (part.type !== 'literal') f[part.type] = Number(part.value)
  }
  const local = Date.UTC(f.year ?? 1970, (f.month ?? 1) - 1, f.day ?? 1, (f.hour ?? 0) % 24, f.minute ?? 0, f.second ?? 0)
  return local - utcMs
}

/** Local wall-clock milliseconds (as if UTC) for `utcMs` in the clock's zone. */
function localMs (clock: ZoneClock, utcMs: number): number {
  const minute = Math.floor(utcMs / MINUTE_MS)
  if (minute !== clock.minute) {
    clock.offsetMs = computeOffset(clock.format, minute * MINUTE_MS)
    clock.minute = minute
  }
  return utcMs + clock.offsetMs
}

export interface CompiledWindow {
  readonly timezone: string
  readonly clock: ZoneClock
  /** Local dates as days since 1970-01-01; ±Infinity when unbounded. */
  readonly fromDay: number
  readonly untilDay: number
  /** Per weekday (0 = Monday) flat [start, end) minute pairs; null = every day, all day. */
  readonly weekly: ReadonlyArray<readonly number[]> | null
}

const dayNumber = (date: string): number => {
  const [y = 0, m = 1, d = 1] = date.split('-').map(Number)
  return Date.UTC(y, m - 1, d) / DAY_MS
}

const minutes = (clockTime: string): number => {
  const [h = 0, m = 0] = clockTime.split(':').map(Number)
  return h * 60 + m
}

/** Compiles a window; a string explains why it cannot be used (unknown zone, inverted range…). */
export function compileTimeWindow (data: TimeWindowData): CompiledWindow | string {
  const problems = checkTimeWindow(data, 'time_window')
  if (problems.length > 0) return problems.map((p) => `${p.path}: ${p.message}`).join('; ')
  let weekly: number[][] | null = null
  if (data.weekly !== undefined && data.weekly.length > 0) {
    weekly = WEEKDAYS.map(() => [])
    for (const entry of data.weekly) {
      for (const day of entry.days) weekly[WEEKDAYS.indexOf(day as typeof WEEKDAYS[number])]?.push(minutes(entry.start), minutes(entry.end))
    }
    for (const ranges of weekly) Object.freeze(ranges)
  }
  return Object.freeze({
    timezone: data.timezone,
    clock: zoneClock(data.timezone),
    fromDay: data.from === undefined ? -Infinity : dayNumber(data.from),
    untilDay: data.until === undefined ? Infinity : dayNumber(data.until),
    weekly: weekly === null ? null : Object.freeze(weekly)
  })
}

/** Open when the local date is within [from, until] and, if weekly hours are set, the local time is in one of them. */
export function isWindowOpen (window: CompiledWindow, nowMs: number): boolean {
  const local = localMs(window.clock, nowMs)
  const day = Math.floor(local / DAY_MS)
  if (day < window.fromDay || day > window.untilDay) return false
  if (window.weekly === null) return true
  // 1970-01-01 was a Thursday: index 3 when Monday is 0.
  const ranges = window.weekly[(((day + 3) % 7) + 7) % 7] ?? []
  const minute = Math.floor((local - day * DAY_MS) / MINUTE_MS)
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    if (minute >= (ranges[i] ?? 0) && minute < (ranges[i + 1] ?? 0)) return true
  }
  return false
}
