/** A partition's gateway-health settings (its `settings` document) with the defaults filled in. */
import type { PartitionSettings } from '../routing/routing-data.schema.js'
import { DEFAULT_FEEDBACK_CODES, parseCodeList, type FeedbackCodes } from './feedback.js'
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from './gateway-state.js'

export interface PartitionHealthConfig {
  readonly health: HealthSettings
  readonly feedback: FeedbackCodes
  readonly probeIntervalMs: number
  readonly probeTimeoutMs: number
  readonly acceptCodes: readonly number[]
  /** A probe round in which all of at least this many gateways failed freezes state; 0: off. */
  readonly blindGuardMin: number
}

export const DEFAULT_PARTITION_HEALTH: PartitionHealthConfig = Object.freeze({
  health: DEFAULT_HEALTH_SETTINGS,
  feedback: DEFAULT_FEEDBACK_CODES,
  probeIntervalMs: 30_000,
  probeTimeoutMs: 2000,
  acceptCodes: [],
  blindGuardMin: 2
})

/** The settings are schema-checked on write; a code list that still does not parse falls back to the default. */
export function partitionHealthConfig (settings: PartitionSettings | Record<string, unknown>): PartitionHealthConfig {
  const s = settings as PartitionSettings
  const d = DEFAULT_HEALTH_SETTINGS
  const codes = s.feedback_failure_codes === undefined ? DEFAULT_FEEDBACK_CODES : parseCodeList(s.feedback_failure_codes)
  return {
    health: {
      downAfterFailures: s.down_after_failures ?? d.downAfterFailures,
      failureWindowMs: s.failure_window_ms ?? d.failureWindowMs,
      upAfterProbes: s.up_after_probes ?? d.upAfterProbes,
      holdDownMs: s.hold_down_ms ?? d.holdDownMs,
      maxHoldDownMs: s.max_hold_down_ms ?? d.maxHoldDownMs,
      flapWindowMs: s.flap_window_ms ?? d.flapWindowMs
    },
    feedback: typeof codes === 'string' ? DEFAULT_FEEDBACK_CODES : codes,
    probeIntervalMs: s.probe_interval_ms ?? DEFAULT_PARTITION_HEALTH.probeIntervalMs,
    probeTimeoutMs: s.probe_timeout_ms ?? DEFAULT_PARTITION_HEALTH.probeTimeoutMs,
    acceptCodes: s.probe_accept_codes ?? [],
    blindGuardMin: s.blind_guard_min_gateways ?? DEFAULT_PARTITION_HEALTH.blindGuardMin
  }
}
