/** The in-process, typed event bus: status changes and later gateway/reload events travel here. */

/** E_CORE_SR_STATUS_CHANGED, as OpenSIPS raises it when an identifier's integer status changes. */
export interface StatusChangedEvent {
  readonly group: string
  readonly identifier: string
  readonly status: number
  readonly details: string
  readonly old_status: number
}

/** E_GATEWAY_STATUS, after OpenSIPS's E_DROUTING_STATUS: a gateway changed state (or was first seen). */
export interface GatewayStatusEvent {
  readonly partition: string
  readonly gateway: string
  readonly address: string
  readonly status: 'active' | 'suspect' | 'down' | 'disabled'
  /** null when the gateway is first seen (its initial state). */
  readonly old_status: 'active' | 'suspect' | 'down' | 'disabled' | null
  readonly reason: string
}

/** A probe round found every gateway of a partition dead at once: state was frozen, not changed. */
export interface ProberBlindEvent {
  readonly partition: string
  readonly failed: number
  readonly reason: string
}

/** A partition reload finished (or failed, keeping the previous snapshot: version/checksum are what is served). */
export interface PartitionReloadEvent {
  readonly partition: string
  readonly ok: boolean
  readonly version: number | null
  readonly checksum: string | null
  readonly duration_ms: number
  /** Loaded and discarded rows per entity; null when the reload failed. */
  readonly counts: Readonly<Record<string, { readonly loaded: number, readonly discarded: number }>> | null
  readonly error?: string
  /** The partition no longer exists: its snapshot was dropped. */
  readonly removed?: boolean
}

/** E_CORE_THRESHOLD, as OpenSIPS raises it for slow work: a decision, a query or a reload over its limit. */
export interface ThresholdEvent {
  readonly source: 'routing_decision' | 'db_query' | 'reload'
  readonly time_us: number
  readonly threshold_us: number
  readonly extra: Readonly<Record<string, unknown>>
}

/** E_CORE_HEAP_THRESHOLD (OpenSIPS's E_CORE_SHM_THRESHOLD for the V8 heap): usage crossed the configured percentage. */
export interface HeapThresholdEvent {
  /** Percent of the heap limit in use. */
  readonly usage: number
  readonly threshold: number
  /** Bytes used and the heap's size limit. */
  readonly used: number
  readonly size: number
}

/** Every event the bus carries, by its OpenSIPS-style name. Later capabilities add theirs here. */
export interface EventMap {
  E_CORE_SR_STATUS_CHANGED: StatusChangedEvent
  E_GATEWAY_STATUS: GatewayStatusEvent
  E_PROBER_BLIND: ProberBlindEvent
  E_PARTITION_RELOAD: PartitionReloadEvent
  E_CORE_THRESHOLD: ThresholdEvent
  E_CORE_HEAP_THRESHOLD: HeapThresholdEvent
}

export type EventName = keyof EventMap
export type Listener<K extends EventName> = (payload: EventMap[K]) => void

export interface EventBus {
  on<K extends EventName>(name: K, listener: Listener<K>): () => void
  emit<K extends EventName>(name: K, payload: EventMap[K]): void
}

/**
 * Listeners run synchronously, in subscription order. A listener that throws is reported to
 * `onListenerError` and never stops the emitter or the other listeners: a broken webhook
 * subscriber must not break a status change.
 */
export function createEventBus (onListenerError: (err: unknown, name: EventName) => void): EventBus {
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  return {
    on (name, listener) {
      let set = listeners.get(name)
      if (set === undefined) {
        set = new Set()
        listeners.set(name, set)
      }
      set.add(listener)
      return () => { set.delete(listener) }
    },
    emit (name, payload) {
      const set = listeners.get(name)
      if (set === undefined) return
      for (const listener of set) {
        try {
          (listener as Listener<typeof name>)(payload)
        } catch (err) {
          onListenerError(err, name)
        }
      }
    }
  }
}
