/**
 * The Prometheus metrics of one app, on the Registry it is given (never prom-client's global one:
 * tests build many apps). Hot-path series are tallies (see tally.ts); state that already lives
 * elsewhere (gateway health, partition readiness) is read at scrape time, so it is there from the
 * first load, before any change. The counters exist from the start (the database's query times
 * are checked before anything else is built); the scrape-time gauges are registered once what
 * they read exists.
 */
import type { ProbeResult } from '../dispatcher/options-prober.js'
import type { GatewayState } from '../routing/decide/decision.js'
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { TallyCounter, TallyHistogram } from './tally.js'

/** What the scrape-time gauges read; absent parts export nothing. */
export interface MetricSources {
  /** Loaded partitions with their status-report integer and data version. */
  readonly partitions?: () => Iterable<{ name: string, status: number, version: number | undefined }>
  /** Every loaded gateway with its current state (never reported = active). */
  readonly gateways?: () => Iterable<{ partition: string, gateway: string, state: GatewayState }>
  /** Webhook queue depth per subscription, and connected event-stream clients. */
  readonly webhookQueues?: () => Iterable<{ subscription: string, depth: number }>
  readonly sseClients?: () => number
  /** Limited gateways and carriers with their limits and counts (see capacityViews). */
  readonly capacity?: () => Iterable<{ partition: string, kind: 'gateway' | 'carrier', name: string, max_calls: number | null, max_cps: number | null, calls: number, started: number, cps: number }>
  /** Call events and lease moves waiting for the database, and the age of the last sync. */
  readonly capacitySync?: () => { backlog: number, lastSyncAt: number }
}

/** Seconds: a decision takes tens of microseconds; the top buckets catch GC pauses. */
export const DECISION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05]
export const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
export const RELOAD_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60]
export const GATEWAY_STATES: readonly GatewayState[] = ['active', 'suspect', 'down', 'disabled']

export function createMetrics (registry: Registry) {
  const r = [registry]
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    answers: new TallyCounter('rtroute_routing_answers_total', 'Routing answers by partition and result (routed, no_route, no_destination, no_capacity, not_ready, unknown_partition, bad_request)', ['partition', 'result'], registry),
    decisionSeconds: new TallyHistogram('rtroute_routing_decision_seconds', 'Time to answer a routing query, from lookup to rtjson document (seconds)', ['partition'], DECISION_BUCKETS, registry),
    offered: new TallyCounter('rtroute_gateway_offered_total', 'Times a gateway was in a routed answer', ['partition', 'gateway'], registry),
    offeredFirst: new TallyCounter('rtroute_gateway_offered_first_total', 'Times a gateway was the first route of an answer', ['partition', 'gateway'], registry),
    failures: new Counter({ name: 'rtroute_gateway_failures_total', help: 'Failed branches reported by failover feedback, by code class (3xx..6xx, or local for replies the proxy generated)', labelNames: ['partition', 'gateway', 'class'], registers: r }),
    feedback: new Counter({ name: 'rtroute_feedback_total', help: 'Failover feedback reports by how they counted (failure, success, ignored, duplicate)', labelNames: ['partition', 'counted'], registers: r }),
    probes: new Counter({ name: 'rtroute_gateway_probes_total', help: 'OPTIONS probe results (ok, failed, timeout, error); only the prober instance counts', labelNames: ['partition', 'gateway', 'result'], registers: r }),
    probeSeconds: new Histogram({ name: 'rtroute_gateway_probe_latency_seconds', help: 'OPTIONS probe reply latency (timeouts excluded)', labelNames: ['partition', 'gateway'], buckets: PROBE_BUCKETS, registers: r }),
    reloads: new Counter({ name: 'rtroute_reloads_total', help: 'Partition reloads by result (ok, failed)', labelNames: ['partition', 'result'], registers: r }),
    fullReloads: new Counter({ name: 'rtroute_partition_full_reloads_total', help: 'Reloads that read and compiled the whole partition (the others applied its change log or compared its rows)', labelNames: ['partition'], registers: r }),
    reloadSeconds: new Histogram({ name: 'rtroute_reload_duration_seconds', help: 'Partition reload duration, read to swap', labelNames: ['partition'], buckets: RELOAD_BUCKETS, registers: r }),
    rowsLoaded: new Gauge({ name: 'rtroute_partition_rows_loaded', help: 'Rows in the served snapshot, per entity', labelNames: ['partition', 'entity'], registers: r }),
    rowsDiscarded: new Gauge({ name: 'rtroute_partition_rows_discarded', help: 'Rows discarded as unusable by the last successful load, per entity', labelNames: ['partition', 'entity'], registers: r }),
    events: new Counter({ name: 'rtroute_events_total', help: 'Events raised on the bus', labelNames: ['event'], registers: r }),
    thresholds: new Counter({ name: 'rtroute_threshold_exceeded_total', help: 'Work slower than its E_CORE_THRESHOLD limit (every occurrence, including rate-limited events)', labelNames: ['source'], registers: r }),
    deliveries: new Counter({ name: 'rtroute_event_deliveries_total', help: 'Event deliveries: channel sse (sent, dropped) or webhook (ok, retried, gave_up, dropped)', labelNames: ['channel', 'result'], registers: r }),
    sseDropped: new Counter({ name: 'rtroute_sse_clients_dropped_total', help: 'Event-stream clients cut off because they did not keep up', registers: r }),
    alerts: new Counter({ name: 'rtroute_alert_summaries_total', help: 'Alert summaries queued for webhook subscribers', registers: r }),
    callEvents: new Counter({ name: 'rtroute_call_events_total', help: 'Call events from the proxy (start, end)', labelNames: ['partition', 'event'], registers: r })
  }
}
export type Metrics = ReturnType<typeof createMetrics>

