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
import { backoffDelay } from '../retry.js'
import { applyHealthEvent, initialHealth, type GatewayHealth, type HealthEvent, type HealthState } from './gateway-state.js'
import type { GatewayStateRepository, StoredCarrierState, StoredGatewayState } from './gateway-state.repository.js'
import { DEFAULT_PARTITION_HEALTH, type PartitionHealthConfig } from './health-settings.js'

/** What the loaded data says about a gateway. */
export interface GatewayInfo {
  readonly id: string
  readonly address: string
  readonly probeMode: 'never' | 'when_down' | 'always'
  readonly enabled: boolean
}

interface Queued { readonly partition: string, readonly gatewayId: string, readonly event: HealthEvent, readonly at: number, readonly seq: number }

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

const same = (a: GatewayHealth, b: GatewayHealth): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

export function createHealthStore (options: HealthStoreOptions) {
  const { log, bus, now } = options
  /** What the database last said, per partition and gateway. */
  const confirmed = new Map<string, Map<string, StoredGatewayState>>()
  /** What this instance routes by: confirmed state plus its own queued events. */
  const records = new Map<string, Map<string, StoredGatewayState>>()
  const carriers = new Map<string, Map<string, StoredCarrierState>>()
  const gateways = new Map<string, ReadonlyMap<string, GatewayInfo>>()
  const configs = new Map<string, PartitionHealthConfig>()
  const queue: Queued[] = []
  /** This instance's name in notifications, and the number of its last queued event. */
  const origin = randomUUID()
  let seq = 0
  /** The same events per gateway, in order: replaying one gateway's never scans the whole queue. */
  const pending = new Map<string, Queued[]>()
  const keyOf = (partition: string, gatewayId: string): string => `${partition}\u0000${gatewayId}`
  const enqueue = (item: Queued): void => {
    queue.push(item)
    const key = keyOf(item.partition, item.gatewayId)
    const list = pending.get(key)
    if (list === undefined) pending.set(key, [item])
    else list.push(item)
  }
  /** Removes the oldest event (per gateway, queue order is kept, so it heads its list too). */
  const dequeue = (): Queued | undefined => {
    const item = queue.shift()
    if (item === undefined) return undefined
    const key = keyOf(item.partition, item.gatewayId)
    const list = pending.get(key)
    list?.shift()
    if (list?.length === 0) pending.delete(key)
    return item
  }
  let draining: Promise<void> | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let failures = 0
  let dropped = 0
  let probing = true
  let stopped = false

  const mapOf = <V>(maps: Map<string, Map<string, V>>, partition: string): Map<string, V> => {
    let map = maps.get(partition)
    if (map === undefined) maps.set(partition, map = new Map())
    return map
  }
  const config = (partition: string): PartitionHealthConfig => configs.get(partition) ?? DEFAULT_PARTITION_HEALTH
  const infoOf = (partition: string, gatewayId: string): GatewayInfo | undefined => gateways.get(partition)?.get(gatewayId)
  /** Probed gateways come back through good probes; the others after the hold time. */
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
    for (const item of pending.get(keyOf(partition, gatewayId)) ?? []) {
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

  function scheduleDrain (delayMs: number): void {
    if (retryTimer !== undefined || stopped) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void drain()
    }, delayMs)
  }

  async function drain (): Promise<void> {
    if (draining !== undefined) return await draining
    draining = (async () => {
      while (queue.length > 0 && !stopped) {
        const item = queue[0] as Queued
        try {
          const stored = await options.repository.apply(item.partition, item.gatewayId, (current) => {
            const health = transition(item.partition, item.gatewayId, current?.health ?? initialHealth(item.at), item.event, item.at)
            return health === undefined ? undefined : { health }
          }, { origin, seq: item.seq })
          // Our own notification may have retired it already; an overflow may have dropped it.
          if (queue[0] === item) dequeue()
          failures = 0
          if (stored !== undefined) receive(stored)
          project(item.partition, item.gatewayId)
        } catch (err) {
          failures++
          const delay = backoffDelay(failures - 1, options.retryMinMs, options.retryMaxMs, Math.random)
          if (failures === 1) log.warn({ err: (err as Error).message, queued: queue.length }, 'gateway state write failed; events are kept and retried')
          scheduleDrain(delay)
          return
        }
      }
    })().finally(() => {
      draining = undefined
      // An event submitted after the loop saw an empty queue, but before this ran, found a
      // drain still "running" and relied on it: pick it up now (unless a retry is scheduled).
      if (queue.length > 0 && retryTimer === undefined && !stopped) void drain()
    })
    return await draining
  }

  /**
   * A notification (or a write of our own): a newer version becomes the confirmed state. Our own
   * notification can arrive before the write's call returns: the event it applied, still at the
   * head of the queue, is retired here so it is not replayed on top of itself.
   */
  function receive (stored: StoredGatewayState): void {
    const map = mapOf(confirmed, stored.partition)
    const old = map.get(stored.gatewayId)
    if (old !== undefined && old.version >= stored.version) return
    const { origin: from, seq: applied, ...record } = stored
    if (from === origin && queue[0]?.seq === applied) dequeue()
    map.set(stored.gatewayId, record)
    project(stored.partition, stored.gatewayId)
  }

  return {
    /** What the routing decision reads for one partition. */
    view (partition: string): GatewayHealthView {
      return {
        stateOf: (gatewayId) => records.get(partition)?.get(gatewayId)?.health.state,
        carrierDisabled: (carrierId) => carriers.get(partition)?.get(carrierId)?.enabled === false
      }
    },

    /**
     * Feedback, probe results and ticks: queued for the database and counted here at once. Every
     * event is queued (the database may see a state this instance has not yet); a tick only when it
     * changes something here, as every instance ticks every second anyway.
     */
    submit (partition: string, gatewayId: string, event: HealthEvent): void {
      const at = now()
      if (event.kind === 'tick') {
        const current = records.get(partition)?.get(gatewayId)
        if (current === undefined || transition(partition, gatewayId, current.health, event, at) === undefined) return
      }
      if (queue.length >= options.queueMax) {
        const lost = dequeue()
        if (lost !== undefined) project(lost.partition, lost.gatewayId)
        if (dropped++ % 1000 === 0) log.error({ dropped, queueMax: options.queueMax }, 'gateway state queue full: dropping the oldest events')
      }
      enqueue({ partition, gatewayId, event, at, seq: ++seq })
      project(partition, gatewayId)
      void drain()
    },

    /** An admin change goes through the database first: the answer says it is shared. */
    async adminSet (partition: string, gatewayId: string, state: 'active' | 'disabled', reason: string): Promise<StoredGatewayState> {
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

    receiveCarrier (stored: StoredCarrierState): void {
      let map = carriers.get(stored.partition)
      if (map === undefined) carriers.set(stored.partition, map = new Map())
      const old = map.get(stored.carrierId)
      if (old !== undefined && old.version >= stored.version) return
      map.set(stored.carrierId, stored)
      if ((old?.enabled ?? true) !== stored.enabled) {
        options.eventsOf(stored.partition)?.report(`carrier <${stored.carrierId}> ${stored.enabled ? 'enabled' : 'disabled'} due to ${stored.reason}`)
      }
    },

    /** Everything the database holds: at start (a restarted instance starts from the shared state) and after an outage. */
    async loadAll (): Promise<void> {
      const [all, carrierStates] = await Promise.all([options.repository.all(), options.repository.carriers()])
      for (const stored of all) receive(stored)
      for (const stored of carrierStates) this.receiveCarrier(stored)
    },

    /** The loaded data of a partition: settings, and the gateways whose state matters (announced when first seen). */
    sync (partition: string, infos: readonly GatewayInfo[], settings: PartitionHealthConfig): void {
      const before = gateways.get(partition)
      gateways.set(partition, new Map(infos.map((g) => [g.id, g])))
      configs.set(partition, settings)
      for (const info of infos) {
        if (before?.has(info.id) === true) continue
        const health = records.get(partition)?.get(info.id)?.health ?? initialHealth(now())
        announce(partition, info.id, null, health)
      }
    },

    drop (partition: string): void {
      gateways.delete(partition)
      configs.delete(partition)
      records.delete(partition)
      confirmed.delete(partition)
      carriers.delete(partition)
    },

    /** Time passes: expired failure windows, hold times of unprobed gateways. Every instance ticks its memory. */
    tick (): void {
      for (const [partition, map] of records) {
        for (const record of map.values()) {
          if (record.health.state === 'suspect' || record.health.state === 'down') this.submit(partition, record.gatewayId, { kind: 'tick' })
        }
      }
    },

    get (partition: string, gatewayId: string): StoredGatewayState | undefined { return records.get(partition)?.get(gatewayId) },
    carrierOf (partition: string, carrierId: string): StoredCarrierState | undefined { return carriers.get(partition)?.get(carrierId) },
    gatewaysOf: (partition: string): ReadonlyMap<string, GatewayInfo> => gateways.get(partition) ?? new Map(),
    configOf: config,
    eventsOf: options.eventsOf,
    partitions: (): string[] => [...gateways.keys()],
    isProbed: probed,
    setProbing (enabled: boolean): void { probing = enabled },
    get probing (): boolean { return probing },
    get queued (): number { return queue.length },
    get dropped (): number { return dropped },
    flush: drain,
    stop (): void {
      stopped = true
      if (retryTimer !== undefined) clearTimeout(retryTimer)
    }
  }
}
export type HealthStore = ReturnType<typeof createHealthStore>
