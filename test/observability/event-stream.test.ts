/** The SSE stream: chosen events as frames, heartbeats, and a bounded buffer that drops a client that does not read. */
import { EventEmitter } from 'node:events'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEventBus } from '../../src/events.js'
import { createEventStream, parseEventNames, type StreamSink } from '../../src/observability/event-stream.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { samples } from './scrape.js'

/** A connection whose socket buffer is "full" while `blocked`: write() returns false until drained. */
class FakeSink extends EventEmitter implements StreamSink {
  readonly written: string[] = []
  blocked = false
  destroyed = false
  ended = false
  write (chunk: string): boolean { this.written.push(chunk); return !this.blocked }
  end (): void { this.ended = true }
  destroy (): void { this.destroyed = true; this.emit('close') }
  drain (): void { this.blocked = false; this.emit('drain') }
  frames (): Array<{ event?: string, id?: string, data?: any }> {
    return this.written.filter((w) => w.startsWith('id: ')).map((w) => {
      const fields = Object.fromEntries(w.trim().split('\n').map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]))
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? 'null') }
    })
  }
}

const gatewayDown = { partition: 'p', gateway: 'a', address: 'sip:10.0.0.1', status: 'down' as const, old_status: 'suspect' as const, reason: '3 failures' }

function setup (bufferMax = 5) {
  const bus = createEventBus((err) => { throw err })
  const registry = new Registry()
  const metrics = createMetrics(registry)
  const stream = createEventStream({ bus, metrics, bufferMax, heartbeatMs: 1000, instance: 'i1', now: () => Date.UTC(2026, 0, 1) })
  return { bus, registry, stream }
}

afterEach(() => { vi.useRealTimers() })

describe('parseEventNames', () => {
  it('takes a comma list, defaults to every event, and reports unknown names', () => {
    expect([...parseEventNames('E_GATEWAY_STATUS, E_PARTITION_RELOAD').names]).toEqual(['E_GATEWAY_STATUS', 'E_PARTITION_RELOAD'])
    expect(parseEventNames(undefined).names.size).toBe(6)
    expect(parseEventNames('E_GATEWAY_STATUS,E_NOPE').unknown).toEqual(['E_NOPE'])
  })
})

describe('event stream', () => {
  it('sends each chosen event as one frame with id, name and the envelope; others are not sent', () => {
    const { bus, stream } = setup()
    const sink = new FakeSink()
    stream.attach(sink, parseEventNames('E_GATEWAY_STATUS').names)
    expect(sink.written[0]).toMatch(/^retry: 5000\n: rtroute events E_GATEWAY_STATUS\n\n$/)
    bus.emit('E_GATEWAY_STATUS', gatewayDown)
    bus.emit('E_PROBER_BLIND', { partition: 'p', failed: 2, reason: 'all silent' })
    expect(sink.frames()).toEqual([{ id: '1', event: 'E_GATEWAY_STATUS', data: { event: 'E_GATEWAY_STATUS', time: '2026-01-01T00:00:00.000Z', instance: 'i1', params: gatewayDown } }])
    expect(stream.clients).toBe(1)
    sink.emit('close')
    expect(stream.clients).toBe(0)
  })

  it('buffers for a client that is not draining, flushes on drain, and drops it past the bound', async () => {
    const { bus, stream, registry } = setup(3)
    const slow = new FakeSink()
    const fast = new FakeSink()
    stream.attach(slow, parseEventNames(undefined).names)
    stream.attach(fast, parseEventNames(undefined).names)
    slow.blocked = true
    bus.emit('E_GATEWAY_STATUS', gatewayDown) // written; the socket says "full"
    for (let i = 0; i < 3; i++) bus.emit('E_GATEWAY_STATUS', gatewayDown) // queued: 3 of 3
    expect(slow.written).toHaveLength(2)
    slow.drain()
    expect(slow.frames()).toHaveLength(4)
    slow.blocked = true
    for (let i = 0; i < 5; i++) bus.emit('E_GATEWAY_STATUS', gatewayDown)
    expect(slow.destroyed).toBe(true)
    expect(stream.clients).toBe(1)
    expect(fast.frames()).toHaveLength(9)
    const s = samples(await registry.metrics())
    expect(s.get('rtroute_sse_clients_dropped_total')).toBe(1)
    expect(s.get('rtroute_event_deliveries_total{channel="sse",result="dropped"}')).toBe(1)
  })

  it('sends heartbeat comments, which also find a client that never reads', () => {
    vi.useFakeTimers()
    const { stream } = setup(2)
    const sink = new FakeSink()
    stream.attach(sink, parseEventNames(undefined).names)
    vi.advanceTimersByTime(1000)
    expect(sink.written.at(-1)).toMatch(/^: heartbeat 2026-01-01T00:00:00.000Z\n\n$/)
    sink.blocked = true
    vi.advanceTimersByTime(4000)
    expect(sink.destroyed).toBe(true)
  })

  it('close() ends every stream (so the server can shut down)', () => {
    const { stream } = setup()
    const sink = new FakeSink()
    stream.attach(sink, parseEventNames(undefined).names)
    stream.close()
    expect(sink.ended).toBe(true)
    expect(stream.clients).toBe(0)
  })
})