/** A probe round's results: counts by result, reply latency (timeouts excluded). */
export function countProbeResults (metrics: Pick<Metrics, 'probes' | 'probeSeconds'>, partition: string, results: readonly ProbeResult[]): void {
  for (const r of results) {
    const result = r.ok ? 'ok' : r.timeout ? 'timeout' : r.status !== undefined ? 'failed' : 'error'
    metrics.probes.inc({ partition, gateway: r.target.gatewayId, result })
    if (r.latencyMs !== undefined) metrics.probeSeconds.observe({ partition, gateway: r.target.gatewayId }, r.latencyMs / 1000)
  }
}

/** The gauges read at scrape time, on the metrics' Registry; registered once per Registry. */
export function registerScrapeGauges (registry: Registry, sources: MetricSources) {
  const r = [registry]
  const partitionReady = new Gauge({
    name: 'rtroute_partition_ready',
    help: 'Whether a partition is ready to route (its status-report integer is positive)',
    labelNames: ['partition'],
    registers: r,
    collect () {
      this.reset()
      for (const p of sources.partitions?.() ?? []) this.set({ partition: p.name }, p.status > 0 ? 1 : 0)
    }
  })
  const partitionStatus = new Gauge({
    name: 'rtroute_partition_status',
    help: 'The partition identifier\'s status: -2 no data, -1 loading, 1 ready, 2 reloading',
    labelNames: ['partition'],
    registers: r,
    collect () {
      this.reset()
      for (const p of sources.partitions?.() ?? []) this.set({ partition: p.name }, p.status)
    }
  })
  const dataVersion = new Gauge({
    name: 'rtroute_partition_data_version',
    help: 'Data version of the served snapshot',
    labelNames: ['partition'],
    registers: r,
    collect () {
      this.reset()
      for (const p of sources.partitions?.() ?? []) if (p.version !== undefined) this.set({ partition: p.name }, p.version)
    }
  })
  // One series per state (1 for the current one): dashboards and alerts select by label, and a
  // gateway that never changed since start is exported like any other.
  const gatewayState = new Gauge({
    name: 'rtroute_gateway_state',
    help: 'Gateway state: 1 for the current state (active, suspect, down, disabled), 0 for the others',
    labelNames: ['partition', 'gateway', 'state'],
    registers: r,
    collect () {
      this.reset()
      for (const g of sources.gateways?.() ?? []) {
        for (const state of GATEWAY_STATES) this.set({ partition: g.partition, gateway: g.gateway, state }, g.state === state ? 1 : 0)
      }
    }
  })
  const gatewayUp = new Gauge({
    name: 'rtroute_gateway_up',
    help: 'Whether a gateway is routed (active or suspect)',
    labelNames: ['partition', 'gateway'],
    registers: r,
    collect () {
      this.reset()
      for (const g of sources.gateways?.() ?? []) this.set({ partition: g.partition, gateway: g.gateway }, g.state === 'active' || g.state === 'suspect' ? 1 : 0)
    }
  })
  const webhookQueue = new Gauge({
    name: 'rtroute_webhook_queue_depth',
    help: 'Alert summaries waiting per webhook subscription',
    labelNames: ['subscription'],
    registers: r,
    collect () {
      this.reset()
      for (const q of sources.webhookQueues?.() ?? []) this.set({ subscription: q.subscription }, q.depth)
    }
  })
  const sseClients = new Gauge({
    name: 'rtroute_sse_clients',
    help: 'Connected event-stream clients',
    registers: r,
    collect () { this.set(sources.sseClients?.() ?? 0) }
  })
  const capacityCalls = new Gauge({
    name: 'rtroute_capacity_calls',
    help: 'Calls counted against a limited gateway or carrier, cluster-wide: state lease (offered, not yet answered) or call (answered, not ended)',
    labelNames: ['partition', 'kind', 'name', 'state'],
    registers: r,
    collect () {
      this.reset()
      for (const c of sources.capacity?.() ?? []) {
        this.set({ partition: c.partition, kind: c.kind, name: c.name, state: 'lease' }, c.calls - c.started)
        this.set({ partition: c.partition, kind: c.kind, name: c.name, state: 'call' }, c.started)
      }
    }
  })
  const capacityCps = new Gauge({
    name: 'rtroute_capacity_cps',
    help: 'New calls offered to a limited gateway or carrier in the last second, cluster-wide',
    labelNames: ['partition', 'kind', 'name'],
    registers: r,
    collect () {
      this.reset()
      for (const c of sources.capacity?.() ?? []) this.set({ partition: c.partition, kind: c.kind, name: c.name }, c.cps)
    }
  })
  const capacityLimit = new Gauge({
    name: 'rtroute_capacity_limit',
    help: 'Configured limits of a gateway or carrier: limit max_calls or max_cps (absent when unset)',
    labelNames: ['partition', 'kind', 'name', 'limit'],
    registers: r,
    collect () {
      this.reset()
      for (const c of sources.capacity?.() ?? []) {
        if (c.max_calls !== null) this.set({ partition: c.partition, kind: c.kind, name: c.name, limit: 'max_calls' }, c.max_calls)
        if (c.max_cps !== null) this.set({ partition: c.partition, kind: c.kind, name: c.name, limit: 'max_cps' }, c.max_cps)
      }
    }
  })
  const capacityBacklog = new Gauge({
    name: 'rtroute_capacity_backlog',
    help: 'Call events of this instance not yet written to the database',
    registers: r,
    collect () { this.set(sources.capacitySync?.().backlog ?? 0) }
  })
  const capacitySyncAge = new Gauge({
    name: 'rtroute_capacity_sync_age_seconds',
    help: 'Seconds since this instance last wrote its call events and read the cluster counts',
    registers: r,
    collect () {
      const at = sources.capacitySync?.().lastSyncAt ?? 0
      this.set(at === 0 ? 0 : (Date.now() - at) / 1000)
    }
  })
  return { partitionReady, partitionStatus, dataVersion, gatewayState, gatewayUp, webhookQueue, sseClients, capacityCalls, capacityCps, capacityLimit, capacityBacklog, capacitySyncAge }
}
