import { describe, expect, it } from 'vitest'
import { ctime, ReportRing } from '../../src/status/report-ring.js'

describe('ReportRing', () => {
  it('keeps the last N reports, oldest first, evicting the oldest', () => {
    const ring = new ReportRing(3)
    for (let i = 1; i <= 5; i++) ring.push(i * 1000, `r${i}`)
    expect(ring.toArray().map((r) => r.log)).toEqual(['r3', 'r4', 'r5'])
    expect(ring.size).toBe(3)
  })

  it('lists a partly filled ring in insertion order', () => {
    const ring = new ReportRing(4)
    ring.push(1000, 'a')
    ring.push(2000, 'b')
    expect(ring.toArray().map((r) => r.log)).toEqual(['a', 'b'])
  })

  it('wraps many times without losing order', () => {
    const ring = new ReportRing(7)
    for (let i = 0; i < 1000; i++) ring.push(i, String(i))
    expect(ring.toArray().map((r) => r.log)).toEqual(['993', '994', '995', '996', '997', '998', '999'])
  })

  it('gives unix seconds and a ctime date, as OpenSIPS reports do', () => {
    const ring = new ReportRing(1)
    ring.push(Date.UTC(2022, 4, 12, 14, 12, 20, 999), 'x')
    expect(ring.toArray()).toEqual([{ timestamp: 1652364740, date: 'Thu May 12 14:12:20 2022', log: 'x' }])
  })

  it('refuses a ring without room', () => {
    expect(() => new ReportRing(0)).toThrow(RangeError)
  })

  it('pads the day of the month with a space and times with zeros, as ctime(3) does', () => {
    expect(ctime(Date.UTC(2026, 0, 5, 3, 4, 5))).toBe('Mon Jan  5 03:04:05 2026')
    expect(ctime(Date.UTC(2026, 11, 1, 21, 39, 53))).toBe('Tue Dec  1 21:39:53 2026')
  })
})
