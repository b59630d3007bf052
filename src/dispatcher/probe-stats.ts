/** Per-gateway probe latency statistics as Kamailio's dispatcher keeps them: AVG, STD, EST (EWMA), MAX, TIMEOUT. */

export interface ProbeStats {
  /** Replies measured (timeouts excluded). */
  readonly count: number
  readonly avgMs: number
  readonly maxMs: number
  /** Sample standard deviation (Welford), 0 until there are two samples. */
  readonly stdMs: number
  /** Estimate: the running mean for the first samples, then an EWMA that follows recent changes. */
  readonly estMs: number
  readonly timeouts: number
  readonly lastMs: number
}

/** What a probe result must tell us: a timeout, or a reply with its latency. */
export interface LatencySample {
  readonly timeout: boolean
  readonly latencyMs?: number
}

export const EMPTY_PROBE_STATS: ProbeStats = Object.freeze({
  count: 0, avgMs: 0, maxMs: 0, stdMs: 0, estMs: 0, timeouts: 0, lastMs: 0
})

/** Kamailio's defaults: `ds_latency_estimator_alpha` 100/1000, EWMA only once 10 samples trained the mean. */
export const EST_ALPHA = 0.1
export const EST_TRAINING_SAMPLES = 10

/**
 * Folds one probe result into the stats (pure). Timeouts are counted and excluded from latency,
 * as Kamailio does with 408s: a timeout has no latency, only a lower bound. A send failure
 * (no timeout, no latency) changes nothing and returns the same object.
 */
export function updateProbeStats (stats: ProbeStats, result: LatencySample): ProbeStats {
  if (result.timeout) return { ...stats, timeouts: stats.timeouts + 1 }
  const ms = result.latencyMs
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return stats
  const count = stats.count + 1
  const delta = ms - stats.avgMs
  const avgMs = stats.avgMs + delta / count
  // Welford's M2 is recovered from the stored std (M2 = std² × (n−1)), so the stats stay a flat, showable record.
  const m2 = stats.stdMs ** 2 * Math.max(0, stats.count - 1) + delta * (ms - avgMs)
  const stdMs = count > 1 ? Math.sqrt(m2 / (count - 1)) : 0
  const estMs = count > EST_TRAINING_SAMPLES ? EST_ALPHA * ms + (1 - EST_ALPHA) * stats.estMs : avgMs
  return { count, avgMs, maxMs: Math.max(stats.maxMs, ms), stdMs, estMs, timeouts: stats.timeouts, lastMs: ms }
}
