/** Retry timing shared by everything that waits for the database: the monitor, the listener, the stores and the reloads. */

/** Full jitter over an exponential ceiling: instances that lost the same database do not retry in step. */
export function backoffDelay (attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30))
  return Math.round(minMs + (ceiling - minMs) * random())
}
