/**
 * The fields of one OpenSIPS time recurrence (time_rec.c, 3.6.8), parsed strictly: what OpenSIPS
 * would read silently as something else than what is written (a bad weekday dropped, `30d` taken
 * as no duration, an interval of 12 read as 1+2, an ordinal on WE ignored, a trailing comma adding
 * Sunday) is refused here with the field and the item it concerns. Values that parse keep
 * OpenSIPS's meaning; the evaluation (snapshot/timerec-eval.ts) follows its arithmetic.
 */

export const TIMEREC_FIELDS = ['timezone', 'dtstart', 'dtend', 'duration', 'freq', 'until', 'interval', 'byday', 'bymonthday', 'byyearday', 'byweekno', 'bymonth'] as const
export type TimerecField = typeof TIMEREC_FIELDS[number]

/** A wall-clock date-time as written (`YYYYMMDDThhmmss`), in the recurrence's timezone. */
export interface LocalDateTime {
  readonly year: number
  /** 1 to 12 */
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

export type Freq = 'daily' | 'weekly' | 'monthly' | 'yearly'

export interface ByDay {
  /** 0 = Sunday … 6 = Saturday (struct tm's tm_wday). */
  readonly weekday: number
  /** As written: 0 when none, else ±1 … ±53 (-1FR: the last Friday). */
  readonly ordinal: number
}

/** One recurrence: the twelve fields, null when left empty. */
export interface Recurrence {
  readonly timezone: string | null
  readonly dtstart: LocalDateTime
  readonly dtend: LocalDateTime | null
  /** Seconds. */
  readonly duration: number | null
  readonly freq: Freq | null
  readonly until: LocalDateTime | null
  readonly interval: number | null
  readonly byday: readonly ByDay[] | null
  /** Signed as written: -1 is the last day. */
  readonly bymonthday: readonly number[] | null
  readonly byyearday: readonly number[] | null
  readonly byweekno: readonly number[] | null
  readonly bymonth: readonly number[] | null
}

/** Why one field is refused; `position` is the 1-based list item, 0 for a field that is not a list. */
export interface FieldError {
  readonly field: TimerecField
  readonly position: number
  readonly message: string
}

const fail = (field: TimerecField, message: string, position = 0): FieldError => ({ field, position, message })
const DATE_TIME = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})$/
const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate()

