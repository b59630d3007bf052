import { describe, expect, it } from 'vitest'
import type { TimeWindowData } from '../../../src/routing/routing-data.schema.js'
import { compileTimeWindow, isWindowOpen, type CompiledWindow } from '../../../src/routing/snapshot/time-window.js'

function compiled (data: TimeWindowData): CompiledWindow {
  const window = compileTimeWindow(data)
  if (typeof window === 'string') throw new Error(window)
  return window
}

const at = (iso: string): number => Date.parse(iso)

describe('compileTimeWindow', () => {
  it.each<[string, TimeWindowData, RegExp]>([
    ['an unknown timezone', { timezone: 'Mars/Olympus' }, /unknown timezone "Mars\/Olympus"/],
    ['a window ending before it starts', { timezone: 'UTC', weekly: [{ days: ['mon'], start: '17:00', end: '09:00' }] }, /ends \(09:00\) before it starts/],
    ['an empty window', { timezone: 'UTC', weekly: [{ days: ['mon'], start: '09:00', end: '09:00' }] }, /before it starts/],
    ['a date range ending before it starts', { timezone: 'UTC', from: '2026-02-01', until: '2026-01-01' }, /until.*ends \(2026-01-01\) before it starts/],
    ['a date that does not exist', { timezone: 'UTC', from: '2026-02-30' }, /not a calendar date/]
  ])('refuses %s, saying why', (_, data, message) => {
    expect(compileTimeWindow(data)).toMatch(message)
  })
})

