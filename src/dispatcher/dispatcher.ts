/**
 * Gateway health assembled: the shared store, its notifications, the prober lock and the probe
 * scheduler. The SIP stack exists only on the instance that holds the lock.
 */
import type { GatewayHealthView } from '../routing/decide/decision.js'
import type { CompiledPartition, PartitionHead } from '../routing/snapshot/compiled.js'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Database } from '../db.js'
import type { EventBus } from '../events.js'
import type { Identifier } from '../status/status-registry.js'
import {
  CARRIER_CHANNEL, createGatewayStateRepository, GATEWAY_CHANNEL, PROBING_SETTING, SETTING_CHANNEL, type StoredCarrierState, type StoredGatewayState
} from './gateway-state.repository.js'
import { partitionHealthConfig } from './health-settings.js'
import { createCapacityRepository } from './capacity.repository.js'
import { createCapacityStore } from './capacity-store.js'
import { createHealthStore, type GatewayInfo } from './health-store.js'
import { createLeaderElection } from './leader.js'
import type { SendOptions } from './options-prober.js'
import { createProbeScheduler, type ProbeSchedulerOptions } from './probe-scheduler.js'
import { createSipOptionsSender, type SipOptionsSender } from './sip-options-sender.js'

export interface DispatcherOptions {
  readonly kysely: Kysely<Database>
  readonly url: string
  readonly config: Config
  readonly bus: EventBus
  readonly log: Logger
  readonly eventsOf: (partition: string) => Identifier | undefined
  /** Probe round results, for metrics. */
  readonly onProbeResults?: ProbeSchedulerOptions['onResults']
}

export function createDispatcher (o: DispatcherOptions) {
  const { config, log } = o
  const repository = createGatewayStateRepository(o.kysely)
  const store = createHealthStore({
    repository,
    bus: o.bus,
    log,
    now: Date.now,
    eventsOf: o.eventsOf,
    queueMax: config.healthQueueMax,
    retryMinMs: config.dbRetryMinMs,
    retryMaxMs: config.dbRetryMaxMs
  })
  store.setProbing(config.probing)
  const capacity = createCapacityStore({
    repository: createCapacityRepository(o.kysely),
    log,
    now: Date.now,
    syncMs: config.capacitySyncMs,
    retryMinMs: config.dbRetryMinMs,
    retryMaxMs: config.dbRetryMaxMs
  })
  /** What the decision reads per partition: health and capacity, one object per partition. */
  const views = new Map<string, GatewayHealthView>()
  const view = (partition: string): GatewayHealthView => {
    let v = views.get(partition)
    if (v === undefined) views.set(partition, v = { ...store.view(partition), ...capacity.view(partition) })
    return v
  }
  let sender: SipOptionsSender | undefined
  const send: SendOptions = async (target, timeoutMs) => (sender === undefined ? { error: 'this instance does not probe' } : await sender.send(target, timeoutMs))
  const scheduler = createProbeScheduler({ store, repository, send, bus: o.bus, log, now: Date.now, tickMs: 1000, concurrency: config.probeConcurrency, onResults: o.onProbeResults })
  const leader = createLeaderElection({
    url: o.url,
    heartbeatMs: config.leaderHeartbeatMs,
    log,
    onChange: (isLeader) => {
      if (isLeader) {
        sender = createSipOptionsSender({
          address: config.probeAddress,
          port: config.probePort,
          publicAddress: config.probePublicAddress,
          fromUri: config.probeFromUri,
          onError: (err: unknown) => { log.warn({ err: err instanceof Error ? err.message : String(err) }, 'SIP prober socket error') }
        })
      } else {
        sender?.close()
        sender = undefined
      }
      scheduler.setLeader(isLeader)
    }
  })

  const parse = <T>(payload: string): T | undefined => {
    try {
      return JSON.parse(payload) as T
    } catch {
      log.warn({ payload: payload.slice(0, 200) }, 'unreadable gateway notification')
      return undefined
    }
  }

  return {
    store,
    repository,
    capacity,
    view,
    isLeader: () => leader.leader,
    channels: [GATEWAY_CHANNEL, CARRIER_CHANNEL, SETTING_CHANNEL] as const,

    onNotification (channel: string, payload: string): void {
      if (channel === GATEWAY_CHANNEL) {
        const stored = parse<StoredGatewayState>(payload)
        if (stored !== undefined) store.receive(stored)
      } else if (channel === CARRIER_CHANNEL) {
        const stored = parse<StoredCarrierState>(payload)
        if (stored !== undefined) store.receiveCarrier(stored)
      } else if (channel === SETTING_CHANNEL) {
        const setting = parse<{ key: string, value: { enabled?: boolean } }>(payload)
        if (setting?.key === PROBING_SETTING && typeof setting.value.enabled === 'boolean') store.setProbing(setting.value.enabled)
      }
    },

    /** A partition snapshot was swapped in: its gateways (the usable ones) and settings. */
    sync (partition: string, table: CompiledPartition, data: PartitionHead): void {
      const infos: GatewayInfo[] = []
      for (const row of data.gateways) {
        const compiled = table.gateways.get(row.id)
        if (compiled !== undefined) infos.push({ id: row.id, address: compiled.dstUri, probeMode: row.probe_mode, enabled: row.enabled })
      }
      store.sync(partition, infos, partitionHealthConfig(data.partition.settings))
      capacity.configure(partition, data.partition.settings)
    },

    drop: (partition: string) => {
      store.drop(partition)
      capacity.drop(partition)
      views.delete(partition)
    },

    /** After the first connection: a restarted instance starts from the shared state, not from "all up". */
    async start (): Promise<void> {
      await store.loadAll()
      const setting = await repository.getSetting<{ enabled: boolean }>(PROBING_SETTING)
      if (setting !== undefined) store.setProbing(setting.enabled)
      leader.start()
      scheduler.start()
      capacity.start()
    },

    /** The shared state again, after the database or the LISTEN connection came back. */
    resync: async () => { await store.loadAll() },

    async stop (): Promise<void> {
      scheduler.stop()
      await leader.stop()
      sender?.close()
      // Events still queued get a moment to reach the database (and the process no longer waits once they did).
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all([store.flush(), capacity.stop()]), new Promise((resolve) => { timer = setTimeout(resolve, 2000) })])
      clearTimeout(timer)
      store.stop()
    }
  }
}
export type Dispatcher = ReturnType<typeof createDispatcher>
