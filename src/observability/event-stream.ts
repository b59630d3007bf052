/**
 * Live events as Server-Sent Events: every bus event goes, as one frame, to each connected client
 * that asked for it. A client that does not keep up has a bounded buffer; past it the client is
 * dropped (and counted) rather than letting its backlog grow the heap. Heartbeat comments keep
 * proxies from closing an idle stream and find dead clients through the same bound.
 */
import type { EventBus, EventMap, EventName } from '../events.js'
import type { Metrics } from './metrics.js'

/** Every event name the bus carries; the check below fails to compile when EventMap grows without it. */
export const EVENT_NAMES = [
  'E_CORE_SR_STATUS_CHANGED', 'E_GATEWAY_STATUS', 'E_PROBER_BLIND', 'E_PARTITION_RELOAD', 'E_CORE_THRESHOLD', 'E_CORE_HEAP_THRESHOLD'
] as const satisfies readonly EventName[]
type Unlisted = Exclude<EventName, typeof EVENT_NAMES[number]>
const allListed: [Unlisted] extends [never] ? true : never = true
void allListed

/** What SSE frames and alert summaries carry for one event. */
export interface EventEnvelope<K extends EventName = EventName> {
  readonly event: K
  readonly time: string
  readonly instance: string
  readonly params: EventMap[K]
}

/** `E_A,E_B` → the names; unknown names are listed so the caller can answer 400. */
export function parseEventNames (text: string | undefined): { names: ReadonlySet<EventName>, unknown: string[] } {
  if (text === undefined || text.trim() === '') return { names: new Set(EVENT_NAMES), unknown: [] }
  const asked = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const unknown = asked.filter((name) => !(EVENT_NAMES as readonly string[]).includes(name))
  return { names: new Set(asked.filter((name): name is EventName => !unknown.includes(name))), unknown }
}

/** What a client connection must offer (an http.ServerResponse does). */
export interface StreamSink {
  write: (chunk: string) => boolean
  end: () => void
  destroy: () => void
  once: (event: 'drain', listener: () => void) => unknown
  on: (event: 'close', listener: () => void) => unknown
}

interface Client {
  readonly sink: StreamSink
  readonly names: ReadonlySet<EventName>
  readonly queue: string[]
  waiting: boolean
  closed: boolean
}

export interface EventStreamOptions {
  readonly bus: EventBus
  readonly metrics: Pick<Metrics, 'deliveries' | 'sseDropped'>
  /** Frames kept for a client whose connection is not draining; past it the client is dropped. */
  readonly bufferMax: number
  readonly heartbeatMs: number
  readonly instance: string
  readonly now?: () => number
}

export interface EventStream {
  /** Streams the chosen events to `sink` until it closes (or is dropped for not keeping up). */
  attach: (sink: StreamSink, names: ReadonlySet<EventName>) => void
  /** Connected clients. */
  readonly clients: number
  /** Ends every stream (server shutdown: an open stream would hold the listener open). */
  close: () => void
}

export function createEventStream (options: EventStreamOptions): EventStream {
  const { bus, metrics, bufferMax, instance } = options
  const now = options.now ?? Date.now
  const clients = new Set<Client>()
  const sent = metrics.deliveries.labels('sse', 'sent')
  const dropped = metrics.deliveries.labels('sse', 'dropped')
  let seq = 0
  let heartbeat: NodeJS.Timeout | undefined

  const remove = (client: Client): void => {
    client.closed = true
    clients.delete(client)
    if (clients.size === 0 && heartbeat !== undefined) {
      clearInterval(heartbeat)
      heartbeat = undefined
    }
  }
  const drop = (client: Client): void => {
    remove(client)
    metrics.sseDropped.inc()
    client.sink.destroy()
  }
  const flush = (client: Client): void => {
    client.waiting = false
    while (client.queue.length > 0 && !client.closed) {
      if (!client.sink.write(client.queue.shift() as string)) {
        client.waiting = true
        client.sink.once('drain', () => { flush(client) })
        return
      }
    }
  }
  /** false when the client was dropped. */
  const push = (client: Client, frame: string): boolean => {
    if (client.closed) return false
    if (client.waiting) {
      if (client.queue.length >= bufferMax) {
        drop(client)
        return false
      }
      client.queue.push(frame)
      return true
    }
    if (!client.sink.write(frame)) {
      client.waiting = true
      client.sink.once('drain', () => { flush(client) })
    }
    return true
  }

  const broadcast = <K extends EventName>(name: K, params: EventMap[K]): void => {
    if (clients.size === 0) return
    const envelope: EventEnvelope<K> = { event: name, time: new Date(now()).toISOString(), instance, params }
    const frame = `id: ${++seq}\nevent: ${name}\ndata: ${JSON.stringify(envelope)}\n\n`
    for (const client of clients) {
      if (!client.names.has(name)) continue
      if (push(client, frame)) sent.inc()
      else dropped.inc()
    }
  }
  const unsubscribe = EVENT_NAMES.map((name) => bus.on(name, (payload) => { broadcast(name, payload) }))

  return {
    attach (sink, names) {
      const client: Client = { sink, names, queue: [], waiting: false, closed: false }
      clients.add(client)
      sink.on('close', () => { remove(client) })
      push(client, `retry: 5000\n: rtroute events ${[...names].join(',')}\n\n`)
      heartbeat ??= setInterval(() => {
        const line = `: heartbeat ${new Date(now()).toISOString()}\n\n`
        for (const c of clients) push(c, line)
      }, options.heartbeatMs)
      heartbeat.unref()
    },
    get clients () { return clients.size },
    close () {
      for (const client of [...clients]) {
        remove(client)
        client.sink.end()
      }
      for (const off of unsubscribe) off()
    }
  }
}
