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

/** Every event the bus carries, by its OpenSIPS-style name. Later capabilities add theirs here. */
export interface EventMap {
  E_CORE_SR_STATUS_CHANGED: StatusChangedEvent
  E_GATEWAY_STATUS: GatewayStatusEvent
  E_PROBER_BLIND: ProberBlindEvent
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
