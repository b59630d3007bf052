import { describe, expect, it } from 'vitest'
import { checkTimerec, parseTimerec, type TimerecExpr } from '../../../src/routing/timerec/parse-timerec.js'

const leafTexts = (e: TimerecExpr | null): string[] => (e === null ? [] : e.kind === 'leaf' ? [`${e.inverted ? '!' : ''}${e.text}`] : e.operands.flatMap(leafTexts))

describe('parseTimerec', () => {
  it('reads the fields in OpenSIPS order, with the timezone slot only when the first field is empty or starts with A-Z', () => {
    const withZone = parseTimerec('Europe/London|20240105T000000||p1d|monthly|20250101T000000|2|-1FR,MO|1,-1|60|5|12')
    expect(withZone.ok && withZone.expr?.kind === 'leaf' && withZone.expr.rec).toEqual({
      timezone: 'Europe/London',
      dtstart: { year: 2024, month: 1, day: 5, hour: 0, minute: 0, second: 0 },
      dtend: null,
      duration: 86_400,
      freq: 'monthly',
      until: { year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0 },
      interval: 2,
      byday: [{ weekday: 5, ordinal: -1 }, { weekday: 1, ordinal: 0 }],
      bymonthday: [1, -1],
      byyearday: [60],
      byweekno: [5],
      bymonth: [12]
    })
    const noZone = parseTimerec('20121101T000000||p30d')
    const emptyZone = parseTimerec('|20121101T000000||p30d')
    for (const p of [noZone, emptyZone]) {
      expect(p.ok && p.expr?.kind === 'leaf' && [p.expr.rec.timezone, p.expr.rec.dtstart.month, p.expr.rec.duration]).toEqual([null, 11, 30 * 86_400])
    }
  })

  it.each([
    ['p30d', 30 * 86_400], ['pt8h', 8 * 3600], ['P1DT12H', 129_600], ['p1w2d', 9 * 86_400], ['pt14h30m', 52_200], ['90m', 5400], ['3600s', 3600], ['p1dt', 86_400]
  ])('reads the duration %s as %i seconds', (duration, seconds) => {
    const p = parseTimerec(`20240101T000000||${duration}`)
    expect(p.ok && p.expr?.kind === 'leaf' && p.expr.rec.duration).toBe(seconds)
  })

  it.each<[string, string, string[]]>([
    ['the cfgutils README workdays', '20210104T080000|20211231T180000||WEEKLY|||MO,TU,WE,TH,FR & !20210104T120000|20211231T140000||WEEKLY|||MO,TU,WE,TH,FR', ['and']],
    ['the README holidays, a slash in zones and an operator', 'America/New_York|20210104T090000|20210104T170000||WEEKLY|||MO,TU,WE,TH,FR & !(Europe/Amsterdam|20210427T000000|20210428T000000 / Europe/London|20211227T000000|20211228T000000)', ['and', 'or']],
    ['a slash right after a recurrence', '20240101T000000|20240102T000000/Europe/London|20240301T000000|20240302T000000', ['or']],
    ['double negation and nesting', '!!(20240101T000000||p1d / (20240105T000000||p1d & !20240105T120000||pt1h))', ['or', 'and']]
  ])('parses %s', (_, text, ops) => {
    const p = parseTimerec(text)
    expect(p.ok).toBe(true)
    const opsOf = (e: TimerecExpr | null): string[] => (e === null || e.kind === 'leaf' ? [] : [e.op, ...e.operands.flatMap(opsOf)])
    expect(p.ok && opsOf(p.expr)).toEqual(ops)
  })

  it('keeps each recurrence\'s text, place and negation', () => {
    const p = parseTimerec('  20240101T000000||p1d & !Europe/London|20240105T000000||p1d')
    expect(p.ok && leafTexts(p.expr)).toEqual(['20240101T000000||p1d', '!Europe/London|20240105T000000||p1d'])
    expect(p.ok && p.expr?.kind === 'group' && p.expr.operands.map((o) => o.kind === 'leaf' && [o.index, o.at])).toEqual([[1, 3], [2, 27]])
  })

  it('takes a blank text as always', () => {
    expect(parseTimerec('')).toEqual({ ok: true, expr: null, recurrences: 0 })
    expect(parseTimerec('  \t')).toEqual({ ok: true, expr: null, recurrences: 0 })
  })
})

