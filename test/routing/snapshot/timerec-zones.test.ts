import { describe, expect, it } from 'vitest'
import { intlOffset as readOffset, localToUtc, offsetAt, partsOffset, UTC_ZONE, wallClockFormat, wallClockCount, zoneTable } from '../../../src/routing/snapshot/timerec-zones.js'

function intlOffset (zone: string, sec: number): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
  const p = Object.fromEntries(f.formatToParts(sec * 1000).map((x) => [x.type, Number(x.value)]))
  return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, (p.hour ?? 0) % 24, p.minute ?? 0, p.second ?? 0) / 1000 - sec
}
const local = (iso: string): number => Date.parse(`${iso}Z`) / 1000
const utc = (iso: string): number => Date.parse(iso) / 1000

describe('zone tables', () => {
  it.each(['Europe/London', 'America/New_York', 'Australia/Lord_Howe', 'Africa/Casablanca', 'Asia/Kathmandu', 'America/Santiago'])('%s: the table gives Intl\'s offset at every instant tried, near its changes too', (name) => {
    const zone = zoneTable(name)
    let seed = 7
    const rnd = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    const instants = Array.from({ length: 400 }, () => Math.floor(rnd() * 4_102_444_800))
    for (const change of Array.from(zone.starts).slice(1, 60)) instants.push(change - 1, change, change + 1)
    const wrong = instants.filter((t) => offsetAt(zone, t) !== intlOffset(name, t)).map((t) => new Date(t * 1000).toISOString())
    expect(wrong).toEqual([])
  })

  it('reads the formatted wall clock as formatToParts gives it, in every zone Intl knows, and by its parts when the text has another shape', () => {
    const wrong: string[] = []
    for (const name of Intl.supportedValuesOf('timeZone')) {
      const format = wallClockFormat(name)
      for (let t = -31 * 86_400 + 4321; t < 4_102_444_800 * 1.1; t += 397 * 86_400 + 3607) if (readOffset(format, t) !== partsOffset(format, t)) wrong.push(`${name} ${t}`)
    }
    expect(wrong).toEqual([])
    const german = new Intl.DateTimeFormat('de-DE', { timeZone: 'Asia/Kathmandu', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    expect(readOffset(german, utc('2024-07-01T00:00:00Z'))).toBe(20_700)
  })

  it('asks Intl past 2100 and is UTC without a zone', () => {
    expect(offsetAt(zoneTable('Europe/London'), utc('2150-07-01T00:00:00Z'))).toBe(3600)
    expect(offsetAt(UTC_ZONE, utc('2024-07-01T00:00:00Z'))).toBe(0)
    expect(zoneTable(null)).toBe(UTC_ZONE)
  })

  it.each<[string, string, string, number]>([
    ['a plain summer time', 'Europe/London', '2024-07-01T09:00:00', utc('2024-07-01T08:00:00Z')],
    ['the spring-forward gap, with the offset from before it (glibc)', 'America/New_York', '2024-03-10T02:30:00', utc('2024-03-10T07:30:00Z')],
    ['the London gap', 'Europe/London', '2024-03-31T01:30:00', utc('2024-03-31T01:30:00Z')],
    ['the repeated hour: its first instant', 'America/New_York', '2024-11-03T01:30:00', utc('2024-11-03T05:30:00Z')],
    ['the repeated hour in Bucharest', 'Europe/Bucharest', '2024-10-27T03:30:00', utc('2024-10-27T00:30:00Z')]
  ])('localToUtc: %s', (_, name, wall, expected) => {
    expect(localToUtc(zoneTable(name), local(wall))).toBe(expected)
  })

  it('counts the instants of a wall clock: none in a gap, two in an overlap', () => {
    const ny = zoneTable('America/New_York')
    expect([local('2024-03-10T02:30:00'), local('2024-11-03T01:30:00'), local('2024-11-03T02:30:00')].map((l) => wallClockCount(ny, l))).toEqual([0, 2, 1])
  })
})
