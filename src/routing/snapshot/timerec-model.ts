/**
 * A time recurrence expression compiled for the decision: every instant and wall-clock value
 * OpenSIPS computes when it parses (dtstart, dtend, until, the struct tm of dtstart and dtend) is
 * worked out once, so a check is arithmetic on numbers. Rule time windows compile to the same
 * model (time-window.ts): weekly hours are recurrences, a date range is a `dates` node.
 */
import type { ZoneTable } from './timerec-zones.js'

/** OpenSIPS's FREQ_* values (time_rec.h); -1: none. */
export const FREQ = Object.freeze({ none: -1, yearly: 1, monthly: 2, weekly: 3, daily: 4 })

/** One recurrence, as time_rec.c's tmrec_t holds it after parsing. */
export interface CompiledRecurrence {
  readonly kind: 'rec'
  readonly inverted: boolean
  /** 1-based place in the text; 0 for one a time window made. */
  readonly index: number
  readonly text: string
  readonly zone: ZoneTable
  /** Seconds since the epoch. */
  readonly dtstart: number
  readonly dtend: number
  readonly duration: number
  readonly freq: number
  /** Inclusive; Infinity when none. */
  readonly until: number
  /** 0 when none (as 1). */
  readonly interval: number
  /** dtstart's wall clock in the zone: year, month 0–11, day of month, seconds into the day, weekday 0 = Sunday, day of year 0–365, day number since 1970-01-01. */
  readonly ts: Int32Array
  /** dtend's wall clock: day of month, weekday, day of year, seconds into the day. */
  readonly end: Int32Array
  /** The smallest unit the recurrence repeats in (FREQ value; get_min_interval). */
  readonly minUnit: number
  /** Pairs [value, req] in OpenSIPS's encoding (see timerec-compile.ts); null when not given. */
  readonly byday: Int32Array | null
  readonly bymonthday: Int32Array | null
  readonly byyearday: Int32Array | null
  readonly byweekno: Int32Array | null
  readonly bymonth: Int32Array | null
}

/** Local dates from..until (day numbers since 1970-01-01, inclusive) in a zone: a time window's date range. */
export interface CompiledDates {
  readonly kind: 'dates'
  readonly inverted: boolean
  readonly index: number
  readonly text: string
  readonly zone: ZoneTable
  readonly fromDay: number
  readonly untilDay: number
}

export interface CompiledGroup {
  readonly kind: 'group'
  readonly inverted: boolean
  readonly and: boolean
  readonly operands: readonly CompiledTimeNode[]
}

export type CompiledTimeNode = CompiledRecurrence | CompiledDates | CompiledGroup

/** What a rule's validity in time compiles to: its time window and its timerec, both to match. */
export interface CompiledTimerec {
  readonly text: string
  readonly root: CompiledTimeNode
}
