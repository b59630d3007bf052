/** Webhook delivery against a real HTTP receiver on 127.0.0.1: the signature verifies, failures are retried with backoff, a dead receiver stays bounded. */
import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../src/observability/metrics.js'
import { createWebhookSender, retryDelay, sign, type WebhookSender } from '../../src/observability/webhook-sender.js'
import { until } from '../helpers/until.js'
import { samples } from './scrape.js'

interface Received { headers: http.IncomingHttpHeaders, body: string, at: number }

/** A receiver answering with the next status of `statuses` (the last one repeats). */
async function receiver (statuses: number[]) {
  const received: Received[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString('utf8') })
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() })
      res.writeHead(statuses.length > 1 ? (statuses.shift() as number) : (statuses[0] as number)).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: async () => await new Promise<void>((resolve) => server.close(() => { resolve() })) }
}

/** What a subscriber does: recompute the HMAC of the raw body and compare in constant time. */
function verify (secret: string, body: string, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(header ?? '')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const SECRET = 'a-secret-of-16+chars'
let sender: WebhookSender | undefined
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  sender?.stop()
  for (const close of closers.splice(0)) await close()
})

function setup (overrides: Partial<Parameters<typeof createWebhookSender>[0]> = {}) {
  const registry = new Registry()
  sender = createWebhookSender({ metrics: createMetrics(registry), log: pino({ level: 'silent' }), queueMax: 3, timeoutMs: 2000, retryMinMs: 20, retryMaxMs: 200, maxAttempts: 4, random: () => 1, ...overrides })
  return { registry, sender }
}

describe('webhook sender', () => {
  it('signs the exact body: X-Rtroute-Signature verifies with the secret, with a timestamp and a delivery id', async () => {
    const r = await receiver([204])
    closers.push(r.close)
    const { sender } = setup({ now: () => 1_767_225_600_000 })
    const body = JSON.stringify({ subject: 'x', events: [{ event: 'E_GATEWAY_STATUS' }] })
    sender.enqueue({ id: 's1', url: r.url, secret: SECRET }, body)
    await until(async () => r.received.length, (n) => n === 1)
    const got = r.received[0] as Received
    expect(got.body).toBe(body)
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['x-rtroute-timestamp']).toBe('1767225600')
    expect(got.headers['x-rtroute-delivery']).toMatch(/^[0-9a-f-]{36}$/)
    expect(got.headers['x-rtroute-signature']).toBe(sign(SECRET, body))
    expect(verify(SECRET, got.body, got.headers['x-rtroute-signature'] as string)).toBe(true)
    expect(verify('another-secret-16chars', got.body, got.headers['x-rtroute-signature'] as string)).toBe(false)
    expect(verify(SECRET, got.body.replace('x', 'y'), got.headers['x-rtroute-signature'] as string)).toBe(false)
  })

  it('retries a failing receiver with exponential backoff, same delivery id, until it answers 2xx', async () => {
    const r = await receiver([500, 503, 200])
    closers.push(r.close)
    const { sender, registry } = setup()
    sender.enqueue({ id: 's1', url: r.url, secret: SECRET }, '{"n":1}')
    await until(async () => r.received.length, (n) => n === 3)
    const [a, b, c] = r.received as [Received, Received, Received]
    // random() = 1: the full doubled delay, 20 then 40 ms.
    expect(b.at - a.at).toBeGreaterThanOrEqual(18)
    expect(c.at - b.at).toBeGreaterThanOrEqual(38)
    expect(new Set(r.received.map((x) => x.headers['x-rtroute-delivery'])).size).toBe(1)
    await until(async () => sender.depths()[0]?.depth, (d) => d === 0)
    const s = samples(await registry.metrics())
    expect(s.get('rtroute_event_deliveries_total{channel="webhook",result="retried"}')).toBe(2)
    expect(s.get('rtroute_event_deliveries_total{channel="webhook",result="ok"}')).toBe(1)
  })

  it('gives up after the last attempt and goes on with the next body', async () => {
    const r = await receiver([500, 500, 500, 500, 200])
    closers.push(r.close)
    const { sender, registry } = setup()
    sender.enqueue({ id: 's1', url: r.url, secret: SECRET }, '{"n":1}')
    sender.enqueue({ id: 's1', url: r.url, secret: SECRET }, '{"n":2}')
    await until(async () => r.received.length, (n) => n === 5)
    expect(r.received.map((x) => x.body)).toEqual(['{"n":1}', '{"n":1}', '{"n":1}', '{"n":1}', '{"n":2}'])
    const s = samples(await registry.metrics())
    expect(s.get('rtroute_event_deliveries_total{channel="webhook",result="gave_up"}')).toBe(1)
  })

  it('a dead receiver cannot grow memory: a fixed queue, the oldest dropped and counted', async () => {
    const r = await receiver([503])
    closers.push(r.close)
    const { sender, registry } = setup({ retryMinMs: 60_000, retryMaxMs: 60_000 })
    for (let n = 1; n <= 20; n++) sender.enqueue({ id: 's1', url: r.url, secret: SECRET }, `{"n":${n}}`)
    await until(async () => r.received.length, (n) => n === 1)
    // One in flight (retrying later) plus queueMax (3) waiting, whatever was sent.
    expect(sender.depths()).toEqual([{ subscription: 's1', depth: 4 }])
    const s = samples(await registry.metrics())
    expect(s.get('rtroute_event_deliveries_total{channel="webhook",result="dropped"}')).toBe(16)
    sender.retain(new Set())
    expect(sender.depths()).toEqual([])
  })

  it('an unreachable receiver is a failure like any other', async () => {
    const { sender, registry } = setup({ maxAttempts: 2 })
    sender.enqueue({ id: 's1', url: 'http://127.0.0.1:9/nothing-listens', secret: SECRET }, '{}')
    await until(async () => samples(await registry.metrics()).get('rtroute_event_deliveries_total{channel="webhook",result="gave_up"}'), (n) => n === 1)
  })

  it('backoff doubles up to the cap, with equal jitter', () => {
    expect([1, 2, 3, 10].map((a) => retryDelay(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 1000])
    expect(retryDelay(3, 100, 1000, () => 0)).toBe(200)
  })
})
