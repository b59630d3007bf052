/** The observability settings (thresholds, alerts, webhooks, SSE): parsed from the environment, pure. */
import { boolVar, intVar, type Env, type VarSpec } from '../env-vars.js'

export interface ObservabilityConfig {
  /** /metrics behind the admin authentication instead of open like /readyz. */
  readonly metricsAuth: boolean
  /** E_CORE_THRESHOLD limits in microseconds; 0 turns a source off. */
  readonly routingThresholdUs: number
  readonly dbThresholdUs: number
  readonly reloadThresholdUs: number
  /** E_CORE_HEAP_THRESHOLD: percent of the heap limit (0 off), checked every heapCheckIntervalMs. */
  readonly heapThresholdPercent: number
  readonly heapCheckIntervalMs: number
  /** Alerts: one summary per subscriber per interval, none before the startup grace has passed. */
  readonly alertIntervalMs: number
  readonly alertStartupGraceMs: number
  readonly webhookQueueMax: number
  readonly webhookTimeoutMs: number
  readonly webhookRetryMinMs: number
  readonly webhookRetryMaxMs: number
  readonly webhookMaxAttempts: number
  /** SSE: frames kept for a client that does not read before it is dropped; heartbeat comment period. */
  readonly sseBufferMax: number
  readonly sseHeartbeatMs: number
}


/** README rows (test/docs.test.ts checks each has one), spread into CONFIG_VARS. */
export const OBSERVABILITY_VARS: readonly VarSpec[] = [
  { name: 'RTROUTE_METRICS_AUTH', default: 'false', meaning: '`true` puts `GET /metrics` behind the admin authentication; by default it is open like `/readyz`' },
  { name: 'RTROUTE_ROUTING_THRESHOLD_US', default: '2000', meaning: 'a routing decision slower than this (µs) raises `E_CORE_THRESHOLD`; 0 off' },
  { name: 'RTROUTE_DB_THRESHOLD_US', default: '500000', meaning: 'a database query slower than this (µs) raises `E_CORE_THRESHOLD`; 0 off' },
  { name: 'RTROUTE_RELOAD_THRESHOLD_US', default: '10000000', meaning: 'a partition reload slower than this (µs) raises `E_CORE_THRESHOLD`; 0 off' },
  { name: 'RTROUTE_HEAP_THRESHOLD_PERCENT', default: '90', meaning: 'heap usage (percent of the V8 heap limit) that raises `E_CORE_HEAP_THRESHOLD` when crossed; 0 off' },
  { name: 'RTROUTE_HEAP_CHECK_INTERVAL_MS', default: '10000', meaning: 'how often heap usage is checked' },
  { name: 'RTROUTE_ALERT_INTERVAL_MS', default: '60000', meaning: 'alert check interval: the new events of an interval go to each webhook subscriber as one summary' },
  { name: 'RTROUTE_ALERT_STARTUP_GRACE_MS', default: '60000', meaning: 'no alert is sent until this long after start (initial states are not news)' },
  { name: 'RTROUTE_WEBHOOK_QUEUE_MAX', default: '100', meaning: 'summaries kept per webhook subscriber while it fails; past it the oldest is dropped (and counted)' },
  { name: 'RTROUTE_WEBHOOK_TIMEOUT_MS', default: '5000', meaning: 'time limit of one webhook delivery' },
  { name: 'RTROUTE_WEBHOOK_RETRY_MIN_MS', default: '1000', meaning: 'first delay before a failed webhook delivery is retried (doubling each time)' },
  { name: 'RTROUTE_WEBHOOK_RETRY_MAX_MS', default: '300000', meaning: 'longest delay between webhook retries' },
  { name: 'RTROUTE_WEBHOOK_MAX_ATTEMPTS', default: '10', meaning: 'attempts per summary before it is given up (and counted)' },
  { name: 'RTROUTE_SSE_BUFFER_MAX', default: '1000', meaning: 'events kept for an event-stream client that does not keep up; past it the client is dropped' },
  { name: 'RTROUTE_SSE_HEARTBEAT_MS', default: '15000', meaning: 'heartbeat comment period of `GET /v1/events`' }
]




/** Adds what is wrong to `problems` (loadConfig reports every bad key at once). */
export function loadObservabilityConfig (env: Env, problems: string[]): ObservabilityConfig {
  const DAY_MS = 86_400_000
  const retryMin = intVar(env, 'RTROUTE_WEBHOOK_RETRY_MIN_MS', 1000, 10, DAY_MS, problems)
  const retryMax = intVar(env, 'RTROUTE_WEBHOOK_RETRY_MAX_MS', 300_000, 10, DAY_MS, problems)
  if (retryMax < retryMin) problems.push('RTROUTE_WEBHOOK_RETRY_MAX_MS: expected a value not below RTROUTE_WEBHOOK_RETRY_MIN_MS')
  return Object.freeze({
    metricsAuth: boolVar(env, 'RTROUTE_METRICS_AUTH', false, problems),
    routingThresholdUs: intVar(env, 'RTROUTE_ROUTING_THRESHOLD_US', 2000, 0, 3_600_000_000, problems),
    dbThresholdUs: intVar(env, 'RTROUTE_DB_THRESHOLD_US', 500_000, 0, 3_600_000_000, problems),
    reloadThresholdUs: intVar(env, 'RTROUTE_RELOAD_THRESHOLD_US', 10_000_000, 0, 3_600_000_000, problems),
    heapThresholdPercent: intVar(env, 'RTROUTE_HEAP_THRESHOLD_PERCENT', 90, 0, 100, problems),
    heapCheckIntervalMs: intVar(env, 'RTROUTE_HEAP_CHECK_INTERVAL_MS', 10_000, 100, DAY_MS, problems),
    alertIntervalMs: intVar(env, 'RTROUTE_ALERT_INTERVAL_MS', 60_000, 10, DAY_MS, problems),
    alertStartupGraceMs: intVar(env, 'RTROUTE_ALERT_STARTUP_GRACE_MS', 60_000, 0, DAY_MS, problems),
    webhookQueueMax: intVar(env, 'RTROUTE_WEBHOOK_QUEUE_MAX', 100, 1, 100_000, problems),
    webhookTimeoutMs: intVar(env, 'RTROUTE_WEBHOOK_TIMEOUT_MS', 5000, 10, 600_000, problems),
    webhookRetryMinMs: retryMin,
    webhookRetryMaxMs: retryMax,
    webhookMaxAttempts: intVar(env, 'RTROUTE_WEBHOOK_MAX_ATTEMPTS', 10, 1, 1000, problems),
    sseBufferMax: intVar(env, 'RTROUTE_SSE_BUFFER_MAX', 1000, 1, 1_000_000, problems),
    sseHeartbeatMs: intVar(env, 'RTROUTE_SSE_HEARTBEAT_MS', 15_000, 10, DAY_MS, problems)
  })
}
