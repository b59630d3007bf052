/** SIP OPTIONS prober: turns whatever `send` reports into probe results and health events, a bounded number at a time. */
import type { HealthEvent } from './gateway-state.js'

/** uri: the gateway's next hop, e.g. `sip:127.0.0.1:5070;transport=udp`. */
export interface ProbeTarget {
  readonly partition: string
  readonly gatewayId: string
  readonly uri: string
}

/**
 * A final response. `local: true` marks one the sender's own stack generated (its 408 on Timer F,
 * a 503 for a connection that never opened): the prober never takes those for the gateway's answer.
 */
export interface ProbeReply {
  readonly status: number
  readonly reason: string
  readonly local?: boolean
}

/** Must settle within about timeoutMs: the prober keeps no timers of its own (tests drive it with a fake send). */
export type SendOptions = (target: ProbeTarget, timeoutMs: number) => Promise<ProbeReply | 'timeout' | { error: string }>

export interface ProbeResult {
  readonly target: ProbeTarget
  readonly ok: boolean
  readonly status?: number
  readonly latencyMs?: number
  readonly timeout: boolean
  readonly reason: string
}

export interface OptionsProberOptions {
  readonly send: SendOptions
  readonly now: () => number
  readonly timeoutMs: number
  /** Replies that also mean "alive", besides 200 (drouting's probing_reply_codes). */
  readonly acceptCodes: readonly number[]
  /** Probes in flight at once during a round. */
  readonly concurrency: number
}

export interface OptionsProber {
  probe (target: ProbeTarget): Promise<ProbeResult>
  /** Probes every target, at most `concurrency` at a time; results in the order of `targets`. */
  round (targets: readonly ProbeTarget[]): Promise<ProbeResult[]>
}

const errorText = (err: unknown): string => err instanceof Error ? err.message : String(err)

export function createOptionsProber (o: OptionsProberOptions): OptionsProber {
  const timeoutResult = (target: ProbeTarget): ProbeResult =>
    ({ target, ok: false, timeout: true, reason: `probe timeout after ${o.timeoutMs} ms` })

  function fromReply (target: ProbeTarget, reply: ProbeReply, latencyMs: number): ProbeResult {
    if (reply.local === true) {
      // The transaction layer's own 408 says only that nothing came back: a timeout, never "alive".
      if (reply.status === 408) return timeoutResult(target)
      return { target, ok: false, timeout: false, reason: `failure to send probe: local ${reply.status} ${reply.reason}`.trimEnd() }
    }
    const text = `${reply.status} ${reply.reason}`.trimEnd()
    const ok = reply.status === 200 || (reply.status >= 200 && o.acceptCodes.includes(reply.status))
    const reason = ok ? `${text} probing reply` : `negative probing reply ${text}`
    return { target, ok, status: reply.status, latencyMs, timeout: false, reason }
  }

  async function probe (target: ProbeTarget): Promise<ProbeResult> {
    const started = o.now()
    let outcome: Awaited<ReturnType<SendOptions>>
    try {
      outcome = await o.send(target, o.timeoutMs)
    } catch (err) {
      outcome = { error: errorText(err) }
    }
    if (outcome === 'timeout') return timeoutResult(target)
    if ('error' in outcome) return { target, ok: false, timeout: false, reason: `failure to send probe: ${outcome.error}` }
    return fromReply(target, outcome, Math.max(0, o.now() - started))
  }

  async function round (targets: readonly ProbeTarget[]): Promise<ProbeResult[]> {
    const results = new Array<ProbeResult>(targets.length)
    let next = 0
    async function worker (): Promise<void> {
      while (next < targets.length) {
        const index = next++
        const target = targets[index]
        if (target !== undefined) results[index] = await probe(target)
      }
    }
    const workers = Math.max(1, Math.min(Math.floor(o.concurrency), targets.length))
    await Promise.all(Array.from({ length: workers }, worker))
    return results
  }

  return { probe, round }
}

/**
 * The health event for a probe result. A good probe's reason is the bare reply (`200 OK`) so the
 * recovery reads `2 good probes (200 OK)`; a bad one keeps the prober's whole explanation.
 */
export function probeHealthEvent (result: ProbeResult): HealthEvent {
  if (!result.ok) return { kind: 'probe_fail', reason: result.reason }
  return { kind: 'probe_ok', reason: result.reason.replace(/ probing reply$/, '') }
}
