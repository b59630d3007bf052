/**
 * Observability assembled for `serve`, in one call once what it observes exists: the scrape-time
 * gauges over the routing tables, gateway health and capacity; E_PARTITION_RELOAD and the reload
 * metrics; the routing observer; the SSE stream; webhook alerts. The metrics and the thresholds are
 * made before (the database's query times are checked from its first query) and passed in.
 */
import os from 'node:os'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Database } from '../db.js'
import type { CallEvent } from '../dispatcher/call-events.js'
import type { CapacityStore } from '../dispatcher/capacity-store.js'
import type { FeedbackReport } from '../dispatcher/feedback.js'
import type { HealthStore } from '../dispatcher/health-store.js'
import type { EventBus } from '../events.js'
import type { RoutingObserver } from '../routing/decide/decision.js'
import type { ReloadOutcome, RouteTables } from '../routing/snapshot/route-tables.js'
import type { StatusRegistry } from '../status/status-registry.js'
import { createAlerts, type Alerts } from './alerts.js'
import { createEventStream, EVENT_NAMES } from './event-stream.js'
import { registerScrapeGauges, type Metrics } from './metrics.js'
import type { ObservabilityConfig } from './observability-config.js'
import type { ObservabilityAppDeps } from './observability.routes.js'
import { createRoutingObserver } from './routing-observer.js'
import { capacityViews, currentProblems, gatewayViews, partitionViews } from './sources.js'
import { createSubscriptionRepository } from './subscription.repository.js'
import { createHeapMonitor, type Thresholds } from './thresholds.js'
import { createWebhookSender } from './webhook-sender.js'

export interface ObservabilityOptions {
  readonly bus: EventBus
  readonly log: Logger
  readonly config: ObservabilityConfig
  /** The app's metrics, on its Registry (never prom-client's global one). */
  readonly metrics: Metrics
  /** E_CORE_THRESHOLD: the routing observer and reloads report here, as the database already does. */
  readonly thresholds: Thresholds
  readonly statusRegistry: StatusRegistry
  readonly tables: Pick<RouteTables, 'lookup' | 'identifier' | 'partitions'>
  readonly store?: HealthStore
  readonly capacity?: CapacityStore
  /** Without it there are no webhook subscriptions (and no alerts). */
  readonly kysely?: Kysely<Database>
  /** Holder of the prober lock: the one instance that sends cluster-wide events (default: this one). */
  readonly isLeader?: () => boolean
  /** Names this instance in events and alert summaries; default host:pid. */
  readonly instance?: string
  readonly version?: string
}

/** What buildApp mounts (/metrics, the status page, /v1/events, /v1/subscriptions, /v1/overview), and the lifecycle. */
export interface Observability extends ObservabilityAppDeps {
  readonly routingObserver: RoutingObserver
  readonly onFeedback: (report: FeedbackReport) => void
  readonly onCallEvent: (event: CallEvent) => void
  readonly isLeader: () => boolean
  /** Webhook alerts; undefined without a database. */
  readonly alerts: Alerts | undefined
  /** A reload finished (failed ones too): E_PARTITION_RELOAD, reload metrics, the row gauges. */
  onReloaded: (outcome: ReloadOutcome) => void
  /** The heap monitor and the alert timer. */
  start: () => void
  stop: () => void
}

const ENTITIES = ['gateways', 'carriers', 'rules', 'caller_groups']