describe('checkTimerec', () => {
  it.each<[string, string]>([
    ['20210104T080000||pt8h|weekly|||MO,XX', 'field byday, position 2: "XX" is not a weekday'],
    ['20210104T080000||pt8h|weekly|||MO,', 'field byday, position 2: is empty'],
    ['20210104T080000||pt8h|monthly|||-2WE', 'field byday, position 1: "-2WE": OpenSIPS 3.6 ignores an ordinal on WE'],
    ['20210104T080000||pt8h|monthly|||60FR', 'field byday, position 1: "60FR": the ordinal is not 1 to 53'],
    ['20210104T080000||pt8h|monthly|||-FR', 'field byday, position 1: "-FR" has a sign but no ordinal'],
    ['2021-01-04T08:00', 'field dtstart: "2021-01-04T08:00" is not a date-time YYYYMMDDThhmmss'],
    ['20210230T080000', 'field dtstart: "20210230T080000": 2021-02 has no day 30'],
    ['19691231T235959', 'field dtstart: "19691231T235959": the year is before 1970'],
    ['20210104T250000', 'field dtstart: "20210104T250000": 25:00:00 is not a time of day'],
    ['20210104T080000|2021', 'field dtend: "2021" is not a date-time'],
    ['20210104T080000||30d', 'field duration: "30d" is not a duration'],
    ['20210104T080000||p8h', 'field duration: "p8h" is not a duration'],
    ['20210104T080000||pt0s', 'field duration: "pt0s" is no time at all'],
    ['20210104T080000||pt8h|hourly', 'field freq: "hourly" is not daily, weekly, monthly or yearly'],
    ['20210104T080000||pt8h|daily|x', 'field until: "x" is not a date-time'],
    ['20210104T080000||pt8h|daily||10', 'field interval: "10" is not 1 to 9'],
    ['20210104T080000||pt8h|daily||||32', 'field bymonthday, position 1: "32" is not a number from 1 to 31 or -1 to -31'],
    ['20210104T080000||pt8h|daily||||1,a', 'field bymonthday, position 2: "a" is not a number'],
    ['20210104T080000||pt8h|yearly|||||367', 'field byyearday, position 1: "367" is not a number from 1 to 366'],
    ['20210104T080000||pt8h|yearly||||||0', 'field byweekno, position 1: "0" is not a number from 1 to 53'],
    ['20210104T080000||pt8h|yearly|||||||13', 'field bymonth, position 1: "13" is not a number from 1 to 12'],
    ['20210104T080000||pt8h|yearly|||||||-1', 'field bymonth, position 1: "-1": bymonth cannot count back from the end'],
    ['20210104T080000||pt8h|yearly||||||||x', 'field bymonth: has 1 field(s) past bymonth'],
    ['Mars/Olympus|20210104T080000', 'field timezone: unknown timezone "Mars/Olympus"'],
    ['EUROPE/LONDON|20210104T080000', 'field timezone: unknown timezone "EUROPE/LONDON"'],
    ['Europe/London', 'field dtstart: is required'],
    ['20210104T080000||pt8h||20220101T000000', 'field freq: is required when until, interval or a by… field is given'],
    ['20210104T080000 & x', 'recurrence 2 (character 19): field dtstart: "x" is not a date-time'],
    ['20210104T080000||pt1h & 20210104T080000|||weekly|||MO,XX', 'recurrence 2 (character 52): field byday, position 2: "XX" is not a weekday'],
    ['a & b / c', 'recurrence 1 (character 1): field dtstart'],
    ['20210104T080000 & 20210105T080000 / 20210106T080000', 'character 35: "/" after "&" at one level: put parentheses around one side'],
    ['(20210104T080000', 'character 1: this "(" is never closed'],
    ['20210104T080000 &', 'character 17: the expression ends after "&"'],
    ['& 20210104T080000', 'character 1: unexpected "&"'],
    ['20210104T080000 20210105T080000', 'character 17: "2" where & or / was expected'],
    ['20210104T080000!', 'character 16: "!" inside a recurrence'],
    ['()', 'character 1: empty parentheses'],
    ['!', 'character 1: "!" negates nothing']
  ])('refuses %j: %s', (text, message) => {
    expect(checkTimerec(text)).toContain(message)
  })

  it('accepts what it parses', () => {
    expect(checkTimerec('Europe/Bucharest|20201225T000000|20201226T000000||yearly||||25|||12')).toBeUndefined()
    expect(checkTimerec('')).toBeUndefined()
  })
})