function dateTime (field: TimerecField, text: string): LocalDateTime | FieldError {
  const m = DATE_TIME.exec(text)
  if (m === null) return fail(field, `"${text}" is not a date-time YYYYMMDDThhmmss`)
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  if (year < 1970) return fail(field, `"${text}": the year is before 1970`)
  if (month < 1 || month > 12) return fail(field, `"${text}": month ${month} is not 01 to 12`)
  if (day < 1 || day > daysIn(year, month)) return fail(field, `"${text}": ${year}-${m[2] ?? ''} has no day ${day}`)
  if (hour > 23 || minute > 59 || second > 59) return fail(field, `"${text}": ${m[4] ?? ''}:${m[5] ?? ''}:${m[6] ?? ''} is not a time of day`)
  return { year, month, day, hour, minute, second }
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { w: 604_800, d: 86_400, h: 3600, m: 60, s: 1 }

/** `P[nW][nD][T[nH][nM][nS]]` (any case), or the time part alone (`8h30m`), as OpenSIPS reads it. */
function duration (text: string): number | FieldError {
  const m = /^(?:[Pp]((?:\d+[WwDd])*)(?:[Tt]((?:\d+[HhMmSs])*))?|((?:\d+[HhMmSs])+))$/.exec(text)
  if (m === null || text.length < 2) {
    return fail('duration', `"${text}" is not a duration such as p30d, pt8h, p1dt12h or 90m (days and weeks need the p, hours, minutes and seconds follow a t after it)`)
  }
  let seconds = 0
  for (const part of `${m[1] ?? ''}${m[2] ?? ''}${m[3] ?? ''}`.matchAll(/(\d+)([A-Za-z])/g)) {
    seconds += Number(part[1]) * (UNIT_SECONDS[(part[2] ?? '').toLowerCase()] ?? 0)
  }
  if (seconds <= 0) return fail('duration', `"${text}" is no time at all`)
  if (!Number.isSafeInteger(seconds) || seconds > 200 * 366 * 86_400) return fail('duration', `"${text}" is longer than 200 years`)
  return seconds
}

const FREQS: readonly Freq[] = ['daily', 'weekly', 'monthly', 'yearly']
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA']

function items<T> (field: TimerecField, text: string, item: (value: string, position: number) => T | FieldError): T[] | FieldError {
  const out: T[] = []
  const parts = text.split(',')
  for (let i = 0; i < parts.length; i++) {
    const value = (parts[i] ?? '').replace(/[ \t]/g, '')
    if (value === '') return fail(field, 'is empty (OpenSIPS would read it as 0, or Sunday)', i + 1)
    const parsed = item(value, i + 1)
    if (typeof parsed === 'object' && parsed !== null && 'field' in parsed) return parsed
    out.push(parsed as T)
  }
  return out
}

function byDay (text: string): ByDay[] | FieldError {
  return items('byday', text, (value, position) => {
    const m = /^([+-]?)(\d{0,2})([A-Za-z]{2})$/.exec(value)
    const weekday = m === null ? -1 : WEEKDAYS.indexOf((m[3] ?? '').toUpperCase())
    if (m === null || weekday < 0) return fail('byday', `"${value}" is not a weekday (MO, TU, WE, TH, FR, SA, SU, optionally after an ordinal such as 2 or -1)`, position)
    if ((m[1] ?? '') !== '' && (m[2] ?? '') === '') return fail('byday', `"${value}" has a sign but no ordinal`, position)
    const n = m[2] === '' ? 0 : Number(m[2])
    if (m[2] !== '' && (n < 1 || n > 53)) return fail('byday', `"${value}": the ordinal is not 1 to 53`, position)
    if (weekday === 3 && n !== 0) return fail('byday', `"${value}": OpenSIPS 3.6 ignores an ordinal on WE (it would match the first Wednesday); not accepted`, position)
    return { weekday, ordinal: m[1] === '-' ? -n : n }
  })
}

function numbers (field: TimerecField, text: string, max: number, negative: boolean): number[] | FieldError {
  return items(field, text, (value, position) => {
    const m = /^([+-]?)(\d{1,3})$/.exec(value)
    const n = m === null ? Number.NaN : Number(m[2])
    if (m === null || n < 1 || n > max) return fail(field, `"${value}" is not a number from 1 to ${max}${negative ? ` or -1 to -${max}` : ''}`, position)
    if (m[1] === '-' && !negative) return fail(field, `"${value}": ${field} cannot count back from the end`, position)
    return m[1] === '-' ? -n : n
  })
}

export type FieldValues = { -readonly [K in keyof Recurrence]?: Recurrence[K] }

/** Parses one non-empty field into `out`; an error when the value is refused. */
export function parseField (field: TimerecField, text: string, out: FieldValues, isZone: (name: string) => boolean): FieldError | undefined {
  const put = <K extends keyof Recurrence>(key: K, value: Recurrence[K] | FieldError): FieldError | undefined => {
    if (typeof value === 'object' && value !== null && 'field' in value && 'message' in value) return value
    out[key] = value as Recurrence[K]
    return undefined
  }
  switch (field) {
    case 'timezone':
      return isZone(text) ? put('timezone', text) : fail('timezone', `unknown timezone "${text}" (expected an IANA name such as Europe/London)`)
    case 'dtstart': case 'dtend': case 'until':
      return put(field, dateTime(field, text))
    case 'duration':
      return put('duration', duration(text))
    case 'freq': {
      const freq = text.toLowerCase() as Freq
      return FREQS.includes(freq) ? put('freq', freq) : fail('freq', `"${text}" is not daily, weekly, monthly or yearly`)
    }
    case 'interval':
      // OpenSIPS 3.6 adds the digits up (12 is read as 3) and divides by zero on 0.
      return /^[1-9]$/.test(text) ? put('interval', Number(text)) : fail('interval', `"${text}" is not 1 to 9 (OpenSIPS 3.6 misreads intervals of 10 and more)`)
    case 'byday':
      return put('byday', byDay(text))
    case 'bymonthday':
      return put('bymonthday', numbers(field, text, 31, true))
    case 'byyearday':
      return put('byyearday', numbers(field, text, 366, true))
    case 'byweekno':
      return put('byweekno', numbers(field, text, 53, true))
    case 'bymonth':
      return put('bymonth', numbers(field, text, 12, false))
  }
}
