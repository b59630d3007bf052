/** Pure per-gateway health state machine: suspect/down thresholds, probe hysteresis, hold-down with flap damping, admin override. */

export type HealthState = 'active' | 'suspect' | 'down' | 'disabled'

export interface HealthSettings {
  /** N failures within failureWindowMs → down. */
  downAfterFailures: number
  failureWindowMs: number
  /** M consecutive good probes while down → active (and only once the hold time is over). */
  upAfterProbes: number
  /** Minimum time down; with probing off the gateway comes back after it. */
  holdDownMs: number
  /** Damping cap: a flapping gateway is never held down longer than this. */
  maxHoldDownMs: number
  /** Down transitions within this window count for damping. */
  flapWindowMs: number
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = Object.freeze({
  downAfterFailures: 3,
  failureWindowMs: 60_000,
  upAfterProbes: 2,
  holdDownMs: 30_000,
  maxHoldDownMs: 600_000,
  flapWindowMs: 3_600_000
})

export interface GatewayHealth {
  readonly state: HealthState
  /**
   * Why the gateway is in its current state: set on state changes, and kept in step with the
   * failure count of a suspect gateway (`failure 2 of 3 in 60 s: …`), so it never describes
   * failures that `failures` no longer holds.
   */
  readonly reason: string
  /** ms epoch of the last state change (of the first sight, for a gateway that never changed). */
  readonly since: number
  /** Failure times inside the window, oldest first, at most downAfterFailures; while down, the ones that took it down. */
  readonly failures: readonly number[]
  /** Consecutive good probes while down. */
  readonly goodProbes: number
  /** Total down transitions ever (kept across admin changes, shown to operators). */
  readonly flaps: number
  /** Down-transition times inside flapWindowMs, oldest first, at most MAX_RECENT_FLAPS. */
  readonly recentFlaps: readonly number[]
  /** Earliest time a down gateway may come back; 0 otherwise. */
  readonly downUntil: number
}

export type HealthEvent =
  | { readonly kind: 'failure', readonly reason: string }
  | { readonly kind: 'success', readonly reason: string }
  | { readonly kind: 'probe_ok', readonly reason: string }
  | { readonly kind: 'probe_fail', readonly reason: string }
  | { readonly kind: 'admin', readonly state: 'active' | 'disabled', readonly reason: string }
  | { readonly kind: 'tick' }

export interface HealthContext {
  readonly settings: HealthSettings
  /** Whether this gateway is probed at all (probe_mode); unprobed gateways come back on hold time alone. */
  readonly probed: boolean
  readonly now: number
}

export interface HealthChange {
  readonly from: HealthState
  readonly to: HealthState
  readonly reason: string
}

export interface HealthStep {
  readonly health: GatewayHealth
  readonly change?: HealthChange
}

type RuntimeEvent = Exclude<HealthEvent, { kind: 'admin' }>

/** 2^31 × any positive hold exceeds any sane cap, so more entries could never lengthen a hold. */
export const MAX_RECENT_FLAPS = 32

const CLEARED = { failures: [], goodProbes: 0, downUntil: 0 } as const

export function initialHealth (now: number): GatewayHealth {
  return { state: 'active', reason: 'initial', since: now, failures: [], goodProbes: 0, flaps: 0, recentFlaps: [], downUntil: 0 }
}

/** `60 s` for whole seconds, else `1500 ms`: the unit operators read in reasons. */
export function formatDuration (ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/** Hold-down for the n-th down transition inside the flap window: holdDownMs doubled per earlier flap, capped. */
export function holdDownFor (settings: HealthSettings, recentFlapCount: number): number {
  const doublings = Math.max(0, recentFlapCount - 1)
  return Math.min(settings.maxHoldDownMs, settings.holdDownMs * 2 ** doublings)
}

/**
 * One step of the machine. Never mutates `health`; when nothing changes it returns the same
 * object and no `change`, so callers can skip writes and events by identity.
 */
export function applyHealthEvent (health: GatewayHealth, event: HealthEvent, ctx: HealthContext): HealthStep {
  if (event.kind === 'admin') return applyAdmin(health, event.state, event.reason, ctx.now)
  // Admin-disabled beats everything: feedback, probes and time leave it alone (drouting's "Disabled MI").
  if (health.state === 'disabled') return { health }
  if (health.state === 'down') return applyWhileDown(health, event, ctx)
  return applyWhileRouted(health, event, ctx)
}

function transition (health: GatewayHealth, to: HealthState, reason: string, now: number, patch: Partial<GatewayHealth>): HealthStep {
  const next: GatewayHealth = { ...health, ...patch, state: to, reason, since: now }
  return { health: next, change: { from: health.state, to, reason } }
}

function inWindow (times: readonly number[], now: number, windowMs: number): readonly number[] {
  const from = now - windowMs
  const first = times.findIndex((t) => t > from)
  if (first === 0) return times
  return first < 0 ? [] : times.slice(first)
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function applyAdmin (health: GatewayHealth, state: 'active' | 'disabled', reason: string, now: number): HealthStep {
  if (health.state === state) return { health }
  // Callers may already have said who acted; never 'admin: admin: …'.
  const text = /^admin\b/i.test(reason) ? reason : `admin: ${reason}`
  // Flap history survives admin actions: a gateway re-enabled by hand that keeps failing is still damped.
  return transition(health, state, text, now, CLEARED)
}

function applyWhileRouted (health: GatewayHealth, event: RuntimeEvent, ctx: HealthContext): HealthStep {
  switch (event.kind) {
    case 'failure':
    case 'probe_fail':
      return recordFailure(health, event.reason, ctx)
    case 'success':
    case 'probe_ok':
      return health.state === 'suspect'
        ? transition(health, 'active', `failures cleared: ${event.reason}`, ctx.now, { failures: [] })
        : { health }
    case 'tick':
      return expireFailures(health, ctx)
  }
}

/** `failure 2 of 3 in 60 s: <the last failure>`: what a suspect gateway's reason says. */
function suspectReason (count: number, settings: HealthSettings, last: string): string {
  return `failure ${count} of ${Math.max(1, settings.downAfterFailures)} in ${formatDuration(settings.failureWindowMs)}: ${last}`
}

/** The last failure's text in a suspect gateway's reason (the newest failure is the last to leave the window). */
function lastFailure (reason: string): string {
  return /^failure \d+ of \d+ in [^:]+: ([\s\S]*)$/.exec(reason)?.[1] ?? reason
}

function recordFailure (health: GatewayHealth, reason: string, ctx: HealthContext): HealthStep {
  const { settings, now } = ctx
  const threshold = Math.max(1, settings.downAfterFailures)
  const failures = [...inWindow(health.failures, now, settings.failureWindowMs), now].slice(-threshold)
  if (failures.length >= threshold) {
    return goDown(health, failures, `${plural(failures.length, 'failure')} in ${formatDuration(settings.failureWindowMs)}: last ${reason}`, ctx)
  }
  if (health.state === 'active') {
    return transition(health, 'suspect', suspectReason(failures.length, settings, reason), now, { failures })
  }
  // Still suspect: no new state (since stays), but the reason counts the failures it now holds.
  return { health: { ...health, failures, reason: suspectReason(failures.length, settings, reason) } }
}

function goDown (health: GatewayHealth, failures: readonly number[], reason: string, ctx: HealthContext): HealthStep {
  const { settings, now } = ctx
  const recentFlaps = [...inWindow(health.recentFlaps, now, settings.flapWindowMs), now].slice(-MAX_RECENT_FLAPS)
  const hold = holdDownFor(settings, recentFlaps.length)
  // Say why a flapping gateway stays out longer than usual, or operators will think probing is broken.
  const damped = recentFlaps.length > 1
    ? `; held down ${formatDuration(hold)} (down ${recentFlaps.length} times in ${formatDuration(settings.flapWindowMs)})`
    : ''
  return transition(health, 'down', reason + damped, now, {
    failures, goodProbes: 0, flaps: health.flaps + 1, recentFlaps, downUntil: now + hold
  })
}

function expireFailures (health: GatewayHealth, ctx: HealthContext): HealthStep {
  if (health.failures.length === 0) return { health }
  const failures = inWindow(health.failures, ctx.now, ctx.settings.failureWindowMs)
  if (failures === health.failures) return { health }
  if (failures.length > 0 && health.state === 'suspect') {
    return { health: { ...health, failures, reason: suspectReason(failures.length, ctx.settings, lastFailure(health.reason)) } }
  }
  if (failures.length > 0 || health.state !== 'suspect') return { health: { ...health, failures } }
  return transition(health, 'active', `no failure in the last ${formatDuration(ctx.settings.failureWindowMs)}`, ctx.now, { failures: [] })
}

function applyWhileDown (health: GatewayHealth, event: RuntimeEvent, ctx: HealthContext): HealthStep {
  switch (event.kind) {
    case 'probe_ok': {
      // Capped: only "enough or not" matters, and the counter must not grow without bound.
      const goodProbes = Math.min(health.goodProbes + 1, upThreshold(ctx.settings))
      const counted = goodProbes === health.goodProbes ? health : { ...health, goodProbes }
      return recoverIfDue(counted, `${plural(goodProbes, 'good probe')} (${event.reason})`, ctx)
    }
    case 'probe_fail':
    case 'failure':
      // Hysteresis: the good probes must be consecutive, so any bad news starts the count again.
      return health.goodProbes === 0 ? { health } : { health: { ...health, goodProbes: 0 } }
    case 'success':
      // A 2xx for a down gateway comes from a call routed before it went down: not proof of health.
      return { health }
    case 'tick':
      return tickWhileDown(health, ctx)
  }
}

const upThreshold = (settings: HealthSettings): number => Math.max(1, settings.upAfterProbes)

function recoverIfDue (health: GatewayHealth, reason: string, ctx: HealthContext): HealthStep {
  if (health.goodProbes < upThreshold(ctx.settings) || ctx.now < health.downUntil) return { health }
  return transition(health, 'active', reason, ctx.now, CLEARED)
}

function tickWhileDown (health: GatewayHealth, ctx: HealthContext): HealthStep {
  if (ctx.now < health.downUntil) return { health }
  if (!ctx.probed) return transition(health, 'active', 'hold time elapsed', ctx.now, CLEARED)
  // Enough good probes arrived during the hold: come back when it ends rather than one probe interval later.
  return recoverIfDue(health, `${plural(health.goodProbes, 'good probe')}, hold time elapsed`, ctx)
}
