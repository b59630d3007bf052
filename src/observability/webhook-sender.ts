/**
 * Webhook delivery: each body is POSTed signed (X-Rtroute-Signature: sha256=<HMAC-SHA256 of the
 * body>), one at a time per subscriber, retried with exponential backoff. Memory is bounded per
 * subscriber: one delivery in flight plus a fixed queue whose oldest entry is dropped (and
 * counted) when full, so a dead receiver costs at most queueMax bodies.
 */
import { createHmac, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.js'

export const SIGNATURE_HEADER = 'x-rtroute-signature'
export const TIMESTAMP_HEADER = 'x-rtroute-timestamp'
export const DELIVERY_HEADER = 'x-rtroute-delivery'

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes with the subscription's secret. */
export function sign (secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export interface WebhookTarget {
  readonly id: string
  readonly url: string
  readonly secret: string
}

interface Item { readonly delivery: string, readonly body: string, attempts: number }

interface Subscriber {
  target: WebhookTarget
  readonly queue: Item[]
  /** The body being delivered or waiting for its retry: outside the queue, so overflow never drops it mid-flight. */
  current: Item | undefined
  busy: boolean
  timer: NodeJS.Timeout | undefined
  gone: boolean
}

export interface WebhookSenderOptions {
  readonly metrics: Pick<Metrics, 'deliveries'>
  readonly log: Logger
  readonly queueMax: number
  readonly timeoutMs: number
  readonly retryMinMs: number
  readonly retryMaxMs: number
  readonly maxAttempts: number
  readonly userAgent?: string
  readonly fetch?: typeof fetch
  readonly now?: () => number
  readonly random?: () => number
}

/** Exponential backoff with equal jitter: half the doubled delay is fixed, half random. */
export function retryDelay (attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(base / 2 + (base / 2) * random())
}

export interface WebhookSender {
  /** Queues one body for a subscriber; when the queue is full the oldest waiting body is dropped. */
  enqueue: (target: WebhookTarget, body: string) => void
  /** Forgets subscribers that are no longer subscribed (deleted or expired), queue and all. */
  retain: (ids: ReadonlySet<string>) => void
  /** Bodies waiting (in flight or retrying included) per subscriber. */
  depths: () => Array<{ subscription: string, depth: number }>
  stop: () => void
}

export function createWebhookSender (options: WebhookSenderOptions): WebhookSender {
  const { metrics, log, queueMax, maxAttempts } = options
  const post = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const subscribers = new Map<string, Subscriber>()
  const counters = {
    ok: metrics.deliveries.labels('webhook', 'ok'),
    retried: metrics.deliveries.labels('webhook', 'retried'),
    gaveUp: metrics.deliveries.labels('webhook', 'gave_up'),
    dropped: metrics.deliveries.labels('webhook', 'dropped')
  }
  let stopped = false

  async function deliver (target: WebhookTarget, item: Item): Promise<string | undefined> {
    try {
      const res = await post(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'rtroute',
          [SIGNATURE_HEADER]: sign(target.secret, item.body),
          [TIMESTAMP_HEADER]: String(Math.floor(now() / 1000)),
          [DELIVERY_HEADER]: item.delivery
        },
        body: item.body,
        // A redirect would re-send the signed body somewhere the subscriber did not name.
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs)
      })
      await res.arrayBuffer().catch(() => undefined)
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`
    } catch (err) {
      return err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err)
    }
  }

  function pump (sub: Subscriber): void {
    if (stopped || sub.gone || sub.busy || sub.timer !== undefined) return
    const item = sub.current ?? sub.queue.shift()
    if (item === undefined) return
    sub.current = item
    sub.busy = true
    void deliver(sub.target, item).then((error) => {
      sub.busy = false
      if (stopped || sub.gone) return
      item.attempts++
      if (error === undefined) {
        counters.ok.inc()
        sub.current = undefined
      } else if (item.attempts >= maxAttempts) {
        counters.gaveUp.inc()
        log.warn({ subscription: sub.target.id, url: sub.target.url, attempts: item.attempts, error }, 'webhook delivery given up')
        sub.current = undefined
      } else {
        counters.retried.inc()
        const delay = retryDelay(item.attempts, options.retryMinMs, options.retryMaxMs, random)
        if (item.attempts === 1) log.warn({ subscription: sub.target.id, url: sub.target.url, error, retryInMs: delay }, 'webhook delivery failed; retrying')
        sub.timer = setTimeout(() => {
          sub.timer = undefined
          pump(sub)
        }, delay)
        sub.timer.unref()
        return
      }
      pump(sub)
    })
  }

  return {
    enqueue (target, body) {
      let sub = subscribers.get(target.id)
      if (sub === undefined) {
        sub = { target, queue: [], current: undefined, busy: false, timer: undefined, gone: false }
        subscribers.set(target.id, sub)
      }
      sub.target = target
      if (sub.queue.length >= queueMax) {
        sub.queue.shift()
        counters.dropped.inc()
      }
      sub.queue.push({ delivery: randomUUID(), body, attempts: 0 })
      pump(sub)
    },
    retain (ids) {
      for (const [id, sub] of subscribers) {
        if (ids.has(id)) continue
        sub.gone = true
        if (sub.timer !== undefined) clearTimeout(sub.timer)
        subscribers.delete(id)
      }
    },
    depths () {
      return [...subscribers.values()].map((s) => ({ subscription: s.target.id, depth: s.queue.length + (s.current === undefined ? 0 : 1) }))
    },
    stop () {
      stopped = true
      for (const sub of subscribers.values()) if (sub.timer !== undefined) clearTimeout(sub.timer)
    }
  }
}
