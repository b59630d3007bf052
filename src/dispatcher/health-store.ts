/**
 * Gateway health as every instance sees it. The routing decision reads memory only. PostgreSQL
 * decides for the cluster: every reported event (feedback, probe result, admin) is queued and
 * applied there in order, and the written row comes back to every instance by NOTIFY (newer
 * versions win). What this instance routes by is that confirmed state with its own events still
 * in the queue replayed on top, so a failure it was just told about counts at once, and a row
 * for an earlier event never rolls it back. While the database is away the queue keeps the
 * events, each with the time it was received.
 */
import type { GatewayHealthView } from '../routing/decide/decision.js'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { EventBus, GatewayStatusEvent } from '../events.js'
import type { Identifier } from '../status/status-registry.js'
import { applyHealthEvent, initialHealth, type GatewayHealth, type HealthEvent, type HealthState } from './gateway-state.js'
import type { GatewayStateRepository, StoredCarrierState, StoredGatewayState } from './gateway-state.repository.js'
import { DEFAULT_PARTITION_HEALTH, type PartitionHealthConfig } from './health-settings.js'
import { createEventQueue } from './event-queue.js'

/** What the loaded data says about a gateway. */
export interface GatewayInfo {
  readonly id: string
  readonly address: string
  readonly probeMode: 'never' | 'when_down' | 'always'
  readonly enabled: boolean
}

export interface HealthStoreOptions {
  readonly repository: Pick<GatewayStateRepository, 'apply' | 'all' | 'carriers'>
  readonly bus: EventBus
  readonly log: Logger
  readonly now: () => number
  /** The `<partition>;events` identifier that keeps gateway state changes. */
  readonly eventsOf: (partition: string) => Identifier | undefined
  /** Events kept while the database is away; past it the oldest are dropped (and counted). */
  readonly queueMax: number
  readonly retryMinMs: number
  readonly retryMaxMs: number
}

/**
 * Gateway and carrier state per partition. The routing decision reads `view`; feedback, probes
 * and ticks `submit` events; admin changes go through the database first (`adminSet`).
 */
export interface HealthStore {
  /** What the routing decision reads for one partition. */
  view: (partition: string) => GatewayHealthView
  /**
   * Feedback, probe results and ticks: queued for the database and counted here at once. Every
   * event is queued (the database may see a state this instance has not yet); a tick only when it
   * changes something here, as every instance ticks every second anyway.
   */
  submit: (partition: string, gatewayId: string, event: HealthEvent) => void
  /** An admin change goes through the database first: the answer says it is shared. */
  adminSet: (partition: string, gatewayId: string, state: 'active' | 'disabled', reason: string) => Promise<StoredGatewayState>
  /**
   * A notification (or a write of our own): a newer version becomes the confirmed state. Our own
   * notification can arrive before the write's call returns: the event it applied, still at the
   * head of the queue, is retired here so it is not replayed on top of itself.
   */
  receive: (stored: StoredGatewayState) => void
  /** A carrier's notification: a newer version replaces the old; a switch on or off is reported. */
  receiveCarrier: (stored: StoredCarrierState) => void
  /** Everything the database holds: at start (a restarted instance starts from the shared state) and after an outage. */
  loadAll: () => Promise<void>
  /** The loaded data of a partition: settings, and the gateways whose state matters (announced when first seen). */
  sync: (partition: string, infos: readonly GatewayInfo[], settings: PartitionHealthConfig) => void
  /** The partition is gone: everything about it is forgotten. */
  drop: (partition: string) => void
  /** Time passes: expired failure windows, hold times of unprobed gateways. Every instance ticks its memory. */
  tick: () => void
  /** What this instance routes a gateway by: confirmed state with its own queued events on top. */
  get: (partition: string, gatewayId: string) => StoredGatewayState | undefined
  carrierOf: (partition: string, carrierId: string) => StoredCarrierState | undefined
  /** The gateways of a partition's loaded data. */
  gatewaysOf: (partition: string) => ReadonlyMap<string, GatewayInfo>
  /** A partition's health settings (defaults before its first load). */
  configOf: (partition: string) => PartitionHealthConfig
  readonly eventsOf: (partition: string) => Identifier | undefined
  /** Partitions with loaded data. */
  partitions: () => string[]
  /** Probed gateways come back through good probes; the others after the hold time. */
  isProbed: (partition: string, gatewayId: string) => boolean
  /** The cluster-wide probing switch, as last heard. */
  setProbing: (enabled: boolean) => void
  readonly probing: boolean
  /** Events waiting for the database, and events dropped because the queue was full. */
  readonly queued: number
  readonly dropped: number
  /** Writes what is queued; resolves once the queue is empty or a write failed. */
  flush: () => Promise<void>
  stop: () => void
}

