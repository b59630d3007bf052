/**
 * The health store's write queue: gateway events wait here, oldest first, until the database has
 * them. Capped at `max`: when full, a new event drops the oldest. One drain at a time writes the
 * head event; a failed write is retried with backoff and the event stays at the head. Every event
 * is also listed under its key (partition and gateway), in the same order, so replaying one
 * gateway's events never scans the whole queue. Both ends are O(1): after a long outage the queue
 * is full and every new event drops one.
 */
import { backoffDelay } from '../retry.js'

/** First in, first out over a ring that doubles when full: push and shift are O(1). */
class Fifo<T> {
  private items: Array<T | undefined>
  private head = 0
  private count = 0

  constructor (capacity = 4) {
    this.items = new Array<T | undefined>(Math.max(1, capacity))
  }

  get length (): number { return this.count }

  /** The oldest item, left in place. */
  peek (): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  push (item: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
  }

  shift (): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    return item
  }

  * [Symbol.iterator] (): Iterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.items.length] as T
  }

  private grow (): void {
    const items = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.count; i++) items[i] = this.items[(this.head + i) % this.items.length]
    this.items = items
    this.head = 0
  }
}

export interface EventQueueOptions<T, R> {
  /** Events kept while the database is away; past it the oldest is dropped. */
  readonly max: number
  /** Events of one key are listed together (`of`), in queue order. */
  readonly keyOf: (item: T) => string
  /** Writes the head event to the database. */
  readonly write: (item: T) => Promise<R>
  /** The head event was written and has left the queue. */
  readonly written: (item: T, result: R) => void
  /** The queue was full: `item`, the oldest, has left it unwritten (`total` drops so far). */
  readonly dropped: (item: T, total: number) => void
  /** A write failed (`failures` in a row); the drain is retried after a backoff. */
  readonly failed: (err: unknown, failures: number) => void
  readonly retryMinMs: number
  readonly retryMaxMs: number
  readonly random?: () => number
}

export interface EventQueue<T> {
  readonly length: number
  /** Events dropped because the queue was full. */
  readonly dropped: number
  /** The oldest event: the next one (or the one being) written. */
  head: () => T | undefined
  /** Queues an event at the tail, first dropping the oldest when the queue is full. Does not start a drain. */
  push: (item: T) => void
  /** Removes the head event (its write was confirmed another way: our own notification came first). */
  shift: () => T | undefined
  /** The queued events of one key, oldest first. */
  of: (key: string) => Iterable<T>
  /** Writes every queued event, in order; resolves when the queue is empty, a write failed (a retry is scheduled) or the queue stopped. */
  drain: () => Promise<void>
  /** No more writes or retries. */
  stop: () => void
}

const NONE: readonly never[] = []

export function createEventQueue<T, R> (options: EventQueueOptions<T, R>): EventQueue<T> {
  const { keyOf } = options
  const random = options.random ?? Math.random
  const queue = new Fifo<T>(1024)
  const byKey = new Map<string, Fifo<T>>()
  let draining: Promise<void> | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let failures = 0
  let dropped = 0
  let stopped = false

  /** Per key, queue order is kept: the head of the queue heads its key's list too. */
  const shift = (): T | undefined => {
    const item = queue.shift()
    if (item === undefined) return undefined
    const key = keyOf(item)
    const list = byKey.get(key)
    list?.shift()
    if (list?.length === 0) byKey.delete(key)
    return item
  }

  const push = (item: T): void => {
    if (queue.length >= options.max && queue.length > 0) options.dropped(shift() as T, ++dropped)
    queue.push(item)
    const key = keyOf(item)
    const list = byKey.get(key)
    if (list === undefined) {
      const created = new Fifo<T>()
      created.push(item)
      byKey.set(key, created)
    } else {
      list.push(item)
    }
  }

  function retryLater (): void {
    if (retryTimer !== undefined || stopped) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void drain()
    }, backoffDelay(failures - 1, options.retryMinMs, options.retryMaxMs, random))
  }

  async function drain (): Promise<void> {
    if (draining !== undefined) return await draining
    draining = (async () => {
      while (queue.length > 0 && !stopped) {
        const item = queue.peek() as T
        try {
          const result = await options.write(item)
          // Our own notification may have retired it already; an overflow may have dropped it.
          if (queue.peek() === item) shift()
          failures = 0
          options.written(item, result)
        } catch (err) {
          failures++
          options.failed(err, failures)
          retryLater()
          return
        }
      }
    })().finally(() => {
      draining = undefined
      // An event pushed after the loop saw an empty queue, but before this ran, found a drain
      // still "running" and relied on it: pick it up now (unless a retry is scheduled).
      if (queue.length > 0 && retryTimer === undefined && !stopped) void drain()
    })
    return await draining
  }

  return {
    get length (): number { return queue.length },
    get dropped (): number { return dropped },
    head: () => queue.peek(),
    push,
    shift,
    of: (key) => byKey.get(key) ?? NONE,
    drain,
    stop (): void {
      stopped = true
      if (retryTimer !== undefined) clearTimeout(retryTimer)
    }
  }
}
