/**
 * SIGTERM at 200 requests/s over keep-alive connections, with the built CLI as a real child
 * process: the load never stops on its own (no load balancer moves it away), so it keeps sending
 * through the drain, the listener's close and the exit. Every request must get an answer or never
 * be sent (the connection refused once the listener is closed): no reset, no hang-up. And a
 * request sent on a connection that was idle when the listener closed (kept alive, or opened a
 * moment before) is answered, with `Connection: close`. Prints the figures docs/reliability.md quotes.
 */
import { existsSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/embedded-postgres.js'
import { CLI, runCli } from '../helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { until } from '../helpers/until.js'
import { describeTally, request, total } from './helpers/load.js'
import { startPacedLoad } from './helpers/paced-load.js'

const DRAIN_MS = 1000
const RATE = 200
const CONNECTIONS = 8
const DATA = {
  partition: {},
  gateways: [{ id: 'a', address: '10.0.0.1:5060' }, { id: 'b', address: '10.0.0.2:5060' }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }] }],
  carriers: [],
  caller_groups: []
}

const QUERY = (callId: string): string => JSON.stringify({ call_id: callId, request_uri: 'sip:4420718@sbc', partition: 'p' })

/** A raw keep-alive connection: `send` writes one request and resolves with the whole answer (or what came before the close). */
function rawConnection (port: number): { connected: Promise<void>, send: (body: string) => Promise<string> } {
  const socket = net.connect(port, '127.0.0.1')
  const connected = new Promise<void>((resolve) => { socket.once('connect', () => { resolve() }) })
  socket.on('error', () => {})
  let closed = false
  socket.once('close', () => { closed = true })
  const send = async (body: string): Promise<string> => await new Promise((resolve) => {
    if (closed) {
      resolve('closed by the server before the request')
      return
    }
    let text = ''
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8')
      const [head = '', rest = ''] = text.split('\r\n\r\n')
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN)
      if (rest.length >= length) done()
    }
    const done = (): void => { socket.off('data', onData); socket.off('close', done); resolve(text === '' ? 'closed without an answer' : text) }
    socket.on('data', onData)
    socket.once('close', done)
    socket.write(`POST /kamailio/rtjson HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  })
  return { connected, send }
}

/** Whether a new connection is refused: the listener is closed. */
const refused = async (port: number): Promise<boolean> => await new Promise((resolve) => {
  const socket = net.connect(port, '127.0.0.1')
  socket.once('connect', () => { socket.destroy(); resolve(false) })
  socket.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code === 'ECONNREFUSED') })
})

let t: TestDatabase
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`)
  t = await createTestDatabase()
})
afterAll(async () => { await t?.drop() })

describe('SIGTERM at 200 requests/s over keep-alive connections', () => {
  it('resets no connection: every request is answered or never sent', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const cli = runCli(['serve'], {
      DATABASE_URL: t.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      RTROUTE_SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      RTROUTE_PROBING: 'false',
      RTROUTE_RELOAD_DEBOUNCE_MS: '20'
    })
    try {
      await cli.waitFor(/connected to database/, 30_000)
      expect((await request(url, 'PUT', '/v1/partitions/p/data', DATA)).status).toBe(201)
      await until(async () => (await request(url, 'POST', '/kamailio/rtjson', { call_id: 'probe', request_uri: 'sip:4420@sbc', partition: 'p' }).catch(() => ({ body: '' }))).body,
        (body) => body.includes('"success":true'), 10_000)

      const load = startPacedLoad({ url, path: '/kamailio/rtjson', perSecond: RATE, connections: CONNECTIONS, body: (n) => ({ call_id: `term-${n}`, request_uri: 'sip:4420718@sbc', partition: 'p' }) })
      await until(async () => load.stats.scheduled, (n) => n >= RATE * 1.5, 15_000)
      // Two connections that sit idle when the listener closes, and carry a request right after:
      // one kept alive after an answer before the signal, one opened during the drain with nothing sent yet.
      const kept = rawConnection(port)
      expect(await kept.send(QUERY('kept-1'))).toMatch(/^HTTP\/1\.1 200 /)
      const beforeSignal = load.stats.scheduled
      const signalledAt = Date.now()
      cli.child.kill('SIGTERM')
      await new Promise((resolve) => setTimeout(resolve, DRAIN_MS / 2))
      const fresh = rawConnection(port)
      await fresh.connected
      await until(async () => await refused(port), (yes) => yes, DRAIN_MS + 5000)
      const lateAnswers = await Promise.all([kept.send(QUERY('kept-2')), fresh.send(QUERY('fresh-1'))])
      const code = await Promise.race([cli.exited, new Promise((resolve) => setTimeout(() => { resolve('still running') }, 20_000))])
      const exitedAfterMs = Date.now() - signalledAt
      // Keep sending a little after the exit: those requests are refused, never sent.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const stats = await load.stop()

      console.log(`[sigterm-drain] SIGTERM at ${RATE} req/s over ${CONNECTIONS} keep-alive connections (drain ${DRAIN_MS} ms), exit ${String(code)} after ${exitedAfterMs} ms: ` +
        `${stats.scheduled} requests (${stats.scheduled - beforeSignal} after the signal), answered ${describeTally(stats.answered)}, never sent (refused) ${stats.neverSent}, ` +
        `failed after sending ${describeTally(stats.failed)}; ${stats.connectionsOpened} connections opened, ${stats.closingAnswers} answers with Connection: close`)
      if (code !== 0) console.log(cli.output().split('\n').slice(-15).join('\n'))
      console.log(`[sigterm-drain] requests sent on idle connections just after the listener closed: ${lateAnswers.map((answer) => answer.split('\r\n')[0] ?? 'nothing').join(', ')}`)
      for (const answer of lateAnswers) {
        expect(answer).toMatch(/^HTTP\/1\.1 200 /)
        expect(answer.toLowerCase()).toContain('connection: close')
      }
      expect(stats.failed).toEqual({})
      expect(total(stats.answered) + stats.neverSent).toBe(stats.scheduled)
      expect(stats.answered).toEqual({ 200: total(stats.answered) })
      // The drain kept answering (how many depends on the box's speed: not asserted, printed).
      expect(total(stats.answered)).toBeGreaterThan(beforeSignal)
      expect(code).toBe(0)
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL')
    }
  }, 90_000)
})
