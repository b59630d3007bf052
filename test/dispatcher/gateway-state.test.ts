import { describe, expect, it } from 'vitest'
import {
  applyHealthEvent, DEFAULT_HEALTH_SETTINGS, formatDuration, holdDownFor, initialHealth, MAX_RECENT_FLAPS,
  type GatewayHealth, type HealthChange, type HealthEvent, type HealthSettings
} from '../../src/dispatcher/gateway-state.js'

const S = DEFAULT_HEALTH_SETTINGS
const fail: HealthEvent = { kind: 'failure', reason: '503 Service Unavailable' }
const probeOk: HealthEvent = { kind: 'probe_ok', reason: '200 OK' }
const probeFail: HealthEvent = { kind: 'probe_fail', reason: 'probe timeout after 2000 ms' }
const tick: HealthEvent = { kind: 'tick' }
/** Routed states: a suspect gateway still takes calls while its failures are counted. */
const isRouted = (health: GatewayHealth): boolean => health.state === 'active' || health.state === 'suspect'

interface DriveOptions { probed?: boolean, settings?: HealthSettings }

/** Applies [time, event] steps in order; returns the last health and every change seen. */
function drive (start: GatewayHealth, steps: Array<[number, HealthEvent]>, o: DriveOptions = {}): { health: GatewayHealth, changes: HealthChange[] } {
  let health = start
  const changes: HealthChange[] = []
  for (const [now, event] of steps) {
    const step = applyHealthEvent(health, event, { settings: o.settings ?? S, probed: o.probed ?? true, now })
    health = step.health
    if (step.change !== undefined) changes.push(step.change)
  }
  return { health, changes }
}

/** Three failures one second apart from `t`: down at t + 2000. */
const takeDown = (health: GatewayHealth, t: number, o: DriveOptions = {}): GatewayHealth =>
  drive(health, [[t, fail], [t + 1000, fail], [t + 2000, fail]], o).health

/** Two good probes after the hold: back to active. */
const bringUp = (health: GatewayHealth): GatewayHealth =>
  drive(health, [[health.downUntil, probeOk], [health.downUntil + 1, probeOk]]).health

