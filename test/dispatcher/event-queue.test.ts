/** The health store's write queue: order, the cap (drop-oldest), per-key lists, retries with backoff. */
import { describe, expect, it } from 'vitest'
import { createEventQueue, type EventQueueOptions } from '../../src/dispatcher/event-queue.js'

interface Item { readonly key: string, readonly n: number }

function setup (overrides: Partial<EventQueueOptions<Item, number>> = {}) {
  const written: Item[] = []
  const dropped: Array<{ item: Item, total: number }> = []
  const failures: number[] = []
  const queue = createEventQueue<Item, number>({
    max: 10,
    keyOf: (item) => item.key,
    write: async (item) => item.n,
    written: (item) => { written.push(item) },
    dropped: (item, total) => { dropped.push({ item, total }) },
    failed: (_err, n) => { failures.push(n) },
    retryMinMs: 5,
    retryMaxMs: 20,
    random: () => 0,
    ...overrides
  })
  return { queue, written, dropped, failures }
}

const item = (n: number, key = 'a'): Item => ({ key, n })

describe('event queue', () => {
  it('writes every event once, oldest first', async () => {
    const { queue, written } = setup()
    for (let n = 0; n < 5; n++) queue.push(item(n, n % 2 === 0 ? 'a' : 'b'))
    expect(queue.length).toBe(5)
    await queue.drain()
    expect(written.map((i) => i.n)).toEqual([0, 1, 2, 3, 4])
    expect(queue.length).toBe(0)
    expect(queue.head()).toBeUndefined()
  })

  it('lists each key\'s events in queue order, and forgets a key once its events are gone', () => {
    const { queue } = setup()
    for (let n = 0; n < 6; n++) queue.push(item(n, n < 4 ? 'a' : 'b'))
    expect([...queue.of('a')].map((i) => i.n)).toEqual([0, 1, 2, 3])
    expect([...queue.of('b')].map((i) => i.n)).toEqual([4, 5])
    for (let n = 0; n < 4; n++) queue.shift()
    expect([...queue.of('a')]).toEqual([])
    expect([...queue.of('b')].map((i) => i.n)).toEqual([4, 5])
    expect([...queue.of('c')]).toEqual([])
  })

  it('when full, each new event drops the oldest, in order, counted', () => {
    const { queue, dropped } = setup({ max: 3 })
    for (let n = 0; n < 5; n++) queue.push(item(n))
    expect(queue.length).toBe(3)
    expect(queue.dropped).toBe(2)
    expect(dropped).toEqual([{ item: item(0), total: 1 }, { item: item(1), total: 2 }])
    expect([...queue.of('a')].map((i) => i.n)).toEqual([2, 3, 4])
    expect(queue.head()).toEqual(item(2))
  })

  it('holds RTROUTE_HEALTH_QUEUE_MAX (100,000) events; 200,000 more at the cap each drop the oldest, order kept', async () => {
    const max = 100_000
    let drops = 0
    let lastDropped = -1
    let inOrder = true
    const { queue, written } = setup({
      max,
      dropped: (lost, total) => {
        if (lost.n !== lastDropped + 1 || total !== drops + 1) inOrder = false
        lastDropped = lost.n
        drops = total
      }
    })
    const keys = ['a', 'b', 'c', 'd']
    for (let n = 0; n < max; n++) queue.push(item(n, keys[n % 4] as string))
    expect(queue.length).toBe(max)
    expect(queue.dropped).toBe(0)
    for (let n = max; n < 3 * max; n++) queue.push(item(n, keys[n % 4] as string))
    expect(queue.length).toBe(max)
    expect(queue.dropped).toBe(2 * max)
    expect(drops).toBe(2 * max)
    expect(lastDropped).toBe(2 * max - 1)
    expect(inOrder).toBe(true)
    expect(queue.head()).toEqual(item(2 * max, 'a'))
    const ofB = [...queue.of('b')].map((i) => i.n)
    expect(ofB).toHaveLength(max / 4)
    expect(ofB.every((n, i) => n === 2 * max + 1 + 4 * i)).toBe(true)
    await queue.drain()
    expect(written).toHaveLength(max)
    expect(written.every((w, i) => w.n === 2 * max + i)).toBe(true)
  })

  it('keeps a failed event at the head and retries it with backoff until the write succeeds', async () => {
    let down = true
    const attempts: number[] = []
    const { queue, written, failures } = setup({
      write: async (i) => {
        attempts.push(i.n)
        if (down) throw new Error('connect ECONNREFUSED')
        return i.n
      }
    })
    queue.push(item(1))
    queue.push(item(2))
    await queue.drain()
    expect(written).toEqual([])
    expect(queue.length).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(failures.length).toBeGreaterThanOrEqual(2)
    expect(failures.slice(0, 2)).toEqual([1, 2])
    expect(new Set(attempts)).toEqual(new Set([1]))
    down = false
    for (let i = 0; i < 100 && queue.length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(written.map((w) => w.n)).toEqual([1, 2])
    queue.stop()
  })

  it('does not retire the next event when the written one was already retired (its own notification came first)', async () => {
    const { queue, written } = setup({
      write: async (i) => {
        // The notification of this write arrives before the write returns: the head is retired here.
        if (queue.head() === i) queue.shift()
        return i.n
      }
    })
    queue.push(item(1))
    queue.push(item(2))
    await queue.drain()
    expect(written.map((w) => w.n)).toEqual([1, 2])
    expect(queue.length).toBe(0)
  })

  it('picks up an event pushed while a drain is finishing', async () => {
    const { queue, written } = setup()
    queue.push(item(1))
    const draining = queue.drain()
    queue.push(item(2))
    await draining
    for (let i = 0; i < 100 && queue.length > 0; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(written.map((w) => w.n)).toEqual([1, 2])
  })

  it('writes nothing once stopped', async () => {
    const { queue, written } = setup()
    queue.stop()
    queue.push(item(1))
    await queue.drain()
    expect(written).toEqual([])
    expect(queue.length).toBe(1)
  })
})
