/**
 * A TCP forwarder in front of the real test PostgreSQL: closed, the database is unreachable
 * (connection refused); open, it is reachable again. The database itself is never faked.
 */
import net from 'node:net'
import { freePort } from '../../src/embedded-postgres.js'

export interface TcpProxy {
  readonly port: number
  /** Times (ms since the epoch) of every connection accepted while open: shows backoff, not hammering. */
  readonly attempts: number[]
  open: () => Promise<void>
  /** Stops listening and cuts every forwarded connection. */
  close: () => Promise<void>
}

export async function createTcpProxy (targetHost: string, targetPort: number): Promise<TcpProxy> {
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