describe('gateway health: failures and thresholds', () => {
  it('starts active with nothing counted', () => {
    expect(initialHealth(5)).toEqual({ state: 'active', reason: 'initial', since: 5, failures: [], goodProbes: 0, flaps: 0, recentFlaps: [], downUntil: 0 })
  })

  it('turns suspect on the first failure, still routed', () => {
    const step = applyHealthEvent(initialHealth(0), fail, { settings: S, probed: true, now: 1000 })
    expect(step.change).toEqual({ from: 'active', to: 'suspect', reason: 'failure 1 of 3 in 60 s: 503 Service Unavailable' })
    expect(step.health).toMatchObject({ state: 'suspect', since: 1000, failures: [1000] })
    expect(isRouted(step.health)).toBe(true)
  })

  it('goes down at N failures within the window, with a drouting-style reason', () => {
    const { health, changes } = drive(initialHealth(0), [[1000, fail], [2000, fail], [3000, fail]])
    expect(changes.map((c) => c.to)).toEqual(['suspect', 'down'])
    expect(changes[1]?.reason).toBe('3 failures in 60 s: last 503 Service Unavailable')
    expect(health).toMatchObject({ state: 'down', since: 3000, failures: [1000, 2000, 3000], flaps: 1, recentFlaps: [3000], downUntil: 33_000 })
    expect(isRouted(health)).toBe(false)
  })

  it('forgets failures older than the window', () => {
    const { health, changes } = drive(initialHealth(0), [[0, fail], [30_000, fail], [61_000, fail]])
    expect(health.state).toBe('suspect')
    expect(health.failures).toEqual([30_000, 61_000])
    expect(changes).toHaveLength(1)
  })

  it('keeps a suspect gateway\'s reason in step with its failures, new or expired; since stays at the change', () => {
    const other: HealthEvent = { kind: 'failure', reason: '408 Request Timeout' }
    const second = drive(initialHealth(0), [[1000, fail], [20_000, other]])
    expect(second.changes).toHaveLength(1)
    expect(second.health).toMatchObject({ state: 'suspect', since: 1000, failures: [1000, 20_000], reason: 'failure 2 of 3 in 60 s: 408 Request Timeout' })
    const expired = applyHealthEvent(second.health, tick, { settings: S, probed: true, now: 61_500 })
    expect(expired.change).toBeUndefined()
    expect(expired.health).toMatchObject({ state: 'suspect', since: 1000, failures: [20_000], reason: 'failure 1 of 3 in 60 s: 408 Request Timeout' })
  })

  it('a tick turns a suspect whose failures all expired back to active', () => {
    const suspect = drive(initialHealth(0), [[1000, fail]]).health
    expect(applyHealthEvent(suspect, tick, { settings: S, probed: true, now: 60_999 }).health).toBe(suspect)
    const step = applyHealthEvent(suspect, tick, { settings: S, probed: true, now: 61_000 })
    expect(step.change).toEqual({ from: 'suspect', to: 'active', reason: 'no failure in the last 60 s' })
    expect(step.health.failures).toEqual([])
  })

  it('a tick drops only the expired failures of a suspect', () => {
    const suspect = drive(initialHealth(0), [[0, fail], [50_000, fail]]).health
    const step = applyHealthEvent(suspect, tick, { settings: S, probed: true, now: 70_000 })
    expect(step.change).toBeUndefined()
    expect(step.health).toMatchObject({ state: 'suspect', failures: [50_000] })
  })

  it('success or a good probe clears the failures of a suspect', () => {
    const suspect = drive(initialHealth(0), [[0, fail], [1, fail]]).health
    for (const event of [{ kind: 'success', reason: '200 OK' }, probeOk] as const) {
      const step = applyHealthEvent(suspect, event, { settings: S, probed: true, now: 2 })
      expect(step.change).toEqual({ from: 'suspect', to: 'active', reason: 'failures cleared: 200 OK' })
      expect(step.health.failures).toEqual([])
    }
  })

  it('counts a probe failure of an active gateway as a failure', () => {
    const { health, changes } = drive(initialHealth(0), [[0, probeFail], [1, probeFail], [2, probeFail]])
    expect(health.state).toBe('down')
    expect(changes[1]?.reason).toBe('3 failures in 60 s: last probe timeout after 2000 ms')
  })

  it('goes straight down with a threshold of one', () => {
    const settings = { ...S, downAfterFailures: 1 }
    const { changes } = drive(initialHealth(0), [[5, fail]], { settings })
    expect(changes).toEqual([{ from: 'active', to: 'down', reason: '1 failure in 60 s: last 503 Service Unavailable' }])
  })

  it('keeps at most downAfterFailures failure times', () => {
    const settings = { ...S, downAfterFailures: 4, failureWindowMs: 10 }
    const { health } = drive(initialHealth(0), Array.from({ length: 50 }, (_, i): [number, HealthEvent] => [i * 7, fail]), { settings })
    expect(health.failures.length).toBeLessThanOrEqual(4)
  })

  it('returns the very same object when nothing changes', () => {
    const active = initialHealth(0)
    for (const event of [tick, probeOk, { kind: 'success', reason: '200 OK' }, { kind: 'admin', state: 'active', reason: 'x' }] as const) {
      const step = applyHealthEvent(active, event, { settings: S, probed: true, now: 10 })
      expect(step.health).toBe(active)
      expect(step.change).toBeUndefined()
    }
  })
})

describe('gateway health: recovery', () => {
  const down = takeDown(initialHealth(0), 1000) // down at 3000, until 33_000

  it('comes back only after M consecutive good probes AND the hold time', () => {
    const early = drive(down, [[4000, probeOk], [5000, probeOk], [6000, probeOk]])
    expect(early.health).toMatchObject({ state: 'down', goodProbes: 2 })
    const { health, changes } = drive(early.health, [[33_000, probeOk]])
    expect(changes).toEqual([{ from: 'down', to: 'active', reason: '2 good probes (200 OK)' }])
    expect(health).toMatchObject({ state: 'active', since: 33_000, failures: [], goodProbes: 0, downUntil: 0, flaps: 1 })
  })

  it('never flaps back on a single good probe', () => {
    const { health, changes } = drive(down, [[40_000, probeOk]])
    expect(health).toMatchObject({ state: 'down', goodProbes: 1 })
    expect(changes).toEqual([])
  })

  it('restarts the count after a bad probe or a failure report', () => {
    const after = drive(down, [[40_000, probeOk], [41_000, probeFail], [42_000, probeOk]])
    expect(after.health).toMatchObject({ state: 'down', goodProbes: 1 })
    const afterFeedback = drive(down, [[40_000, probeOk], [41_000, fail], [42_000, probeOk]])
    expect(afterFeedback.health.goodProbes).toBe(1)
  })

  it('a 2xx report does not revive a down gateway', () => {
    expect(applyHealthEvent(down, { kind: 'success', reason: '200 OK' }, { settings: S, probed: true, now: 99_000 }).health).toBe(down)
  })

  it('returns on the tick that ends the hold when the good probes came during it', () => {
    const counted = drive(down, [[4000, probeOk], [5000, probeOk]]).health
    const { changes } = drive(counted, [[32_999, tick], [33_000, tick]])
    expect(changes).toEqual([{ from: 'down', to: 'active', reason: '2 good probes, hold time elapsed' }])
  })

  it('a probed gateway stays down after the hold until probes say otherwise', () => {
    expect(drive(down, [[1_000_000, tick]]).health).toBe(down)
  })

  it('with probing off, a tick at the end of the hold brings it back', () => {
    const unprobed = takeDown(initialHealth(0), 1000, { probed: false })
    expect(drive(unprobed, [[32_999, tick]], { probed: false }).health).toBe(unprobed)
    const { changes } = drive(unprobed, [[33_000, tick]], { probed: false })
    expect(changes).toEqual([{ from: 'down', to: 'active', reason: 'hold time elapsed' }])
  })
})

