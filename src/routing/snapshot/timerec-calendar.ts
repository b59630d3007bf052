/** Calendar arithmetic for time recurrences: struct tm fields of an instant in a zone, without Date or allocation. */
import { offsetAt, type ZoneTable } from './timerec-zones.js'

/** Slots of a struct tm as the checks read it. */
export const TM = Object.freeze({ year: 0, mon: 1, mday: 2, tod: 3, wday: 4, yday: 5, days: 6, size: 7 })

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
export function daysFromCivil (year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.trunc((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
/** Days in a month (0–11). */
export const monthDays = (year: number, mon: number): number => (mon === 1 && isLeapYear(year) ? 29 : MONTH_DAYS[mon] as number)

/** The struct tm of `sec` (seconds since the epoch) in the zone, written into `tm` at the TM slots. */
export function fillTm (zone: ZoneTable, sec: number, tm: Int32Array): void {
  fillLocalTm(sec + offsetAt(zone, sec), tm)
}

/** The struct tm of a wall-clock time given as seconds since 1970-01-01T00:00 local. */
export function fillLocalTm (local: number, tm: Int32Array): void {
  const days = Math.floor(local / 86_400)
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.trunc((doe - Math.trunc(doe / 1460) + Math.trunc(doe / 36_524) - Math.trunc(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.trunc(yoe / 4) - Math.trunc(yoe / 100))
  const mp = Math.trunc((5 * doy + 2) / 153)
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  tm[TM.year] = year
  tm[TM.mon] = month - 1
  tm[TM.mday] = doy - Math.trunc((153 * mp + 2) / 5) + 1
  tm[TM.tod] = local - days * 86_400
  tm[TM.wday] = (((days + 4) % 7) + 7) % 7
  tm[TM.yday] = days - daysFromCivil(year, 1, 1)
  tm[TM.days] = days
}