describe('isWindowOpen', () => {
  const office = compiled({ timezone: 'Europe/London', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] })

  it.each([
    ['Wednesday noon', '2026-01-14T12:00:00Z', true],
    ['the first minute', '2026-01-14T09:00:00Z', true],
    ['one minute before opening', '2026-01-14T08:59:59Z', false],
    ['the end minute (end is exclusive)', '2026-01-14T17:00:00Z', false],
    ['the last second before the end', '2026-01-14T16:59:59Z', true],
    ['Saturday noon', '2026-01-17T12:00:00Z', false],
    ['Sunday noon', '2026-01-18T12:00:00Z', false]
  ])('office hours in London, %s → %s', (_, iso, open) => {
    expect(isWindowOpen(office, at(iso))).toBe(open)
  })

  it('is always open without weekly hours or dates', () => {
    const always = compiled({ timezone: 'UTC' })
    expect(isWindowOpen(always, at('2026-01-14T00:00:00Z'))).toBe(true)
    expect(isWindowOpen(always, at('2031-07-04T23:59:59Z'))).toBe(true)
  })

  it('treats an empty weekly list as every day, all day', () => {
    expect(isWindowOpen(compiled({ timezone: 'UTC', weekly: [] }), at('2026-01-17T03:00:00Z'))).toBe(true)
  })

  it.each([
    ['mon', '2026-01-12'], ['tue', '2026-01-13'], ['wed', '2026-01-14'], ['thu', '2026-01-15'],
    ['fri', '2026-01-16'], ['sat', '2026-01-17'], ['sun', '2026-01-18']
  ] as const)('maps %s to %s and no other day of that week', (day, date) => {
    const window = compiled({ timezone: 'UTC', weekly: [{ days: [day], start: '00:00', end: '24:00' }] })
    const openDays = ['12', '13', '14', '15', '16', '17', '18'].filter((d) => isWindowOpen(window, at(`2026-01-${d}T06:00:00Z`)))
    expect(openDays).toEqual([date.slice(-2)])
  })

  it('lets 24:00 end the day: 23:59 is open, the next midnight is not', () => {
    const late = compiled({ timezone: 'UTC', weekly: [{ days: ['sun'], start: '22:00', end: '24:00' }] })
    expect(isWindowOpen(late, at('2026-01-18T23:59:30Z'))).toBe(true)
    expect(isWindowOpen(late, at('2026-01-19T00:00:00Z'))).toBe(false)
  })

  it('opens when any weekly entry matches', () => {
    const split = compiled({ timezone: 'UTC', weekly: [{ days: ['wed'], start: '08:00', end: '12:00' }, { days: ['wed'], start: '13:00', end: '17:00' }] })
    expect([11, 12, 13, 16, 17].map((h) => isWindowOpen(split, Date.UTC(2026, 0, 14, h, 30)))).toEqual([true, false, true, true, false])
  })

  it('follows London across the spring-forward transition (2026-03-29 01:00 UTC)', () => {
    const mondayNine = compiled({ timezone: 'Europe/London', weekly: [{ days: ['mon'], start: '09:00', end: '10:00' }] })
    expect(isWindowOpen(mondayNine, at('2026-03-23T09:30:00Z'))).toBe(true) // GMT: 09:30 local
    expect(isWindowOpen(mondayNine, at('2026-03-30T09:30:00Z'))).toBe(false) // BST: 10:30 local
    expect(isWindowOpen(mondayNine, at('2026-03-30T08:30:00Z'))).toBe(true) // BST: 09:30 local
    const earlySunday = compiled({ timezone: 'Europe/London', weekly: [{ days: ['sun'], start: '00:00', end: '01:30' }] })
    expect(isWindowOpen(earlySunday, at('2026-03-29T00:59:00Z'))).toBe(true) // 00:59 GMT
    expect(isWindowOpen(earlySunday, at('2026-03-29T01:00:00Z'))).toBe(false) // 02:00 BST: 01:xx never happens
  })

  it('follows New York across the fall-back transition (2026-11-01 06:00 UTC): 01:xx happens twice', () => {
    const window = compiled({ timezone: 'America/New_York', weekly: [{ days: ['sun'], start: '01:00', end: '02:00' }] })
    expect([
      at('2026-11-01T04:30:00Z'), // 00:30 EDT
      at('2026-11-01T05:30:00Z'), // 01:30 EDT
      at('2026-11-01T06:30:00Z'), // 01:30 EST
      at('2026-11-01T07:30:00Z') // 02:30 EST
    ].map((t) => isWindowOpen(window, t))).toEqual([false, true, true, false])
  })

  it('stays right when calls alternate between instants with different offsets (the per-minute memo)', () => {
    const mondayNine = compiled({ timezone: 'Europe/London', weekly: [{ days: ['mon'], start: '09:00', end: '10:00' }] })
    const winter = at('2026-03-23T09:30:00Z')
    const summer = at('2026-03-30T09:30:00Z')
    expect([winter, summer, winter, summer, winter].map((t) => isWindowOpen(mondayNine, t))).toEqual([true, false, true, false, true])
  })

  it('handles zones with a quarter-hour offset (Asia/Kathmandu, +05:45)', () => {
    const window = compiled({ timezone: 'Asia/Kathmandu', weekly: [{ days: ['wed'], start: '09:00', end: '09:01' }] })
    expect(isWindowOpen(window, at('2026-01-14T03:15:00Z'))).toBe(true)
    expect(isWindowOpen(window, at('2026-01-14T03:14:59Z'))).toBe(false)
    expect(isWindowOpen(window, at('2026-01-14T03:16:00Z'))).toBe(false)
  })

  it('compares dates in the local zone, bounds inclusive (Auckland is UTC+13 in January)', () => {
    const window = compiled({ timezone: 'Pacific/Auckland', from: '2026-01-10', until: '2026-01-14' })
    expect([
      at('2026-01-09T10:59:00Z'), // 2026-01-09 23:59 local
      at('2026-01-09T11:00:00Z'), // 2026-01-10 00:00 local
      at('2026-01-14T10:59:00Z'), // 2026-01-14 23:59 local
      at('2026-01-14T11:00:00Z') // 2026-01-15 00:00 local
    ].map((t) => isWindowOpen(window, t))).toEqual([false, true, true, false])
  })

  it('needs both the date range and the weekly hours', () => {
    const window = compiled({ timezone: 'UTC', from: '2026-01-14', weekly: [{ days: ['tue', 'wed'], start: '09:00', end: '17:00' }] })
    expect(isWindowOpen(window, at('2026-01-13T12:00:00Z'))).toBe(false) // Tuesday, before from
    expect(isWindowOpen(window, at('2026-01-14T12:00:00Z'))).toBe(true)
    expect(isWindowOpen(window, at('2026-01-14T18:00:00Z'))).toBe(false)
  })
})
