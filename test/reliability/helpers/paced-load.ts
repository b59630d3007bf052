/**
 * A paced keep-alive load: requests at a fixed rate (not as fast as answers come back), over a
 * bounded pool of keep-alive connections, each outcome recorded: answered (with its status), never
 * sent (the connection was refused, so no byte of the request left), or failed after it was sent
 * (a reset, a hang-up: what a graceful shutdown must never cause).
 */
import http from 'node:http'
import { count } from './load.js'

export interface PacedLoadOptions {
  readonly url: string
  readonly path: string
  readonly perSecond: number
  readonly connections: number
  readonly body: (n: number) => unknown
}

export interface PacedLoadStats {
  scheduled: number
  answered: Record<string, number>
  /** ECONNREFUSED: the connection was never made, the request never sent. */
  neverSent: number
  /** Every other failure, by code (`ECONNRESET reused`, `ECONNRESET new`, …). */
  failed: Record<string, number>
  /** TCP connections the client opened. */
  connectionsOpened: number
  /** Answers that carried `Connection: close`. */
  closingAnswers: number
}

export interface PacedLoad {
  readonly stats: PacedLoadStats
  /** Stops scheduling and resolves once every request has ended. */
  stop: () => Promise<PacedLoadStats>
}

export function startPacedLoad (options: PacedLoadOptions): PacedLoad {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections })
  const stats: PacedLoadStats = { scheduled: 0, answered: {}, neverSent: 0, failed: {}, connectionsOpened: 0, closingAnswers: 0 }
  const pending = new Set<Promise<void>>()
  const started = performance.now()
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const send = (n: number): Promise<void> => new Promise((resolve) => {
    const payload = Buffer.from(JSON.stringify(options.body(n)))
    const req = http.request(`${options.url}${options.path}`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': String(payload.length) }
    }, (res) => {
      if (res.headers.connection === 'close') stats.closingAnswers++
      res.resume()
      res.on('end', () => { count(stats.answered, String(res.statusCode)); resolve() })
      res.on('error', (err) => { count(stats.failed, `${(err as NodeJS.ErrnoException).code ?? err.message} in answer`); resolve() })
    })
    req.on('socket', (socket) => { if (!req.reusedSocket) socket.once('connect', () => { stats.connectionsOpened++ }) })
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message
      if (code === 'ECONNREFUSED') stats.neverSent++
      else count(stats.failed, `${code} ${req.reusedSocket ? 'reused' : 'new'}`)
      resolve()
    })
    req.end(payload)
  })

  // Catches up when the timer fires late (a busy box): the rate holds over the run, not per tick.
  const tick = (): void => {
    const due = Math.floor(((performance.now() - started) / 1000) * options.perSecond)
    while (!stopped && stats.scheduled < due) {
      const p = send(stats.scheduled++)
      pending.add(p)
      void p.then(() => pending.delete(p))
    }
    if (!stopped) timer = setTimeout(tick, 2)
  }
  tick()
  return {
    stats,
    stop: async () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      while (pending.size > 0) await Promise.all([...pending])
      agent.destroy()
      return stats
    }
  }
}