export function createObservability (o: ObservabilityOptions): Observability {
  const { bus, log, config, metrics, thresholds, tables, store, capacity } = o
  const instance = o.instance ?? `${os.hostname()}:${process.pid}`
  const isLeader = o.isLeader ?? (() => true)
  const heap = createHeapMonitor({ bus, log, thresholdPercent: config.heapThresholdPercent, intervalMs: config.heapCheckIntervalMs })
  const stream = createEventStream({ bus, metrics, bufferMax: config.sseBufferMax, heartbeatMs: config.sseHeartbeatMs, instance })
  const unsubscribe = EVENT_NAMES.map((name) => {
    const counter = metrics.events.labels(name)
    return bus.on(name, () => { counter.inc() })
  })
  const routingObserver = createRoutingObserver({
    metrics,
    known: (partition) => tables.identifier(partition) !== undefined,
    thresholdUs: config.routingThresholdUs,
    onSlow: (us, extra) => { thresholds.check('routing_decision', us, extra) }
  })
  const subscriptions = o.kysely === undefined ? undefined : createSubscriptionRepository(o.kysely)
  const sender = subscriptions === undefined
    ? undefined
    : createWebhookSender({
      metrics,
      log,
      queueMax: config.webhookQueueMax,
      timeoutMs: config.webhookTimeoutMs,
      retryMinMs: config.webhookRetryMinMs,
      retryMaxMs: config.webhookRetryMaxMs,
      maxAttempts: config.webhookMaxAttempts,
      userAgent: `rtroute/${o.version ?? '0'}`
    })
  const alerts = subscriptions === undefined || sender === undefined
    ? undefined
    : createAlerts({
      bus,
      sender,
      subscriptions: async (now) => await subscriptions.active(now),
      problems: () => currentProblems(o.statusRegistry, store),
      isLeader,
      metrics,
      log,
      instance,
      intervalMs: config.alertIntervalMs,
      graceMs: config.alertStartupGraceMs
    })
  registerScrapeGauges(metrics.registry, {
    partitions: () => partitionViews(tables),
    sseClients: () => stream.clients,
    ...(store === undefined ? {} : { gateways: () => gatewayViews(store) }),
    ...(capacity === undefined ? {} : { capacity: () => capacityViews(tables, capacity), capacitySync: () => capacity.stats() }),
    ...(sender === undefined ? {} : { webhookQueues: () => sender.depths() })
  })

  function onReloaded (outcome: ReloadOutcome): void {
    const { partition, durationMs } = outcome
    if (outcome.removed === true) {
      // Its rows are no longer served: their gauges go with it (counters stay, they are history).
      for (const entity of ENTITIES) {
        metrics.rowsLoaded.remove({ partition, entity })
        metrics.rowsDiscarded.remove({ partition, entity })
      }
      bus.emit('E_PARTITION_RELOAD', { partition, ok: true, version: null, checksum: null, duration_ms: durationMs, counts: null, removed: true })
      return
    }
    metrics.reloads.inc({ partition, result: outcome.ok ? 'ok' : 'failed' })
    if (outcome.mode === 'full') metrics.fullReloads.inc({ partition })
    metrics.reloadSeconds.observe({ partition }, durationMs / 1000)
    if (outcome.ok) routingObserver.prime(partition)
    if (outcome.ok && outcome.counts !== undefined) {
      for (const [entity, count] of Object.entries(outcome.counts)) {
        metrics.rowsLoaded.set({ partition, entity }, count.loaded)
        metrics.rowsDiscarded.set({ partition, entity }, count.discarded)
      }
    }
    // A failed reload keeps serving the previous snapshot: the event names what is served.
    const found = tables.lookup(partition)
    const served = found.state === 'ready' ? found.table : undefined
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

  return {
    metrics,
    metricsAuth: config.metricsAuth,
    stream,
    subscriptions,
    routingObserver,
    instance,
    isLeader,
    alerts,
    onReloaded,

    onFeedback ({ partition, gateway, code, local, counted }) {
      metrics.feedback.inc({ partition, counted })
      // Every failed branch reported, counted against the gateway or not; a repeat of the same call is not a new failure.
      if (code >= 300 && counted !== 'duplicate') metrics.failures.inc({ partition, gateway, class: local ? 'local' : `${Math.floor(code / 100)}xx` })
    },

    onCallEvent ({ partition, event }) { metrics.callEvents.inc({ partition, event }) },

    start () {
      heap.start()
      alerts?.start()
    },

    stop () {
      heap.stop()
      alerts?.stop()
      sender?.stop()
      stream.close()
      for (const off of unsubscribe) off()
    }
  }
}
