/**
 * Time recurrences evaluated as OpenSIPS 3.6.8 evaluates them (the e2e oracle compares with the
 * real check_time_rec): every example of the cfgutils and drouting READMEs, the shapes the issue
 * names, operators, and DST edges. A recurrence without a timezone is in UTC.
 */
import { describe, expect, it } from 'vitest'
import { compileTimerec } from '../../../src/routing/snapshot/timerec-compile.js'
import { isTimerecOpen } from '../../../src/routing/snapshot/timerec-eval.js'
import { explainTimerec } from '../../../src/routing/snapshot/timerec-explain.js'

const compiled = (text: string) => {
  const c = compileTimerec(text)
  if (c === null || typeof c === 'string') throw new Error(`${text}: ${String(c)}`)
  return c
}
const open = (text: string, iso: string): boolean => isTimerecOpen(compiled(text), Date.parse(iso))

type Row = [string, boolean]
const table = (text: string, rows: Row[]): void => {
  it.each(rows)(`${text} at %s → %s`, (iso, expected) => { expect(open(text, iso)).toBe(expected) })
}

describe('the cfgutils README examples', () => {
  // dtend is where the first occurrence ends, not the recurrence: a year-long span covers every
  // weekday whole, and so does the lunch one, so this README example is never open on a weekday.
  describe('workdays 8-18 except 12-14 (as written: never open on a weekday)', () => table(
    '20210104T080000|20211231T180000||WEEKLY|||MO,TU,WE,TH,FR & !20210104T120000|20211231T140000||WEEKLY|||MO,TU,WE,TH,FR',
    [['2021-03-03T09:00:00Z', false], ['2021-03-03T12:30:00Z', false], ['2021-03-06T09:00:00Z', false], ['2021-01-04T07:00:00Z', false]]
  ))
  describe('the same written with durations: 8-18 less 12-14', () => table(
    '20210104T080000||pt10h|WEEKLY|||MO,TU,WE,TH,FR & !20210104T120000||pt2h|WEEKLY|||MO,TU,WE,TH,FR',
    [['2021-03-03T07:59:59Z', false], ['2021-03-03T08:00:00Z', true], ['2021-03-03T11:59:59Z', true], ['2021-03-03T12:00:00Z', false],
      ['2021-03-03T13:59:59Z', false], ['2021-03-03T14:00:00Z', true], ['2021-03-03T17:59:59Z', true], ['2021-03-03T18:00:00Z', false], ['2021-03-06T10:00:00Z', false]]
  ))
  describe('New York office hours except European holidays', () => table(
    'America/New_York|20210104T090000|20210104T170000||WEEKLY|||MO,TU,WE,TH,FR & !(Europe/Amsterdam|20210427T000000|20210428T000000 / Europe/London|20211227T000000|20211228T000000)',
    [['2021-04-26T14:00:00Z', true], ['2021-04-27T14:00:00Z', false], ['2021-04-28T14:00:00Z', true], ['2021-12-27T15:00:00Z', false],
      ['2021-12-28T15:00:00Z', true], ['2021-04-26T12:59:59Z', false], ['2021-04-26T13:00:00Z', true], ['2021-04-26T21:00:00Z', false]]
  ))
  describe('the year 2012 in Bucharest', () => table('Europe/Bucharest|20120101T000000|20130101T000000', [
    ['2011-12-31T21:59:59Z', false], ['2011-12-31T22:00:00Z', true], ['2012-07-01T12:00:00Z', true], ['2012-12-31T21:59:59Z', true], ['2012-12-31T22:00:00Z', false]
  ]))
  describe('30 days from dtstart', () => table('20121101T000000||p30d', [
    ['2012-10-31T23:59:59Z', false], ['2012-11-01T00:00:00Z', true], ['2012-11-30T23:59:59Z', true], ['2012-12-01T00:00:00Z', false]
  ]))
})