interface Queued { readonly partition: string, readonly gatewayId: string, readonly event: HealthEvent, readonly at: number, readonly seq: number }

const same = (a: GatewayHealth, b: GatewayHealth): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)
const keyOf = (partition: string, gatewayId: string): string => `${partition}\u0000${gatewayId}`

function mapOf<V> (maps: Map<string, Map<string, V>>, partition: string): Map<string, V> {
  let map = maps.get(partition)
  if (map === undefined) maps.set(partition, map = new Map())
  return map
}

export function createHealthStore (options: HealthStoreOptions): HealthStore {
  const { log, bus, now } = options
  /** What the database last said, per partition and gateway. */
  const confirmed = new Map<string, Map<string, StoredGatewayState>>()
  /** What this instance routes by: confirmed state plus its own queued events. */
  const records = new Map<string, Map<string, StoredGatewayState>>()
  const carriers = new Map<string, Map<string, StoredCarrierState>>()
  const gateways = new Map<string, ReadonlyMap<string, GatewayInfo>>()
  const configs = new Map<string, PartitionHealthConfig>()
  /** This instance's name in notifications, and the number of its last queued event. */
  const origin = randomUUID()
  let seq = 0
  let probing = true

  const queue = createEventQueue<Queued, StoredGatewayState | undefined>({
    max: options.queueMax,
    keyOf: (item) => keyOf(item.partition, item.gatewayId),
    write: async (item) => await options.repository.apply(item.partition, item.gatewayId, (current) => {
      const health = transition(item.partition, item.gatewayId, current?.health ?? initialHealth(item.at), item.event, item.at)
      return health === undefined ? undefined : { health }
    }, { origin, seq: item.seq }),
    written: (item, stored) => {
      if (stored !== undefined) receive(stored)
      project(item.partition, item.gatewayId)
    },
    dropped: (lost, total) => {
      project(lost.partition, lost.gatewayId)
      if (total % 1000 === 1) log.error({ dropped: total, queueMax: options.queueMax }, 'gateway state queue full: dropping the oldest events')
    },
    failed: (err, failures) => {
      if (failures === 1) log.warn({ err: (err as Error).message, queued: queue.length }, 'gateway state write failed; events are kept and retried')
    },
    retryMinMs: options.retryMinMs,
    retryMaxMs: options.retryMaxMs
  })

  const config = (partition: string): PartitionHealthConfig => configs.get(partition) ?? DEFAULT_PARTITION_HEALTH
  const infoOf = (partition: string, gatewayId: string): GatewayInfo | undefined => gateways.get(partition)?.get(gatewayId)
  const probed = (partition: string, gatewayId: string): boolean => {
    const info = infoOf(partition, gatewayId)
    return probing && info !== undefined && info.enabled && info.probeMode !== 'never'
  }

  function announce (partition: string, gatewayId: string, old: HealthState | null, health: GatewayHealth): void {
    const address = infoOf(partition, gatewayId)?.address ?? ''
    const event: GatewayStatusEvent = { partition, gateway: gatewayId, address, status: health.state, old_status: old, reason: health.reason }
    const line = old === null
      ? `GW <${gatewayId}>/${address} initial state [${health.state}]`
      : `GW <${gatewayId}>/${address} switched to [${health.state}] due to ${health.reason}`
    options.eventsOf(partition)?.report(line)
    log.info({ event: 'E_GATEWAY_STATUS', ...event }, line)
    bus.emit('E_GATEWAY_STATUS', event)
  }

  /** Recomputes what this instance routes by for one gateway; announces a change of state. */
  function project (partition: string, gatewayId: string): void {
    const base = confirmed.get(partition)?.get(gatewayId)
    let health = base?.health
    for (const item of queue.of(keyOf(partition, gatewayId))) {
      health = transition(partition, gatewayId, health ?? initialHealth(item.at), item.event, item.at) ?? health
    }
    const map = mapOf(records, partition)
    const old = map.get(gatewayId)
    if (health === undefined) return
    map.set(gatewayId, { partition, gatewayId, health, probe: base?.probe, version: base?.version ?? 0 })
    const oldState = old?.health.state ?? 'active'
    if (oldState !== health.state) announce(partition, gatewayId, oldState, health)
  }

  function transition (partition: string, gatewayId: string, base: GatewayHealth, event: HealthEvent, at: number): GatewayHealth | undefined {
    const { health } = applyHealthEvent(base, event, { settings: config(partition).health, probed: probed(partition, gatewayId), now: at })
    return same(health, base) ? undefined : health
  }

  function receive (stored: StoredGatewayState): void {
    const map = mapOf(confirmed, stored.partition)
    const old = map.get(stored.gatewayId)
    if (old !== undefined && old.version >= stored.version) return
    const { origin: from, seq: applied, ...record } = stored
    if (from === origin && queue.head()?.seq === applied) queue.shift()
    map.set(stored.gatewayId, record)
    project(stored.partition, stored.gatewayId)
  }

  function receiveCarrier (stored: StoredCarrierState): void {
    const map = mapOf(carriers, stored.partition)
    const old = map.get(stored.carrierId)
    if (old !== undefined && old.version >= stored.version) return
    map.set(stored.carrierId, stored)
    if ((old?.enabled ?? true) !== stored.enabled) {
      options.eventsOf(stored.partition)?.report(`carrier <${stored.carrierId}> ${stored.enabled ? 'enabled' : 'disabled'} due to ${stored.reason}`)
    }
  }

  function submit (partition: string, gatewayId: string, event: HealthEvent): void {
    const at = now()
    if (event.kind === 'tick') {
      const current = records.get(partition)?.get(gatewayId)
      if (current === undefined || transition(partition, gatewayId, current.health, event, at) === undefined) return
    }
    queue.push({ partition, gatewayId, event, at, seq: ++seq })
    project(partition, gatewayId)
    void queue.drain()
  }

  return {
    view (partition) {
      // The partition's maps are made once and only ever emptied (drop), so the view holds them: one lookup per gateway.
      const map = mapOf(records, partition)
      const carrierMap = mapOf(carriers, partition)
      return {
        stateOf: (gatewayId) => map.get(gatewayId)?.health.state,
        carrierDisabled: (carrierId) => carrierMap.get(carrierId)?.enabled === false
      }
    },
    submit,

    async adminSet (partition, gatewayId, state, reason) {
      const at = now()
      const stored = await options.repository.apply(partition, gatewayId, (current) => {
        const base = current?.health ?? initialHealth(at)
        const { health } = applyHealthEvent(base, { kind: 'admin', state, reason: `admin: ${reason}` }, { settings: config(partition).health, probed: probed(partition, gatewayId), now: at })
        return { health }
      })
      if (stored === undefined) throw new Error('admin change was not written')
      receive(stored)
      return stored
    },

    receive,
    receiveCarrier,

    async loadAll () {
      const [all, carrierStates] = await Promise.all([options.repository.all(), options.repository.carriers()])
      for (const stored of all) receive(stored)
      for (const stored of carrierStates) receiveCarrier(stored)
    },

    sync (partition, infos, settings) {
      const before = gateways.get(partition)
      gateways.set(partition, new Map(infos.map((g) => [g.id, g])))
      configs.set(partition, settings)
      const map = mapOf(records, partition)
      for (const info of infos) {
        if (before?.has(info.id) === true) continue
        // A gateway nobody reported on yet is active since now, when it became known: kept, so
        // that `since` is the same on every read instead of the time of the read.
        let record = map.get(info.id)
        if (record === undefined) map.set(info.id, record = { partition, gatewayId: info.id, health: initialHealth(now()), probe: undefined, version: 0 })
        announce(partition, info.id, null, record.health)
      }
    },

    drop (partition) {
      gateways.delete(partition)
      configs.delete(partition)
      records.get(partition)?.clear()
      confirmed.delete(partition)
      carriers.get(partition)?.clear()
    },

    tick () {
      for (const [partition, map] of records) {
        for (const record of map.values()) {
          if (record.health.state === 'suspect' || record.health.state === 'down') submit(partition, record.gatewayId, { kind: 'tick' })
        }
      }
    },

    get: (partition, gatewayId) => records.get(partition)?.get(gatewayId),
    carrierOf: (partition, carrierId) => carriers.get(partition)?.get(carrierId),
    gatewaysOf: (partition) => gateways.get(partition) ?? new Map(),
    configOf: config,
    eventsOf: options.eventsOf,
    partitions: () => [...gateways.keys()],
    isProbed: probed,
    setProbing (enabled) { probing = enabled },
    get probing () { return probing },
    get queued () { return queue.length },
    get dropped () { return queue.dropped },
    flush: queue.drain,
    stop: queue.stop
  }
}
