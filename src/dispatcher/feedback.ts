/** Failover feedback from the proxy's failure route: which SIP codes count against a gateway, and a bounded dedupe. */

export type CodeRange = readonly [number, number]

export interface FeedbackCodes {
  /** Codes or inclusive ranges that count as a gateway failure, whoever generated the reply. */
  readonly failure: ReadonlyArray<number | CodeRange>
  /** Codes that count only when the proxy generated the reply itself (`local: true`), e.g. its own 408 timeout. */
  readonly localOnly: readonly number[]
}

export type FeedbackVerdict = 'failure' | 'success' | 'ignored'

/** How a report counted: its verdict, or `duplicate` for a repeat of the same call and gateway. */
export type FeedbackCounted = FeedbackVerdict | 'duplicate'

/** Told to observers for every placed report (metrics: failures by code class, reports by how they counted). */
export interface FeedbackReport {
  readonly partition: string
  readonly gateway: string
  readonly code: number
  readonly local: boolean
  readonly counted: FeedbackCounted
}

export const DEFAULT_FEEDBACK_CODES: FeedbackCodes = Object.freeze({
  failure: Object.freeze([Object.freeze([500, 599] as const), Object.freeze([600, 699] as const)]),
  localOnly: Object.freeze([408])
})

const inRule = (code: number, rule: number | CodeRange): boolean =>
  typeof rule === 'number' ? code === rule : code >= rule[0] && code <= rule[1]

/**
 * Classifies one failed (or answered) branch. A localOnly code is judged by `local` alone, even
 * if a failure range also covers it: a far-end 408 means the gateway answered, so it is alive.
 */
export function classifyFeedback (code: number, local: boolean, rules: FeedbackCodes): FeedbackVerdict {
  if (!Number.isInteger(code)) return 'ignored'
  if (code >= 200 && code <= 299) return 'success'
  if (rules.localOnly.includes(code)) return local ? 'failure' : 'ignored'
  return rules.failure.some((rule) => inRule(code, rule)) ? 'failure' : 'ignored'
}

const SINGLE = /^(\d{3})(L?)$/i
const RANGE = /^(\d{3})-(\d{3})$/

/** Final non-2xx codes only: a provisional or a success can never be a gateway failure. */
const validCode = (code: number): boolean => code >= 300 && code <= 699

function parseToken (token: string, failure: Array<number | CodeRange>, localOnly: number[]): string | undefined {
  const single = SINGLE.exec(token)
  if (single !== null) {
    const code = Number(single[1])
    if (!validCode(code)) return `'${token}': codes must be between 300 and 699`
    if (single[2] === '') failure.push(code)
    else localOnly.push(code)
    return undefined
  }
  const range = RANGE.exec(token)
  if (range === null) return `'${token}' is not a code (503), a local-only code (408L) or a range (500-599)`
  const lo = Number(range[1])
  const hi = Number(range[2])
  if (!validCode(lo) || !validCode(hi)) return `'${token}': codes must be between 300 and 699`
  if (lo > hi) return `'${token}': range is reversed`
  failure.push([lo, hi])
  return undefined
}

/**
 * Parses config like `408L,500-599,600-699` (L = counts only when the proxy generated it).
 * Returns the rules or one error message naming the bad token. An empty list is valid: no code counts.
 */
export function parseCodeList (text: string): FeedbackCodes | string {
  const failure: Array<number | CodeRange> = []
  const localOnly: number[] = []
  for (const raw of text.split(',')) {
    const token = raw.trim()
    if (token === '') continue
    const problem = parseToken(token, failure, localOnly)
    if (problem !== undefined) return `invalid code list: ${problem}`
  }
  return { failure, localOnly }
}

export interface FeedbackDedupe {
  /** True when `key` was already seen within ttlMs; otherwise remembers it and returns false. */
  seen (key: string): boolean
  readonly size: number
}

/**
 * Remembers recent keys such as `${callId}\n${gateway}` so a report the proxy sends twice counts once.
 * A Map keeps insertion order, which (with a monotonic clock) is also expiry order: eviction and
 * expiry only ever look at the head, so every call is O(1) amortised and memory stays at maxEntries.
 */
export function createFeedbackDedupe (o: { maxEntries: number, ttlMs: number, now: () => number }): FeedbackDedupe {
  const maxEntries = Math.max(1, Math.floor(o.maxEntries))
  const entries = new Map<string, number>()

  function dropExpired (now: number): void {
    for (const [key, at] of entries) {
      if (now - at < o.ttlMs) return
      entries.delete(key)
    }
  }

  return {
    seen (key: string): boolean {
      const now = o.now()
      dropExpired(now)
      const at = entries.get(key)
      if (at !== undefined && now - at < o.ttlMs) return true
      entries.delete(key)
      entries.set(key, now)
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
      return false
    },
    get size (): number { return entries.size }
  }
}
