/** The observability settings (thresholds, alerts, webhooks, SSE): their variables and parser, pure. */
import { bool, int, parseSettings, type Env, type SettingsOf } from '../env-vars.js'

const DAY_MS = 86_400_000
const HOUR_US = 3_600_000_000

/** README rows after the security settings, in this order. Thresholds in µs; 0 turns a source off. */
export const OBSERVABILITY_SETTINGS = {
  metricsAuth: bool('RTROUTE_METRICS_AUTH', false, '`true` puts `GET /metrics` behind the admin authentication; by default it is open like `/readyz`'),
  routingThresholdUs: int('RTROUTE_ROUTING_THRESHOLD_US', 2000, [0, HOUR_US], 'a routing decision slower than this (µs) raises `E_CORE_THRESHOLD`; 0 off'),
  dbThresholdUs: int('RTROUTE_DB_THRESHOLD_US', 500_000, [0, HOUR_US], 'a database query slower than this (µs) raises `E_CORE_THRESHOLD`; 0 off'),
  reloadThresholdUs: int('RTROUTE_RELOAD_THRESHOLD_US', 10_000_000, [0, HOUR_US], 'a partition reload slower than this (µs) raises `E_CORE_THRESHOLD`; 0 off'),
  heapThresholdPercent: int('RTROUTE_HEAP_THRESHOLD_PERCENT', 90, [0, 100],
    'heap usage (percent of the V8 heap limit) that raises `E_CORE_HEAP_THRESHOLD` when crossed; 0 off'),
  heapCheckIntervalMs: int('RTROUTE_HEAP_CHECK_INTERVAL_MS', 10_000, [100, DAY_MS], 'how often heap usage is checked'),
  alertIntervalMs: int('RTROUTE_ALERT_INTERVAL_MS', 60_000, [10, DAY_MS],
    'alert check interval: the new events of an interval go to each webhook subscriber as one summary'),
  alertStartupGraceMs: int('RTROUTE_ALERT_STARTUP_GRACE_MS', 60_000, [0, DAY_MS], 'no alert is sent until this long after start (initial states are not news)'),
  webhookQueueMax: int('RTROUTE_WEBHOOK_QUEUE_MAX', 100, [1, 100_000],
    'summaries kept per webhook subscriber while it fails; past it the oldest is dropped (and counted)'),
  webhookTimeoutMs: int('RTROUTE_WEBHOOK_TIMEOUT_MS', 5000, [10, 600_000], 'time limit of one webhook delivery'),
  webhookRetryMinMs: int('RTROUTE_WEBHOOK_RETRY_MIN_MS', 1000, [10, DAY_MS], 'first delay before a failed webhook delivery is retried (doubling each time)'),
  webhookRetryMaxMs: int('RTROUTE_WEBHOOK_RETRY_MAX_MS', 300_000, [10, DAY_MS], 'longest delay between webhook retries'),
  webhookMaxAttempts: int('RTROUTE_WEBHOOK_MAX_ATTEMPTS', 10, [1, 1000], 'attempts per summary before it is given up (and counted)'),
  sseBufferMax: int('RTROUTE_SSE_BUFFER_MAX', 1000, [1, 1_000_000],
    'events kept for an event-stream client that does not keep up; past it the client is dropped'),
  sseHeartbeatMs: int('RTROUTE_SSE_HEARTBEAT_MS', 15_000, [10, DAY_MS], 'heartbeat comment period of `GET /v1/events`')
} as const

export type ObservabilityConfig = SettingsOf<typeof OBSERVABILITY_SETTINGS>

/** Adds what is wrong to `problems` (loadConfig reports every bad key at once). */
export function loadObservabilityConfig (env: Env, problems: string[]): ObservabilityConfig {
  const config = parseSettings(OBSERVABILITY_SETTINGS, env, problems)
  if (config.webhookRetryMaxMs < config.webhookRetryMinMs) {
    problems.push(`${OBSERVABILITY_SETTINGS.webhookRetryMaxMs.name}: expected a value not below ${OBSERVABILITY_SETTINGS.webhookRetryMinMs.name}`)
  }
  return Object.freeze(config)
}