describe('gateway health: damping', () => {
  it('doubles the hold for each down transition inside the flap window, and says so', () => {
    let health = initialHealth(0)
    const holds: number[] = []
    const reasons: string[] = []
    for (let i = 0; i < 4; i++) {
      const t = i * 100_000
      const { health: downed, changes } = drive(health, [[t, fail], [t + 1, fail], [t + 2, fail]])
      holds.push(downed.downUntil - (t + 2))
      reasons.push(changes.at(-1)?.reason ?? '')
      health = bringUp(downed)
    }
    expect(holds).toEqual([30_000, 60_000, 120_000, 240_000])
    expect(reasons[0]).toBe('3 failures in 60 s: last 503 Service Unavailable')
    expect(reasons[1]).toBe('3 failures in 60 s: last 503 Service Unavailable; held down 60 s (down 2 times in 3600 s)')
    expect(health.flaps).toBe(4)
  })

  it('caps the hold at maxHoldDownMs', () => {
    expect(holdDownFor(S, 1)).toBe(30_000)
    expect(holdDownFor(S, 5)).toBe(480_000)
    expect(holdDownFor(S, 6)).toBe(600_000)
    expect(holdDownFor(S, 200)).toBe(600_000)
  })

  it('forgets flaps older than the flap window but keeps the total', () => {
    const settings = { ...S, flapWindowMs: 1_000_000 }
    let health = initialHealth(0)
    health = bringUp(takeDown(health, 0, { settings }))
    health = takeDown(health, 2_000_000, { settings })
    expect(health.downUntil - 2_002_000).toBe(30_000)
    expect(health).toMatchObject({ flaps: 2, recentFlaps: [2_002_000] })
  })

  it('keeps the flap history bounded', () => {
    const settings = { ...S, holdDownMs: 1, maxHoldDownMs: 1 }
    let health = initialHealth(0)
    for (let i = 0; i < MAX_RECENT_FLAPS + 10; i++) health = bringUp(takeDown(health, i * 10_000, { settings }))
    expect(health.recentFlaps.length).toBe(MAX_RECENT_FLAPS)
    expect(health.flaps).toBe(MAX_RECENT_FLAPS + 10)
  })
})

describe('gateway health: admin', () => {
  const disable: HealthEvent = { kind: 'admin', state: 'disabled', reason: 'maintenance' }

  it('disabled beats probes, feedback and time', () => {
    const disabled = drive(takeDown(initialHealth(0), 0), [[10, disable]]).health
    expect(disabled).toMatchObject({ state: 'disabled', reason: 'admin: maintenance', downUntil: 0, goodProbes: 0 })
    for (const event of [probeOk, probeFail, fail, { kind: 'success', reason: '200 OK' }, tick] as const) {
      for (const probed of [true, false]) {
        expect(applyHealthEvent(disabled, event, { settings: S, probed, now: 10_000_000 }).health).toBe(disabled)
      }
    }
    expect(applyHealthEvent(disabled, disable, { settings: S, probed: true, now: 20 }).health).toBe(disabled)
  })

  it('admin active clears the counters, keeps the flap history, and lifts a hold', () => {
    const downed = drive(takeDown(initialHealth(0), 0), [[2500, probeOk]]).health
    const { health, changes } = drive(downed, [[3000, disable], [4000, { kind: 'admin', state: 'active', reason: 'back in service' }]])
    expect(changes.map((c) => c.reason)).toEqual(['admin: maintenance', 'admin: back in service'])
    expect(health).toMatchObject({ state: 'active', failures: [], goodProbes: 0, downUntil: 0, flaps: 1, recentFlaps: [2000] })
    const direct = applyHealthEvent(downed, { kind: 'admin', state: 'active', reason: 'forced' }, { settings: S, probed: true, now: 5000 })
    expect(direct.change).toEqual({ from: 'down', to: 'active', reason: 'admin: forced' })
    const prefixed = applyHealthEvent(downed, { kind: 'admin', state: 'disabled', reason: 'admin: maintenance' }, { settings: S, probed: true, now: 5000 })
    expect(prefixed.change?.reason).toBe('admin: maintenance')
  })

  it('formats durations the way operators read them', () => {
    expect(formatDuration(60_000)).toBe('60 s')
    expect(formatDuration(1500)).toBe('1500 ms')
  })
})
