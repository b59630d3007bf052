/**
 * Closing the HTTP side on SIGTERM without resetting a request that a keep-alive client sent.
 *
 * What Node 20 and Fastify 5 do by themselves, and why it is not enough: `server.close()` (which
 * `app.close()` calls; `forceCloseConnections: 'idle'` is Fastify's default) destroys every idle
 * connection at once, including one the kernel accepted a moment ago whose request is still on
 * its way, and a keep-alive one the client is writing to right then: both are reset. And
 * `return503OnClosing` (on by default) answers whatever arrives after close began with 503, a
 * failed call for a proxy. Answering `Connection: close` during the whole drain has its own trap:
 * every keep-alive client then opens a new connection per request, and a connection still in the
 * kernel's accept queue when the listener closes is reset.
 *
 * So, in this order: (1) the drain before this serves as usual (readiness is already false, load
 * balancers move away, keep-alive clients keep their connections and open no new ones); (2) the
 * listener stops accepting, without touching any connection (new attempts are refused: nothing
 * was sent); (3) every answer from then on carries `Connection: close`, so each open connection
 * ends cleanly after the request it carries next; (4) after a grace period (or as soon as none is
 * left) idle connections are closed, in-flight requests finish, then the app closes.
 * A client that sends on a long-idle connection at the very moment of (4) can still lose that race
 * (inherent to HTTP/1.1 keep-alive; curl retries a request whose reused connection died).
 */
import net from 'node:net'
import type { FastifyInstance } from 'fastify'

export interface CloseOptions {
  /** How long open connections get to carry one more request and close with it (default 1000 ms). */
  readonly graceMs?: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

const openConnections = async (server: net.Server): Promise<number> =>
  await new Promise((resolve) => { server.getConnections((err, n) => { resolve(err === null ? n : 0) }) })

export async function closeHttpGracefully (app: FastifyInstance, options: CloseOptions = {}): Promise<void> {
  const server = app.server
  const graceMs = options.graceMs ?? 1000
  // (2) net.Server's close, not http.Server's: that one would also destroy the idle connections now.
  if (server.listening) net.Server.prototype.close.call(server)
  // (3) Before the router sees the request, so every route's answer carries it.
  server.prependListener('request', (_request, response) => { response.setHeader('connection', 'close') })
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && await openConnections(server) > 0) await sleep(10)
  // (4) Node closes idle connections once, when asked; one whose in-flight request is answered
  // later would otherwise wait for the keep-alive timeout (72 s).
  const reaper = setInterval(() => { server.closeIdleConnections() }, 50)
  try {
    server.closeIdleConnections()
    // Its server.close() finds the listener closed (ERR_SERVER_NOT_RUNNING, which Fastify accepts) and returns at once.
    await app.close()
    while (await openConnections(server) > 0) await sleep(10)
  } finally {
    clearInterval(reaper)
  }
}
