/**
 * Observability assembled for `serve`: metrics on the app's Registry, E_PARTITION_RELOAD and the
 * threshold events, the SSE stream, webhook alerts. Created first (the database reports its query
 * times here), attached to the routing tables and gateway health once they exist.
 */
import os from 'node:os'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { Database } from '../db.js'
import type { CapacityStore } from '../dispatcher/capacity-store.js'
import type { CallEvent } from '../dispatcher/call-events.js'
import type { FeedbackReport } from '../dispatcher/feedback.js'
import type { HealthStore } from '../dispatcher/health-store.js'
import type { ProbeResult } from '../dispatcher/options-prober.js'
import type { EventBus } from '../events.js'
import type { ReloadOutcome, RouteTables } from '../routing/snapshot/route-tables.js'
import type { RoutingObserver } from '../routing/decide/routing.routes.js'
import type { StatusRegistry } from '../status/status-registry.js'
import { createAlerts, type Alerts } from './alerts.js'
import { createEventStream, EVENT_NAMES } from './event-stream.js'
import { createMetrics, type MetricSources } from './metrics.js'
import type { ObservabilityConfig } from './observability-config.js'
import type { ObservabilityAppDeps } from './observability.routes.js'
import { createRoutingObserver } from './routing-observer.js'
import { capacityViews, currentProblems, gatewayViews, partitionViews } from './sources.js'
import { createSubscriptionRepository, type SubscriptionRepository } from './subscription.repository.js'
import { createHeapMonitor, createThresholds } from './thresholds.js'
import { createWebhookSender, type WebhookSender } from './webhook-sender.js'

export interface ObservabilityOptions {
  readonly bus: EventBus
  readonly log: Logger
  readonly config: ObservabilityConfig
  readonly statusRegistry: StatusRegistry
  readonly defaultPartition: string
  /** The app's Registry; a new one when absent (never prom-client's global one). */
  readonly registry?: Registry
  /** Names this instance in events and alert summaries; default host:pid. */
  readonly instance?: string
  readonly version?: string
}

export interface AttachOptions {
  readonly tables: RouteTables
  readonly store?: HealthStore
  readonly capacity?: CapacityStore
  /** Without it there are no webhook subscriptions (and no alerts). */
  readonly kysely?: Kysely<Database>
  /** Holder of the prober lock: the one instance that sends cluster-wide events. */
  readonly isLeader?: () => boolean
}

