import { describe, expect, it } from 'vitest'
import { EMPTY_PROBE_STATS, updateProbeStats, type LatencySample, type ProbeStats } from '../../src/dispatcher/probe-stats.js'

const fold = (samples: LatencySample[], start: ProbeStats = EMPTY_PROBE_STATS): ProbeStats => samples.reduce(updateProbeStats, start)
const replies = (...ms: number[]): LatencySample[] => ms.map((latencyMs) => ({ timeout: false, latencyMs }))

describe('updateProbeStats', () => {
  it('keeps count, mean, max, last and the sample standard deviation', () => {
    const stats = fold(replies(2, 4, 4, 4, 5, 5, 7, 9))
    expect(stats.count).toBe(8)
    expect(stats.avgMs).toBeCloseTo(5)
    expect(stats.maxMs).toBe(9)
    expect(stats.lastMs).toBe(9)
    expect(stats.stdMs).toBeCloseTo(Math.sqrt(32 / 7)) // sum of squared deviations 32, n − 1 = 7
  })

  it('gives a zero deviation for one sample', () => {
    expect(fold(replies(12))).toMatchObject({ count: 1, avgMs: 12, stdMs: 0, estMs: 12 })
  })

  it('counts timeouts without letting them touch the latency figures', () => {
    const stats = fold([...replies(10, 20), { timeout: true }, { timeout: true }])
    expect(stats).toMatchObject({ count: 2, avgMs: 15, maxMs: 20, lastMs: 20, timeouts: 2 })
  })

  it('ignores a result with no latency (a probe that could not be sent)', () => {
    const stats = fold(replies(10))
    expect(updateProbeStats(stats, { timeout: false })).toBe(stats)
  })

  it('estimates with the mean for 10 samples, then an EWMA with alpha 0.1', () => {
    const trained = fold(replies(10, 10, 10, 10, 10, 10, 10, 10, 10, 10))
    expect(trained.estMs).toBe(10)
    const next = updateProbeStats(trained, { timeout: false, latencyMs: 110 })
    expect(next.estMs).toBeCloseTo(0.1 * 110 + 0.9 * 10) // 20, while the mean only moves to ~19.1
    expect(next.avgMs).toBeCloseTo(210 / 11)
  })

  it('matches a direct computation over a long run', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 37) % 101)
    const stats = fold(replies(...values))
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)
    expect(stats.avgMs).toBeCloseTo(mean, 6)
    expect(stats.stdMs).toBeCloseTo(Math.sqrt(variance), 6)
  })
})
