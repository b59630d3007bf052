/** Real SIP over loopback: the npm `sip` sender and the prober against fake gateways built on the same package. */
import dgram from 'node:dgram'
import sip from 'sip'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { applyHealthEvent, DEFAULT_HEALTH_SETTINGS, initialHealth, type GatewayHealth, type HealthChange } from '../../src/dispatcher/gateway-state.js'
import { createOptionsProber, probeHealthEvent, type OptionsProber, type ProbeTarget } from '../../src/dispatcher/options-prober.js'
import { createSipOptionsSender } from '../../src/dispatcher/sip-options-sender.js'
import { guardSockets, reservePort } from '../../src/dispatcher/sip-stack.js'
import { startGateway, type FakeGateway, type Mode } from '../helpers/sip-gateway.js'

const TIMEOUT_MS = 300
const target = (gatewayId: string, uri: string): ProbeTarget => ({ partition: 'default', gatewayId, uri })

describe('SIP OPTIONS prober over real UDP', () => {
  const sender = createSipOptionsSender({ address: '127.0.0.1', userAgent: 'rtroute-test' })
  const prober: OptionsProber = createOptionsProber({ send: sender.send, now: Date.now, timeoutMs: TIMEOUT_MS, acceptCodes: [403], concurrency: 4 })
  const gateways: FakeGateway[] = []
  const start = async (mode: Mode, tcp = false): Promise<FakeGateway> => {
    const gateway = await startGateway(mode, tcp)
    gateways.push(gateway)
    return gateway
  }

  beforeAll(async () => { await sender.ready() })
  afterAll(() => {
    sender.close()
    for (const gateway of gateways) gateway.close()
  })

  it('binds a real port when asked for any', async () => {
    const { port } = await sender.ready()
    expect(port).toBeGreaterThan(0)
    expect(port).not.toBe(5060)
  })

  it('reports ok, negative and timeout within the configured timeout, in one round', async () => {
    const [ok, busy, silent, forbidden] = await Promise.all([start('ok'), start('busy'), start('silent'), start('forbidden')])
    const started = Date.now()
    const results = await prober.round([target('ok', ok.uri), target('busy', busy.uri), target('silent', silent.uri), target('forbidden', forbidden.uri)])
    const elapsed = Date.now() - started
    expect(results[0]).toMatchObject({ ok: true, status: 200, timeout: false, reason: '200 OK probing reply' })
    expect(results[1]).toMatchObject({ ok: false, status: 503, timeout: false, reason: 'negative probing reply 503 Service Unavailable' })
    expect(results[2]).toMatchObject({ ok: false, timeout: true, reason: `probe timeout after ${TIMEOUT_MS} ms` })
    expect(results[3]).toMatchObject({ ok: true, status: 403, reason: '403 Forbidden probing reply' })
    expect(results[0]?.latencyMs).toBeLessThan(TIMEOUT_MS)
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5)
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 700) // our own deadline, nowhere near Timer F's 32 s
    expect(silent.requests.length).toBeGreaterThan(0) // it did receive the probe, it just never answered
  })

  it('times out on a port where nothing listens (UDP gives no error back)', async () => {
    const port = await reservePort('127.0.0.1', 0, false)
    const result = await prober.probe(target('nobody', `sip:127.0.0.1:${port}`))
    expect(result).toMatchObject({ ok: false, timeout: true })
  })

  it('sends a well-formed OPTIONS with fresh identifiers per probe', async () => {
    const gateway = await start('ok')
    await prober.probe(target('gw', gateway.uri))
    await prober.probe(target('gw', gateway.uri))
    const [first, second] = gateway.requests
    expect(first?.method).toBe('OPTIONS')
    expect(first?.uri).toBe(gateway.uri)
    expect(Number(first?.headers['max-forwards'])).toBe(70) // parsed off the wire: strings
    expect(Number(first?.headers['content-length'])).toBe(0)
    expect(first?.headers.cseq).toEqual({ method: 'OPTIONS', seq: expect.any(Number) })
    expect(first?.headers['user-agent']).toBe('rtroute-test')
    expect(first?.headers.from.uri).toBe('sip:rtroute@rtroute.invalid')
    expect(first?.headers['call-id']).not.toBe(second?.headers['call-id'])
    expect(first?.headers.from.params.tag).not.toBe(second?.headers.from.params.tag)
    expect(first?.headers.via[0].params.branch).toMatch(/^z9hG4bK/)
    expect(second?.headers.cseq.seq).toBeGreaterThan(first?.headers.cseq.seq)
  })

  it('takes the stack’s own 408 (Timer F, 32 s) for a timeout, never for an answer', async () => {
    const silent = await start('silent')
    // Fake only the timers, so the transaction's Timer F can be reached now while the sockets stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      let settled = false
      const pending = sender.send(target('s', silent.uri), 60_000).finally(() => { settled = true })
      await vi.waitFor(() => { expect(silent.requests.length).toBeGreaterThan(0) }, { interval: 5 })
      await vi.advanceTimersByTimeAsync(31_000)
      expect(settled).toBe(false)
      await vi.advanceTimersByTimeAsync(1_500) // Timer F fires; our own 60 s deadline has not
      expect(settled).toBe(true)
      expect(await pending).toBe('timeout')
    } finally {
      vi.useRealTimers()
    }
  })

  it('refuses a TCP target when TCP is off, without sending anything', async () => {
    const result = await prober.probe(target('tcp', 'sip:127.0.0.1:5999;transport=tcp'))
    expect(result).toMatchObject({ ok: false, timeout: false, reason: 'failure to send probe: TCP transport not enabled on the prober' })
  })

  it('drives the state machine: down after N negative replies, up after M good probes and the hold', async () => {
    const gateway = await start('busy')
    const settings = DEFAULT_HEALTH_SETTINGS
    let clock = 1_000_000
    let health: GatewayHealth = initialHealth(clock)
    const changes: HealthChange[] = []
    const probeOnce = async (): Promise<void> => {
      const event = probeHealthEvent(await prober.probe(target('gw', gateway.uri)))
      const step = applyHealthEvent(health, event, { settings, probed: true, now: clock })
      health = step.health
      if (step.change !== undefined) changes.push(step.change)
      clock += 5_000
    }

    for (let i = 0; i < 3; i++) await probeOnce()
    expect(health.state).toBe('down')
    expect(changes.map((c) => c.reason)).toEqual([
      'failure 1 of 3 in 60 s: negative probing reply 503 Service Unavailable',
      '3 failures in 60 s: last negative probing reply 503 Service Unavailable'
    ])
    const downUntil = health.downUntil

    gateway.mode = 'ok'
    await probeOnce()
    expect(health).toMatchObject({ state: 'down', goodProbes: 1 })
    await probeOnce()
    expect(health).toMatchObject({ state: 'down', goodProbes: 2 }) // enough probes, but still inside the hold
    clock = downUntil
    await probeOnce()
    expect(health.state).toBe('active')
    expect(changes.at(-1)).toEqual({ from: 'down', to: 'active', reason: '2 good probes (200 OK)' })
  })

  it('settles probes in flight when closed, and refuses new ones', async () => {
    const silent = await start('silent')
    const own = createSipOptionsSender({ address: '127.0.0.1' })
    await own.ready()
    const pending = own.send(target('s', silent.uri), 10_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    own.close()
    expect(await pending).toEqual({ error: 'sender closed' })
    expect(await own.send(target('s', silent.uri), 10_000)).toEqual({ error: 'sender closed' })
  })

  it('reports a port it cannot bind instead of crashing', async () => {
    const { port } = await sender.ready()
    const clash = createSipOptionsSender({ address: '127.0.0.1', port })
    await expect(clash.ready()).rejects.toThrow(/cannot bind SIP port/)
    expect(await clash.send(target('x', 'sip:127.0.0.1:5060'), 100)).toMatchObject({ error: expect.stringMatching(/cannot bind SIP port/) })
    clash.close()
  })
})

