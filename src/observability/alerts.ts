/**
 * Alerts after practable/status: on changes only, batched per check interval into ONE summary per
 * subscriber that lists the new events (issues first) and every current problem, and nothing during
 * a startup grace (initial states are not news). Gateway state changes reach every instance, so
 * only the prober-lock holder sends them; the other events are this instance's own and each
 * instance sends its own, tagged with its name.
 */
import type { Logger } from 'pino'
import type { EventBus, EventMap, EventName } from '../events.js'
import { EVENT_NAMES, type EventEnvelope } from './event-stream.js'
import type { Metrics } from './metrics.js'
import type { Subscription } from './subscription.repository.js'
import type { WebhookSender } from './webhook-sender.js'

/** Seen identically by every instance: delivered by one (the prober-lock holder) to avoid duplicates. */
export const CLUSTER_WIDE_EVENTS: ReadonlySet<EventName> = new Set<EventName>(['E_GATEWAY_STATUS'])

export interface AlertProblems {
  /** Identifiers of required status groups that are not ready, on this instance. */
  readonly not_ready: ReadonlyArray<{ group: string, identifier: string, status: number, details: string }>
  /** Gateways skipped because they failed (cluster-wide state). */
  readonly gateways_down: ReadonlyArray<{ partition: string, gateway: string, address: string, reason: string, since: string }>
}

export interface AlertEvent extends EventEnvelope {
  /** A problem (down, not ready, failed, slow, …) rather than a recovery or a notice. */
  readonly issue: boolean
}

export interface AlertSummary {
  readonly subject: string
  readonly subscription: string
  readonly instance: string
  readonly sent_at: string
  readonly interval_ms: number
  readonly events: readonly AlertEvent[]
  /** Events of the interval left out because the per-interval bound was reached. */
  readonly omitted: number
  readonly problems: AlertProblems
}

/** Whether an event reports something wrong (listed first in a summary). */
export function isIssue (envelope: EventEnvelope): boolean {
  switch (envelope.event) {
    case 'E_GATEWAY_STATUS': return (envelope.params as EventMap['E_GATEWAY_STATUS']).status === 'down'
    case 'E_CORE_SR_STATUS_CHANGED': return (envelope.params as EventMap['E_CORE_SR_STATUS_CHANGED']).status < 0
    case 'E_PARTITION_RELOAD': return !(envelope.params as EventMap['E_PARTITION_RELOAD']).ok
    default: return true
  }
}

export interface AlertsOptions {
  readonly bus: EventBus
  readonly sender: Pick<WebhookSender, 'enqueue' | 'retain'>
  readonly subscriptions: (now: Date) => Promise<readonly Subscription[]>
  readonly problems: () => AlertProblems
  readonly isLeader: () => boolean
  readonly metrics: Pick<Metrics, 'alerts'>
  readonly log: Logger
  readonly instance: string
  readonly intervalMs: number
  readonly graceMs: number
  readonly now?: () => number
  /** Events kept per interval (and across a failed check). */
  readonly pendingMax?: number
}

export interface Alerts {
  /** Keeps an event for the next summary (past the startup grace, up to pendingMax per interval). */
  record: <K extends EventName>(event: K, params: EventMap[K]) => void
  /** Runs a check now (tests; the timer calls the same). Concurrent calls share one run. Resolves with summaries queued. */
  check: () => Promise<number>
  /** Events waiting for the next check. */
  readonly pending: number
  start: () => void
  stop: () => void
}

export function createAlerts (options: AlertsOptions): Alerts {
  const { sender, log, instance, intervalMs } = options
  const now = options.now ?? Date.now
  const pendingMax = options.pendingMax ?? 1000
  const startedAt = now()
  let pending: EventEnvelope[] = []
  let omitted = 0
  let timer: NodeJS.Timeout | undefined
  let checking: Promise<number> | undefined

  const record = <K extends EventName>(event: K, params: EventMap[K]): void => {
    const t = now()
    if (t < startedAt + options.graceMs) return
    if (pending.length >= pendingMax) {
      omitted++
      return
    }
    pending.push({ event, time: new Date(t).toISOString(), instance, params })
  }
  const unsubscribe = EVENT_NAMES.map((name) => options.bus.on(name, (params) => { record(name, params) }))

  function summary (subscription: Subscription, events: readonly EventEnvelope[], problems: AlertProblems, left: number): AlertSummary {
    // Issues first, then the rest, each in the order they happened.
    const listed = events.map((e) => ({ ...e, issue: isIssue(e) }))
    const ordered = [...listed.filter((e) => e.issue), ...listed.filter((e) => !e.issue)]
    const issues = listed.length - listed.filter((e) => !e.issue).length
    const current = problems.not_ready.length + problems.gateways_down.length
    return {
      subject: `rtroute ${instance}: ${events.length} new event${events.length === 1 ? '' : 's'} (${issues} issue${issues === 1 ? '' : 's'}), ${current} current problem${current === 1 ? '' : 's'}`,
      subscription: subscription.id,
      instance,
      sent_at: new Date(now()).toISOString(),
      interval_ms: intervalMs,
      events: ordered,
      omitted: left,
      problems
    }
  }

  /** One check: the interval's events, one summary per subscriber that has any. Resolves with summaries queued. */
  async function runCheck (): Promise<number> {
    if (pending.length === 0) return 0
    const batch = pending
    const left = omitted
    pending = []
    omitted = 0
    let subscriptions: readonly Subscription[]
    try {
      subscriptions = await options.subscriptions(new Date(now()))
    } catch (err) {
      // The database is away: keep the events for the next check (bounded, oldest first out).
      pending = [...batch, ...pending].slice(-pendingMax)
      omitted += left
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'alert check: subscriptions not readable; events kept for the next check')
      return 0
    }
    sender.retain(new Set(subscriptions.map((s) => s.id)))
    const leader = options.isLeader()
    const problems = options.problems()
    let queued = 0
    for (const subscription of subscriptions) {
      const events = batch.filter((e) => subscription.events.includes(e.event) && (leader || !CLUSTER_WIDE_EVENTS.has(e.event)))
      if (events.length === 0) continue
      sender.enqueue(subscription, JSON.stringify(summary(subscription, events, problems, left)))
      options.metrics.alerts.inc()
      queued++
    }
    return queued
  }

  async function check (): Promise<number> {
    checking ??= runCheck().finally(() => { checking = undefined })
    return await checking
  }

  return {
    record,
    check,
    get pending () { return pending.length },
    start () {
      timer ??= setInterval(() => { void check() }, intervalMs)
      timer.unref()
    },
    stop () {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      for (const off of unsubscribe) off()
    }
  }
}
