/**
 * The routing scenarios every proxy's shipped config must pass end to end: SIPp calls through the
 * proxy, which asks a real rtroute (the built CLI on a fresh database) and relays to SIPp
 * gateways; everything on 127.0.0.1. kamailio.test.ts and opensips.test.ts run them.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it } from 'vitest'
import { freePort } from '../../../src/embedded-postgres.js'
import { startRtroute } from '../helpers/rtroute.js'
import { describeCall } from '../helpers/sipp.js'
import type { ProxyStack } from '../helpers/stack.js'

/** Registers the scenarios in the calling describe block, against its stack. */
export function routingScenarios (s: ProxyStack): void {
  const PARTITION = s.partition
  const { gateway, call, dumpOnFailure } = s
  // Feedback leaves the proxy from an async worker, after the call's own answer: on a busy
  // 2-core machine it can take more than expect.poll's default second.
  const FEEDBACK_WAIT = { timeout: 5000, interval: 50 }
  const feedbackFor = (callId: string) => s.recorder.on('/kamailio/feedback').filter((e) => e.request?.call_id === callId)

  it('a routed call completes', async () => {
    dumpOnFailure()
    const gw = await gateway('uk', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'uk', address: gw.address, prefix: '00', strip: 1 }],
      rules: [{ groups: ['default'], prefix: '+44', targets: [{ gateway: 'uk' }] }]
    })

    const result = await call('+442071838750')
    expect(result.exitCode, describeCall(result)).toBe(0)

    // What the proxy asked, built from the INVITE (jansson in Kamailio, $json in OpenSIPS).
    const [callId] = result.callIds
    const query = s.recorder.on('/kamailio/rtjson').find((e) => e.request?.call_id === callId)
    expect(query?.request).toEqual({
      call_id: callId,
      request_uri: `sip:+442071838750@127.0.0.1:${s.proxy.port}`,
      to_uri: `sip:+442071838750@127.0.0.1:${s.proxy.port}`,
      from_uri: `sip:alice@127.0.0.1:${result.callerPort}`,
      from_tag: expect.any(String),
      from_name: 'Alice Caller',
      source_ip: '127.0.0.1',
      source_port: result.callerPort,
      event: 'sip-routing',
      auth: 0,
      partition: PARTITION
    })
    expect(query?.status).toBe(200)

    // What the gateway got: the route's R-URI (strip 1, prefix 00) and the extra header.
    const invites = await gw.invites()
    expect(invites.map((i) => i.callId)).toEqual([callId])
    expect(invites[0]?.requestUri).toBe(`sip:00442071838750@${gw.address}`)
    expect(invites[0]?.headers.get('x-rtroute-gw')).toBe('uk')
    expect(feedbackFor(callId ?? '')).toEqual([])

    // uri, dst_uri and headers.extra are applied as answered, each on its own: an R-URI host that
    // resolves nowhere still reaches the gateway through dst_uri, with every extra header line.
    s.recorder.rewrite('/kamailio/rtjson', (answer) => {
      const [route] = answer.rtjson.routes
      route.uri = 'sip:00442071838750@carrier.rtroute.invalid;user=phone'
      route.headers.extra = `${String(route.headers.extra)}X-Rtroute-Leg: rewritten\r\n`
      return answer
    })
    try {
      const again = await call('+442071838750')
      expect(again.exitCode, describeCall(again)).toBe(0)
      const [second] = (await gw.invites()).filter((i) => i.callId === again.callIds[0])
      expect(second?.requestUri).toBe('sip:00442071838750@carrier.rtroute.invalid;user=phone')
      expect(second?.headers.get('x-rtroute-gw')).toBe('uk')
      expect(second?.headers.get('x-rtroute-leg')).toBe('rewritten')
    } finally {
      s.recorder.rewrite('/kamailio/rtjson')
    }
  })

  it('fails over to the next route when the first gateway answers 503', async () => {
    dumpOnFailure()
    const busy = await gateway('busy', { kind: 'reject', code: 503, reason: 'Service Unavailable' })
    const backup = await gateway('backup', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'busy', address: busy.address, probe_mode: 'never' }, { id: 'backup', address: backup.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'busy' }, { gateway: 'backup' }] }]
    })

    const result = await call('442071838750')
    expect(result.exitCode, describeCall(result)).toBe(0)
    const callId = result.callIds[0] ?? ''
    expect((await busy.invites()).map((i) => i.callId)).toEqual([callId])
    expect((await backup.invites()).map((i) => i.callId)).toEqual([callId])
    // The failure route reported the failed branch, and only that one.
    await expect.poll(() => feedbackFor(callId).map((e) => e.request), FEEDBACK_WAIT).toEqual([
      { call_id: callId, partition: PARTITION, gateway: 'busy', code: 503, reason: 'Service Unavailable', local: false }
    ])
  })

  it('fails over when the first gateway does not answer at all (fr_timer 1000 ms)', async () => {
    dumpOnFailure()
    const dead = await gateway('dead', { kind: 'silent' })
    const backup = await gateway('backup2', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [
        { id: 'dead', address: dead.address, fr_timer: 1000, fr_inv_timer: 1000, probe_mode: 'never' },
        { id: 'backup', address: backup.address, probe_mode: 'never' }
      ],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'dead' }, { gateway: 'backup' }] }]
    })

    const started = Date.now()
    const result = await call('442071838750')
    const elapsed = Date.now() - started
    expect(result.exitCode, describeCall(result)).toBe(0)
    const callId = result.callIds[0] ?? ''
    expect((await dead.invites()).map((i) => i.callId)).toEqual([callId])
    expect((await backup.invites()).map((i) => i.callId)).toEqual([callId])
    // The route's fr_timer, not tm's 5 s default, decided when to give up.
    expect(elapsed).toBeLessThan(4000)
    await expect.poll(() => feedbackFor(callId).map((e) => e.request), FEEDBACK_WAIT).toEqual([
      { call_id: callId, partition: PARTITION, gateway: 'dead', code: 408, reason: 'Request Timeout', local: true }
    ])
  })

  it('feedback marks the failing gateway down and the next calls go straight to the healthy one', async () => {
    dumpOnFailure()
    const bad = await gateway('bad', { kind: 'reject', code: 503, reason: 'Service Unavailable' })
    const good = await gateway('good', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      // Two failures within a minute take a gateway down; no probing, so it stays down for the test.
      partition: { settings: { down_after_failures: 2, failure_window_ms: 60_000, hold_down_ms: 600_000 } },
      gateways: [{ id: 'bad', address: bad.address, probe_mode: 'never' }, { id: 'good', address: good.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'bad' }, { gateway: 'good' }] }]
    })
    const routes = async (): Promise<string[]> =>
      (await s.rtroute.route({ call_id: 'probe', request_uri: 'sip:442071838750@rtroute.invalid', partition: PARTITION })).body.rtjson.routes.map((r) => r.gateway)

    const failing: string[] = []
    for (let i = 0; i < 2; i++) {
      const result = await call('442071838750')
      expect(result.exitCode, describeCall(result)).toBe(0)
      failing.push(result.callIds[0] ?? '')
    }
    for (const callId of failing) {
      await expect.poll(() => feedbackFor(callId).length, FEEDBACK_WAIT).toBe(1)
      const [sent] = feedbackFor(callId)
      expect(sent?.request).toMatchObject({ gateway: 'bad', code: 503, local: false, partition: PARTITION })
      expect(sent?.status, `POST /kamailio/feedback answered ${String(sent?.status)} ${JSON.stringify(sent?.response)}: ` +
        'rtroute must accept feedback with 202 (DESIGN.md, "Failover feedback")').toBe(202)
    }
    await expect.poll(routes, { timeout: 3000 }).toEqual(['good'])

    const direct: string[] = []
    for (let i = 0; i < 3; i++) {
      const result = await call('442071838750')
      expect(result.exitCode, describeCall(result)).toBe(0)
      direct.push(result.callIds[0] ?? '')
    }
    expect((await bad.invites()).map((i) => i.callId)).toEqual(failing)
    expect((await good.invites()).map((i) => i.callId)).toEqual([...failing, ...direct])
    for (const callId of direct) expect(feedbackFor(callId)).toEqual([])
  })

  it('a caller\'s CANCEL is neither failed over nor reported as a gateway failure', async () => {
    dumpOnFailure()
    const ringing = await gateway('ringing', { kind: 'ring' })
    const backup = await gateway('backup3', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'ringing', address: ringing.address, probe_mode: 'never' }, { id: 'backup', address: backup.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'ringing' }, { gateway: 'backup' }] }]
    })

    const result = await call('442071838750', { cancel: true, expect: 487, holdMs: 300 })
    expect(result.exitCode, describeCall(result)).toBe(0)
    const callId = result.callIds[0] ?? ''
    expect((await ringing.invites()).map((i) => i.callId)).toEqual([callId])
    // Give a wrongly sent report or a wrong failover the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await backup.invites()).toEqual([])
    expect(feedbackFor(callId)).toEqual([])
  })

  it('a number without a route gets the caller a 404', async () => {
    dumpOnFailure()
    const gw = await gateway('fr', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'fr', address: gw.address }],
      rules: [{ groups: ['default'], prefix: '33', targets: [{ gateway: 'fr' }] }]
    })
    const result = await call('442071838750', { expect: 404 })
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.statuses.at(-1)).toBe(404)
    expect(await gw.invites()).toEqual([])
  })

  it('a partition that is not ready gets the caller a 503', async () => {
    dumpOnFailure()
    // An rtroute whose database is unreachable has no partition loaded: it answers not_ready.
    const unready = await startRtroute({ DATABASE_URL: `postgres://rtroute:none@127.0.0.1:${await freePort()}/rtroute`, RTROUTE_DB_RETRY_MAX_MS: '1000' })
    s.track(unready)
    const answer = await unready.route({ call_id: 'x', request_uri: 'sip:4420@rtroute.invalid', partition: PARTITION })
    expect([answer.status, answer.body.rtjson.reason]).toEqual([503, 'not_ready'])
    const proxy = await s.extraProxy('proxy-unready', { rtrouteUrl: unready.url, partition: PARTITION, waitReady: false })

    const result = await call('442071838750', { expect: 503 }, proxy)
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.statuses.at(-1)).toBe(503)
  })

  it('rtroute unreachable gets the caller a 500', async () => {
    dumpOnFailure()
    const proxy = await s.extraProxy('proxy-orphan', { rtrouteUrl: `http://127.0.0.1:${await freePort()}`, waitReady: false })
    const result = await call('442071838750', { expect: 500 }, proxy)
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.statuses.at(-1)).toBe(500)
  })

  it('an answer that is not an rtjson document gets the caller a 500', async () => {
    dumpOnFailure()
    // Something else answering at rtroute's address (a proxy error page, a wrong service).
    const impostor = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>upstream error</html>') })
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
    s.track({ stop: async () => { await new Promise<void>((resolve) => { impostor.close(() => { resolve() }) }) } })
    const proxy = await s.extraProxy('proxy-impostor', { rtrouteUrl: `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`, waitReady: false })
    const result = await call('442071838750', { expect: 500 }, proxy)
    expect(result.exitCode, describeCall(result)).toBe(0)
    expect(result.statuses.at(-1)).toBe(500)
  })
}
