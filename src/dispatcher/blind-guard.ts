/** Guard against a blind prober: when a whole partition goes silent in one round, suspect our own network, not every gateway. */

/** What the guard needs of a probe result (a ProbeResult fits). */
export interface RoundOutcome {
  readonly ok: boolean
  readonly timeout: boolean
  readonly status?: number
}

export interface BlindGuardOptions {
  /** Fewer probed gateways than this in a partition prove nothing about the prober: judge them normally. */
  readonly minGateways: number
}

export const DEFAULT_BLIND_GUARD: BlindGuardOptions = Object.freeze({ minGateways: 2 })

export type PartitionVerdict =
  | { readonly frozen: true, readonly partition: string, readonly failed: number, readonly reason: string }
  | { readonly frozen: false, readonly partition: string, readonly failed: number }

interface Tally {
  readonly probed: number
  readonly answered: number
  readonly timeouts: number
  readonly sendFailures: number
}

/** A reply of any kind — even a 503 — proves the prober can reach the network. */
const answered = (r: RoundOutcome): boolean => r.ok || r.status !== undefined

function tally (results: readonly RoundOutcome[]): Tally {
  let answeredCount = 0
  let timeouts = 0
  for (const r of results) {
    if (answered(r)) answeredCount++
    else if (r.timeout) timeouts++
  }
  return { probed: results.length, answered: answeredCount, timeouts, sendFailures: results.length - answeredCount - timeouts }
}

const isBlind = (t: Tally, minGateways: number): boolean => t.probed >= Math.max(1, minGateways) && t.answered === 0

function frozenReason (t: Tally, scope: string): string {
  return `all ${t.probed} probed gateways ${scope} failed without any answer in the same round ` +
    `(${t.timeouts} timeouts, ${t.sendFailures} send failures): the prober's own network is suspected, ` +
    'probe failures of this round not applied'
}

function judgePartition (partition: string, results: readonly RoundOutcome[], minGateways: number, whole?: Tally): PartitionVerdict {
  const t = tally(results)
  const failed = results.filter((r) => !r.ok).length
  if (isBlind(t, minGateways)) return { frozen: true, partition, failed, reason: frozenReason(t, `of partition ${partition}`) }
  if (whole !== undefined && t.probed > 0 && isBlind(whole, minGateways)) {
    return { frozen: true, partition, failed, reason: frozenReason(whole, 'of the whole round') }
  }
  return { frozen: false, partition, failed }
}

/**
 * Judges one probe round. A partition is frozen (the caller applies none of its probe failures
 * for this round, raises an alert and adds a report) when at least minGateways of its gateways
 * were probed and not one answered at all — every probe timed out or could not be sent. That is
 * what a broken prober host looks like (cable, firewall, routing, a dead socket). A round where
 * gateways reply with errors is real news and is applied, even if every reply is negative: an
 * answer proves the path works. Successes are never frozen (a frozen partition has none).
 * Given a map of partitions, the round as a whole is judged too: when no probe of any partition
 * was answered, small partitions (below minGateways) are frozen with the rest, as they share the
 * same blind prober. Given one partition and its results, that partition alone is judged.
 */
export function judgeRound (partition: string, results: readonly RoundOutcome[], options?: BlindGuardOptions): PartitionVerdict
export function judgeRound (byPartition: ReadonlyMap<string, readonly RoundOutcome[]>, options?: BlindGuardOptions): PartitionVerdict[]
export function judgeRound (
  first: string | ReadonlyMap<string, readonly RoundOutcome[]>,
  second?: readonly RoundOutcome[] | BlindGuardOptions,
  third?: BlindGuardOptions
): PartitionVerdict | PartitionVerdict[] {
  if (typeof first === 'string') {
    const results = Array.isArray(second) ? second as readonly RoundOutcome[] : []
    return judgePartition(first, results, (third ?? DEFAULT_BLIND_GUARD).minGateways)
  }
  const { minGateways } = (second as BlindGuardOptions | undefined) ?? DEFAULT_BLIND_GUARD
  const whole = tally([...first.values()].flat())
  return [...first].map(([partition, results]) => judgePartition(partition, results, minGateways, whole))
}