describe('what the issue names', () => {
  describe('a yearly holiday: 25 December, all day, Bucharest time', () => table('Europe/Bucharest|20201225T000000|20201226T000000||yearly||||25|||12', [
    ['2024-12-24T21:59:59Z', false], ['2024-12-24T22:00:00Z', true], ['2024-12-25T21:59:59Z', true], ['2024-12-25T22:00:00Z', false],
    ['2024-11-25T12:00:00Z', false], ['2019-12-25T12:00:00Z', false], ['2031-12-25T12:00:00Z', true]
  ]))
  describe('the last Friday of the month (byday -1FR), London', () => table('Europe/London|20240105T000000||p1d|monthly|||-1FR', [
    ['2024-03-29T12:00:00Z', true], ['2024-03-22T12:00:00Z', false], ['2024-05-30T23:30:00Z', true], ['2024-05-31T22:59:59Z', true], ['2024-05-31T23:00:00Z', false], ['2024-02-23T00:00:00Z', true]
  ]))
  describe('a bound at 14:30 rather than midnight, weekdays 09:00-14:30 London', () => table('Europe/London|20240101T090000|20240101T143000||weekly|||MO,TU,WE,TH,FR', [
    ['2024-01-10T08:59:59Z', false], ['2024-01-10T09:00:00Z', true], ['2024-01-10T14:29:59Z', true], ['2024-01-10T14:30:00Z', false],
    ['2024-07-10T13:29:59Z', true], ['2024-07-10T13:30:00Z', false], ['2024-01-13T10:00:00Z', false]
  ]))
  describe('every other week, Monday and Wednesday 09-17', () => table('Europe/London|20240101T090000||pt8h|weekly||2|MO,WE', [
    ['2024-01-01T10:00:00Z', true], ['2024-01-03T10:00:00Z', true], ['2024-01-08T10:00:00Z', false], ['2024-01-15T10:00:00Z', true], ['2024-01-02T10:00:00Z', false]
  ]))
  describe('until, inclusive', () => table('20240101T000000||p1d|daily|20240110T120000', [
    ['2024-01-10T11:00:00Z', true], ['2024-01-10T12:00:00Z', true], ['2024-01-10T12:00:01Z', false]
  ]))
  describe('a span over the weekend, Friday 22:00 to Monday 06:00 New York (not open on its very first second, as in OpenSIPS)', () => table('America/New_York|20240105T220000||p2dt8h|weekly', [
    ['2024-01-13T03:00:00Z', false], ['2024-01-13T03:00:01Z', true], ['2024-01-14T12:00:00Z', true], ['2024-01-15T10:59:59Z', true], ['2024-01-15T11:00:00Z', false], ['2024-01-13T02:59:59Z', false], ['2024-01-16T12:00:00Z', false]
  ]))
})

describe('operators', () => {
  const a = '20240101T000000||pt12h|daily'
  const b = '20240101T060000||pt12h|daily'
  it.each<[string, string, boolean]>([
    [`${a} & ${b}`, '2024-02-01T07:00:00Z', true], [`${a} & ${b}`, '2024-02-01T03:00:00Z', false],
    [`${a} / ${b}`, '2024-02-01T03:00:00Z', true], [`${a} / ${b}`, '2024-02-01T20:00:00Z', false],
    [`!${a}`, '2024-02-01T03:00:00Z', false], [`!${a}`, '2024-02-01T13:00:00Z', true], [`!!${a}`, '2024-02-01T03:00:00Z', true],
    [`!(${a} / ${b})`, '2024-02-01T20:00:00Z', true], [`(${a} & !${b}) / ${b}`, '2024-02-01T03:00:00Z', true],
    [`${a}&${b}`, '2024-02-01T07:00:00Z', true], [`Europe/London|20240101T000000||pt12h|daily/${b}`, '2024-02-01T15:00:00Z', true]
  ])('%s at %s → %s', (text, iso, expected) => { expect(open(text, iso)).toBe(expected) })
})

