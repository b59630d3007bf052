/** Small statistics for the bench: a µs latency histogram (autocannon's own counts whole ms) and medians. */

const FINE_US = 100_000 // 1 µs buckets up to 100 ms
const COARSE_MS = 120_000 // then 1 ms buckets up to 2 min

export function createLatencyHistogram () {
  const fine = new Uint32Array(FINE_US)
  const coarse = new Uint32Array(COARSE_MS)
  let count = 0
  let max = 0
  return {
    /** Records one latency given in milliseconds (float). */
    record (ms) {
      const us = Math.round(ms * 1000)
      if (us < FINE_US) fine[us]++
      else coarse[Math.min(COARSE_MS - 1, Math.floor(us / 1000))]++
      if (ms > max) max = ms
      count++
    },
    get count () { return count },
    get max () { return max },
    /** The latency (ms) at percentile p (0–100). */
    percentile (p) {
      if (count === 0) return 0
      const want = Math.max(1, Math.ceil((p / 100) * count))
      let seen = 0
      for (let i = 0; i < FINE_US; i++) {
        seen += fine[i]
        if (seen >= want) return i / 1000
      }
      for (let i = 0; i < COARSE_MS; i++) {
        seen += coarse[i]
        if (seen >= want) return i
      }
      return max
    }
  }
}

export function median (values) {
  if (values.length === 0) return Number.NaN
  const sorted = values.slice().sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export const min = (values) => values.reduce((a, b) => Math.min(a, b), Infinity)
export const max = (values) => values.reduce((a, b) => Math.max(a, b), -Infinity)

/** Formats a number with a fixed count of decimals, or '–' when it is not a number. */
export function fmt (value, decimals = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–'
  return Number(value).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}
