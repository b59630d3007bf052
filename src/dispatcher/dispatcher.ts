/**
 * Gateway health assembled: the shared store, its notifications, the prober lock and the probe
 * scheduler. The SIP stack exists only on the instance that holds the lock.
 */
import { limited, type GatewayHealthView } from '../routing/decide/decision.js'
import type { CompiledPartition, PartitionHead } from '../routing/snapshot/compiled.js'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Database } from '../db.js'
import type { EventBus } from '../events.js'
import type { Identifier } from '../status/status-registry.js'
import {
  CARRIER_CHANNEL, createGatewayStateRepository, GATEWAY_CHANNEL, PROBING_SETTING, SETTING_CHANNEL,
  type GatewayStateRepository, type StoredCarrierState, type StoredGatewayState
} from './gateway-state.repository.js'
import { partitionHealthConfig } from './health-settings.js'
import { createCapacityRepository } from './capacity.repository.js'
import { createCapacityStore, type CapacityStore } from './capacity-store.js'
import type { DispatcherSettings } from './dispatcher-settings.js'
import { createHealthStore, type GatewayInfo, type HealthStore } from './health-store.js'
import { createLeaderElection } from './leader.js'
import type { SendOptions } from './options-prober.js'
import { createProbeScheduler, type ProbeSchedulerOptions } from './probe-scheduler.js'
import { createSipOptionsSender, type SipOptionsSender } from './sip-options-sender.js'

/** Whether any gateway or carrier of the table has a capacity limit (the capacity sync runs only then). */
function hasLimits (table: CompiledPartition): boolean {
  for (const gateway of table.gateways.values()) if (limited(gateway)) return true
  for (const carrier of table.carriers.values()) if (limited(carrier)) return true
  return false
}

export interface DispatcherOptions {
  readonly kysely: Kysely<Database>
  /** The prober lock holds a connection of its own. */
  readonly url: string
  readonly settings: DispatcherSettings
  /** Backoff of the stores' writes while the database is away (RTROUTE_DB_RETRY_*). */
  readonly retryMinMs: number
  readonly retryMaxMs: number
  readonly bus: EventBus
  readonly log: Logger
  readonly eventsOf: (partition: string) => Identifier | undefined
  /** Probe round results, for metrics. */
  readonly onProbeResults?: ProbeSchedulerOptions['onResults']
}

/** Gateway health and capacity of every loaded partition, kept in step with the cluster. */
export interface Dispatcher {
  readonly store: HealthStore
  readonly repository: GatewayStateRepository
  readonly capacity: CapacityStore
  /** What the decision reads per partition: health and capacity, one object per partition. */
  view: (partition: string) => GatewayHealthView
  /** Whether this instance holds the prober lock. */
  isLeader: () => boolean
  /** The NOTIFY channels of gateway state, carrier state and settings. */
  readonly channels: readonly string[]
  onNotification: (channel: string, payload: string) => void
  /** A partition snapshot was swapped in: its gateways (the usable ones) and settings. */
  sync: (partition: string, table: CompiledPartition, data: PartitionHead) => void
  drop: (partition: string) => void
  /** After the first connection: a restarted instance starts from the shared state, not from "all up". */
  start: () => Promise<void>
  /** The shared state again, after the database or the LISTEN connection came back. */
  resync: () => Promise<void>
  stop: () => Promise<void>
}

export function createDispatcher (o: DispatcherOptions): Dispatcher {
  const { settings, log } = o
  const repository = createGatewayStateRepository(o.kysely)
  const store = createHealthStore({
    repository,
    bus: o.bus,
    log,
    now: Date.now,
    eventsOf: o.eventsOf,
    queueMax: settings.healthQueueMax,
    retryMinMs: o.retryMinMs,
    retryMaxMs: o.retryMaxMs
  })
  store.setProbing(settings.probing)
  const capacity = createCapacityStore({
    repository: createCapacityRepository(o.kysely),
    log,
    now: Date.now,
    syncMs: settings.capacitySyncMs,
    retryMinMs: o.retryMinMs,
    retryMaxMs: o.retryMaxMs
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
  const scheduler = createProbeScheduler({ store, repository, send, bus: o.bus, log, now: Date.now, tickMs: 1000, concurrency: settings.probeConcurrency, onResults: o.onProbeResults })
  const leader = createLeaderElection({
    url: o.url,
    heartbeatMs: settings.leaderHeartbeatMs,
    log,
    onChange: (isLeader) => {
      if (isLeader) {
        sender = createSipOptionsSender({
          address: settings.probeAddress,
          port: settings.probePort,
          publicAddress: settings.probePublicAddress,
          fromUri: settings.probeFromUri,
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
    channels: [GATEWAY_CHANNEL, CARRIER_CHANNEL, SETTING_CHANNEL],

    onNotification (channel, payload) {
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

    sync (partition, table, data) {
      const infos: GatewayInfo[] = []
      for (const row of data.gateways) {
        const compiled = table.gateways.get(row.id)
        if (compiled !== undefined) infos.push({ id: row.id, address: compiled.dstUri, probeMode: row.probe_mode, enabled: row.enabled })
      }
      store.sync(partition, infos, partitionHealthConfig(data.partition.settings))
      capacity.configure(partition, data.partition.settings, hasLimits(table))
    },

    drop (partition) {
      store.drop(partition)
      capacity.drop(partition)
      views.delete(partition)
    },

    async start () {
      await store.loadAll()
      const setting = await repository.getSetting<{ enabled: boolean }>(PROBING_SETTING)
      if (setting !== undefined) store.setProbing(setting.enabled)
      leader.start()
      scheduler.start()
      capacity.start()
    },

    resync: async () => { await store.loadAll() },

    async stop () {
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
