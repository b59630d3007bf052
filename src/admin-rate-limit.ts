/**
 * The admin API's limit on failed authentications, per client address: past `max` failures in a
 * window, requests from that address without a valid token get 429. Only failures count, and a
 * valid token is checked first, so guesses from one address (or from everyone behind one proxy)
 * never lock out the right token. Bounded: at most `maxKeys` addresses are remembered, the oldest
 * window dropped first. The proxy paths never pass through it.
 */

export interface AdminRateLimitOptions {
  /** Failed authentications per client address per window; 0 turns the limit off. */
  readonly max: number
  readonly windowMs: number
  /** Addresses remembered at most (default 10 000). */
  readonly maxKeys?: number
  readonly now?: () => number
}

export interface FailureLimiter {
  readonly max: number
  readonly windowMs: number
  /** Seconds until the address may try again, when it is over the limit; undefined otherwise. */
  refused: (key: string) => { readonly retryAfterS: number, readonly first: boolean } | undefined
  /** Counts a failed authentication. */
  failed: (key: string) => void
}

interface Window { count: number, readonly resetAt: number, refusedLogged: boolean }

export function createFailureLimiter (options: AdminRateLimitOptions): FailureLimiter | undefined {
  if (options.max <= 0) return undefined
  const { max, windowMs } = options
  const maxKeys = options.maxKeys ?? 10_000
  const now = options.now ?? Date.now
  const windows = new Map<string, Window>()
  const current = (key: string, t: number): Window | undefined => {
    const found = windows.get(key)
    if (found !== undefined && found.resetAt <= t) {
      windows.delete(key)
      return undefined
    }
    return found
  }
  return {
    max,
    windowMs,
    refused (key) {
      const t = now()
      const window = current(key, t)
      if (window === undefined || window.count < max) return undefined
      // One log line per address and window, however many refusals follow.
      const first = !window.refusedLogged
      window.refusedLogged = true
      return { retryAfterS: Math.max(1, Math.ceil((window.resetAt - t) / 1000)), first }
    },
    failed (key) {
      const t = now()
      const window = current(key, t)
      if (window !== undefined) {
        window.count++
        return
      }
      if (windows.size >= maxKeys) {
        const oldest = windows.keys().next().value
        if (oldest !== undefined) windows.delete(oldest)
      }
      windows.set(key, { count: 1, resetAt: t + windowMs, refusedLogged: false })
    }
  }
}
