/**
 * The background jobs of gateway health. Every instance ticks its memory once a second (failure
 * windows expire, hold times end). The leader alone probes: each partition on its own interval,
 * the gateways its probe modes select, one OPTIONS round at a time; a round that finds every
 * gateway dead freezes state instead (the prober's own network is the likelier culprit).
 */
import type { Logger } from 'pino'
import type { EventBus } from '../events.js'
import { judgeRound } from './blind-guard.js'
import { PROBING_SETTING, type GatewayStateRepository } from './gateway-state.repository.js'
import type { HealthStore } from './health-store.js'
import { createOptionsProber, probeHealthEvent, type ProbeResult, type ProbeTarget, type SendOptions } from './options-prober.js'
import { EMPTY_PROBE_STATS, updateProbeStats, type ProbeStats } from './probe-stats.js'

export interface ProbeSchedulerOptions {
  readonly store: HealthStore
  readonly repository: Pick<GatewayStateRepository, 'saveProbeStats' | 'getSetting'>
  readonly send: SendOptions
  readonly bus: EventBus
  readonly log: Logger
  readonly now: () => number
  readonly tickMs: number
  /** Probes in flight at once within a round. */
  readonly concurrency: number
  /** Every round's results, frozen or not (metrics: probe results and latency). */
  readonly onResults?: (partition: string, results: readonly ProbeResult[]) => void
}

export interface ProbeScheduler {
  start: () => void
  stop: () => void
  setLeader: (leader: boolean) => void
  /** One round for one partition now (tests, and the scheduler itself). */
  round: (partition: string) => Promise<ProbeResult[]>
}

export function createProbeScheduler (options: ProbeSchedulerOptions): ProbeScheduler {
  const { store, log, now } = options
  const nextRound = new Map<string, number>()
  const stats = new Map<string, Map<string, ProbeStats>>()
  const running = new Set<string>()
  let leader = false
  let timer: NodeJS.Timeout | undefined

  /** probe_mode always, or when_down while down; never a disabled gateway (admin or data). */
  function targets (partition: string): ProbeTarget[] {
    const out: ProbeTarget[] = []
    for (const info of store.gatewaysOf(partition).values()) {
      const state = store.get(partition, info.id)?.health.state ?? 'active'
      if (!info.enabled || state === 'disabled') continue
      if (info.probeMode === 'always' || (info.probeMode === 'when_down' && state === 'down')) {
        out.push({ partition, gatewayId: info.id, uri: info.address })
      }
    }
    return out
  }

  async function round (partition: string): Promise<ProbeResult[]> {
    const config = store.configOf(partition)
    const list = targets(partition)
    if (list.length === 0) return []
    const prober = createOptionsProber({ send: options.send, now, timeoutMs: config.probeTimeoutMs, acceptCodes: config.acceptCodes, concurrency: options.concurrency })
    const results = await prober.round(list)
    options.onResults?.(partition, results)
    let partitionStats = stats.get(partition)
    if (partitionStats === undefined) stats.set(partition, partitionStats = new Map())
    for (const result of results) partitionStats.set(result.target.gatewayId, updateProbeStats(partitionStats.get(result.target.gatewayId) ?? EMPTY_PROBE_STATS, result))

    const verdict = config.blindGuardMin === 0 ? { frozen: false as const } : judgeRound(partition, results, { minGateways: config.blindGuardMin })
    if (verdict.frozen) {
      store.eventsOf?.(partition)?.report(`probing frozen: ${verdict.reason}`)
      log.warn({ partition, failed: verdict.failed }, `probing frozen: ${verdict.reason}`)
      options.bus.emit('E_PROBER_BLIND', { partition, failed: verdict.failed, reason: verdict.reason })
    } else {
      for (const result of results) {
        store.submit(partition, result.target.gatewayId, probeHealthEvent(result))
      }
    }
    await options.repository.saveProbeStats(partition, partitionStats).catch((err: unknown) => {
      log.debug({ partition, err: (err as Error).message }, 'probe statistics not saved')
    })
    return results
  }

  async function probeDue (): Promise<void> {
    try {
      const setting = await options.repository.getSetting<{ enabled: boolean }>(PROBING_SETTING)
      if (setting !== undefined) store.setProbing(setting.enabled)
    } catch {
      // The database is away: keep the last known switch.
    }
    if (!store.probing) return
    const t = now()
    for (const partition of store.partitions()) {
      if (running.has(partition) || (nextRound.get(partition) ?? 0) > t) continue
      nextRound.set(partition, t + store.configOf(partition).probeIntervalMs)
      running.add(partition)
      void round(partition)
        .catch((err: unknown) => { log.warn({ partition, err: (err as Error).message }, 'probe round failed') })
        .finally(() => { running.delete(partition) })
    }
  }

  return {
    start () {
      const loop = (): void => {
        store.tick()
        if (leader) void probeDue()
        timer = setTimeout(loop, options.tickMs)
      }
      timer = setTimeout(loop, options.tickMs)
    },
    stop () {
      if (timer !== undefined) clearTimeout(timer)
    },
    setLeader (value) {
      leader = value
      // A new leader probes at once rather than after a full interval.
      if (value) nextRound.clear()
    },
    round
  }
}
