/**
 * A TCP forwarder in front of a real PostgreSQL that also counts connection attempts (with their
 * times), so a test can show that rtroute retries with backoff instead of hammering a dead server.
 */
import net from 'node:net'
import { freePort } from '../../../src/embedded-postgres.js'

export interface Forwarder {
  readonly port: number
  /** Times (ms since epoch) of every connection accepted while open. */
  readonly attempts: number[]
  open: () => Promise<void>
  /** Stops listening and cuts every forwarded connection: rtroute is cut off. */
  close: () => Promise<void>
}

export async function createForwarder (targetPort: number, targetHost = '127.0.0.1'): Promise<Forwarder> {
  const port = await freePort()
  const sockets = new Set<net.Socket>()
  const attempts: number[] = []
  let server: net.Server | undefined
  return {
    port,
    attempts,
    async open () {
      server = net.createServer((client) => {
        attempts.push(Date.now())
        const upstream = net.connect(targetPort, targetHost)
        sockets.add(client).add(upstream)
        client.pipe(upstream).pipe(client)
        const end = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
        client.on('error', end).on('close', end)
        upstream.on('error', end).on('close', end)
      })
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve))
    },
    async close () {
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      await new Promise<void>((resolve) => { server === undefined ? resolve() : server.close(() => { resolve() }) })
      server = undefined
    }
  }
}