export function createObservability (o: ObservabilityOptions) {
  const { bus, log, config } = o
  const registry = o.registry ?? new Registry()
  const sources: MetricSources = {}
  const metrics = createMetrics(registry, sources)
  const instance = o.instance ?? `${os.hostname()}:${process.pid}`
  const thresholds = createThresholds({
    bus, metrics, log, limits: { routing_decision: config.routingThresholdUs, db_query: config.dbThresholdUs, reload: config.reloadThresholdUs }
  })
  const heap = createHeapMonitor({ bus, log, thresholdPercent: config.heapThresholdPercent, intervalMs: config.heapCheckIntervalMs })
  const stream = createEventStream({ bus, metrics, bufferMax: config.sseBufferMax, heartbeatMs: config.sseHeartbeatMs, instance })
  sources.sseClients = () => stream.clients
  const unsubscribe = EVENT_NAMES.map((name) => {
    const counter = metrics.events.labels(name)
    return bus.on(name, () => { counter.inc() })
  })

  let tables: RouteTables | undefined
  let isLeader: () => boolean = () => true
  let routingObserver: (RoutingObserver & { prime: (partition: string) => void }) | undefined
  let subscriptions: SubscriptionRepository | undefined
  let sender: WebhookSender | undefined
  let alerts: Alerts | undefined

  function onReloaded (outcome: ReloadOutcome): void {
    const { partition } = outcome
    const durationMs = outcome.durationMs
    if (outcome.removed === true) {
      // Its rows are no longer served: their gauges go with it (counters stay, they are history).
      for (const entity of ['gateways', 'carriers', 'rules', 'caller_groups']) {
        metrics.rowsLoaded.remove({ partition, entity })
        metrics.rowsDiscarded.remove({ partition, entity })
      }
      bus.emit('E_PARTITION_RELOAD', { partition, ok: true, version: null, checksum: null, duration_ms: durationMs, counts: null, removed: true })
      return
    }
    metrics.reloads.inc({ partition, result: outcome.ok ? 'ok' : 'failed' })
    metrics.reloadSeconds.observe({ partition }, durationMs / 1000)
    if (outcome.ok) routingObserver?.prime(partition)
    if (outcome.ok && outcome.counts !== undefined) {
      for (const [entity, count] of Object.entries(outcome.counts)) {
        metrics.rowsLoaded.set({ partition, entity }, count.loaded)
        metrics.rowsDiscarded.set({ partition, entity }, count.discarded)
      }
    }
    // A failed reload keeps serving the previous snapshot: the event names what is served.
    const found = tables?.lookup(partition)
    const served = found?.state === 'ready' ? found.table : undefined
    bus.emit('E_PARTITION_RELOAD', {
      partition,
      ok: outcome.ok,
      version: outcome.version ?? served?.version ?? null,
      checksum: outcome.checksum ?? served?.checksum ?? null,
      duration_ms: durationMs,
      counts: outcome.counts ?? null,
      ...(outcome.error === undefined ? {} : { error: outcome.error })
    })
    thresholds.check('reload', durationMs * 1000, { partition, ok: outcome.ok })
  }

  function onProbeResults (partition: string, results: readonly ProbeResult[]): void {
    for (const r of results) {
      const result = r.ok ? 'ok' : r.timeout ? 'timeout' : r.status !== undefined ? 'failed' : 'error'
      metrics.probes.inc({ partition, gateway: r.target.gatewayId, result })
      if (r.latencyMs !== undefined) metrics.probeSeconds.observe({ partition, gateway: r.target.gatewayId }, r.latencyMs / 1000)
    }
  }

  const onFeedback = ({ partition, gateway, code, local, counted }: FeedbackReport): void => {
    metrics.feedback.inc({ partition, counted })
    // Every failed branch reported, counted against the gateway or not; a repeat of the same call is not a new failure.
    if (code >= 300 && counted !== 'duplicate') metrics.failures.inc({ partition, gateway, class: local ? 'local' : `${Math.floor(code / 100)}xx` })
  }

  const onCallEvent = ({ partition, event }: CallEvent): void => { metrics.callEvents.inc({ partition, event }) }

  return {
    registry,
    metrics,
    instance,
    thresholds,
    heap,
    stream,
    get alerts (): Alerts | undefined { return alerts },
    get sender (): WebhookSender | undefined { return sender },
    onQuery: (durationMs: number, sql: string): void => { thresholds.check('db_query', durationMs * 1000, { sql: sql.slice(0, 200) }) },
    onReloaded,
    onProbeResults,
    onFeedback,
    onCallEvent,

    attach (a: AttachOptions): void {
      tables = a.tables
      isLeader = a.isLeader ?? (() => true)
      sources.partitions = () => partitionViews(a.tables)
      const store = a.store
      if (store !== undefined) sources.gateways = () => gatewayViews(store)
      const capacity = a.capacity
      if (capacity !== undefined) {
        sources.capacity = () => capacityViews(a.tables, capacity)
        sources.capacitySync = () => capacity.stats()
      }
      routingObserver = createRoutingObserver({
        metrics,
        known: (partition) => a.tables.identifier(partition) !== undefined,
        defaultPartition: o.defaultPartition,
        thresholdUs: config.routingThresholdUs,
        onSlow: (us, extra) => { thresholds.check('routing_decision', us, extra) }
      })
      if (a.kysely === undefined) return
      const repository = createSubscriptionRepository(a.kysely)
      subscriptions = repository
      const webhooks = createWebhookSender({
        metrics,
        log,
        queueMax: config.webhookQueueMax,
        timeoutMs: config.webhookTimeoutMs,
        retryMinMs: config.webhookRetryMinMs,
        retryMaxMs: config.webhookRetryMaxMs,
        maxAttempts: config.webhookMaxAttempts,
        userAgent: `rtroute/${o.version ?? '0'}`
      })
      sender = webhooks
      sources.webhookQueues = () => webhooks.depths()
      alerts = createAlerts({
        bus,
        sender: webhooks,
        subscriptions: async (now) => await repository.active(now),
        problems: () => currentProblems(o.statusRegistry, store),
        isLeader: () => isLeader(),
        metrics,
        log,
        instance,
        intervalMs: config.alertIntervalMs,
        graceMs: config.alertStartupGraceMs
      })
    },

    /** What buildApp mounts: /metrics, the status page, /v1/events, /v1/subscriptions, /v1/overview. */
    appDeps (): ObservabilityAppDeps {
      return { metrics, metricsAuth: config.metricsAuth, stream, subscriptions, routingObserver, onFeedback, onCallEvent, instance, isLeader: () => isLeader() }
    },

    start (): void {
      heap.start()
      alerts?.start()
    },

    stop (): void {
      heap.stop()
      alerts?.stop()
      sender?.stop()
      stream.close()
      for (const off of unsubscribe) off()
    }
  }
}
export type Observability = ReturnType<typeof createObservability>