describe('daylight saving time', () => {
  describe('New York 09-17 every day keeps to the wall clock across spring forward', () => table('America/New_York|20240308T090000||pt8h|daily', [
    ['2024-03-08T14:00:00Z', true], ['2024-03-11T13:00:00Z', true], ['2024-03-11T12:59:59Z', false], ['2024-03-11T20:59:59Z', true], ['2024-03-11T21:00:00Z', false]
  ]))
  describe('a dtstart in the spring-forward gap (02:30) is read as 03:30 EDT, as glibc does', () => table('America/New_York|20240310T023000||pt1h|daily', [
    ['2024-03-10T07:29:59Z', false], ['2024-03-10T07:30:00Z', true], ['2024-03-10T08:29:59Z', true], ['2024-03-10T08:30:00Z', false], ['2024-03-11T07:45:00Z', true]
  ]))
  describe('New York fall back: 00:30 for three hours ends at 02:30 EST', () => table('America/New_York|20241103T003000||pt3h|daily', [
    ['2024-11-03T04:30:00Z', true], ['2024-11-03T07:29:59Z', true], ['2024-11-03T07:30:00Z', false], ['2024-11-04T05:30:00Z', true], ['2024-11-04T07:29:59Z', true], ['2024-11-04T07:30:00Z', false]
  ]))
  describe('London fall back: Sundays 00:30-01:30 by the wall clock, which the repeated hour cuts', () => table('Europe/London|20241027T003000||pt2h|weekly|||SU', [
    ['2024-10-26T23:30:00Z', true], ['2024-10-27T00:29:59Z', true], ['2024-10-27T00:30:00Z', false], ['2024-10-27T01:00:00Z', true], ['2024-10-27T01:30:00Z', false], ['2024-11-03T00:45:00Z', true]
  ]))
  describe('London spring forward: a one-off range over the missing hour', () => table('Europe/London|20240331T003000|20240331T030000', [
    ['2024-03-31T00:29:59Z', false], ['2024-03-31T00:30:00Z', true], ['2024-03-31T01:59:59Z', true], ['2024-03-31T02:00:00Z', false]
  ]))
  describe('a dtstart in the repeated hour is its first instant (01:30 EDT); a one-hour span from it ends on the same wall clock', () => table('America/New_York|20241103T013000||pt1h|daily', [
    ['2024-11-03T05:30:00Z', false], ['2024-11-04T06:45:00Z', false]
  ]))
})

describe('OpenSIPS quirks kept (the oracle checks them against check_time_rec)', () => {
  describe('bymonthday 31 never matches in a 31-day month, and 31 in a 30-day month is the 1st', () => table('20240101T000000||p1d|monthly||||31', [
    ['2024-01-31T12:00:00Z', false], ['2024-04-01T12:00:00Z', true], ['2024-05-01T12:00:00Z', false], ['2024-04-30T12:00:00Z', false]
  ]))
  describe('a plain FR under freq monthly is the first Friday', () => table('20240101T000000||p1d|monthly|||FR', [
    ['2024-03-01T12:00:00Z', true], ['2024-03-08T12:00:00Z', false]
  ]))
  describe('no dtend nor duration: to the end of the unit (weekly: to the end of the Sunday-based week)', () => table('Europe/London|20240103T100000|||weekly', [
    ['2024-01-06T23:59:59Z', true], ['2024-01-07T00:00:00Z', false], ['2024-01-10T10:00:01Z', true], ['2024-01-10T09:59:59Z', false]
  ]))
})

describe('explainTimerec', () => {
  it('says which recurrence holds and why the others do not', () => {
    const verdict = explainTimerec(compiled('Europe/London|20240101T090000||pt8h|weekly|||MO,TU & !20240101T000000||p1d|yearly||||25|||12'), Date.parse('2024-01-03T10:00:00Z'))
    expect(verdict.open).toBe(false)
    expect(verdict.recurrences.map((r) => [r.index, r.holds, r.negated, r.reason])).toEqual([[1, false, false, 'not on a day of byday'], [2, false, true, 'not in a month of bymonth']])
    const before = explainTimerec(compiled('20300101T000000||p1d'), Date.parse('2024-01-03T10:00:00Z'))
    expect(before.recurrences[0]?.reason).toBe('before dtstart')
  })
})