describe('the sip package’s bare sockets', () => {
  it('route a bind failure to the error callback instead of crashing the process', async () => {
    const holder = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => { holder.bind(0, '127.0.0.1', () => { resolve() }) })
    const errors: Error[] = []
    const stack = guardSockets((err) => { errors.push(err) }, () =>
      sip.create({ address: '127.0.0.1', port: holder.address().port, tcp: false, publicAddress: 'x.invalid' }, () => {}))
    try {
      await vi.waitFor(() => { expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['EADDRINUSE']) })
    } finally {
      holder.close()
      try { stack.destroy() } catch { /* its socket never opened */ }
    }
  })
})

describe('SIP OPTIONS prober over real TCP', () => {
  it('probes a ;transport=tcp gateway when TCP is enabled', async () => {
    const gateway = await startGateway('ok', true)
    const sender = createSipOptionsSender({ address: '127.0.0.1', tcp: true })
    try {
      const prober = createOptionsProber({ send: sender.send, now: Date.now, timeoutMs: 1000, acceptCodes: [], concurrency: 1 })
      const result = await prober.probe(target('tcp', gateway.uri))
      expect(result).toMatchObject({ ok: true, status: 200, reason: '200 OK probing reply' })
    } finally {
      sender.close()
      gateway.close()
    }
  })
})
