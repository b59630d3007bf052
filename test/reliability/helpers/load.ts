/**
 * A bounded load of concurrent HTTP requests over keep-alive connections (node:http, so a
 * connection reset is seen as ECONNRESET and counted, never hidden by a retrying client).
 * Every answer is counted by kind (`classify`), every failure by its error code.
 */
import http from 'node:http'

export interface HttpAnswer {
  readonly status: number
  readonly body: string
  readonly headers: http.IncomingHttpHeaders
}

export interface LoadOptions {
  /** `http://127.0.0.1:port` */
  readonly url: string
  readonly path: string
  readonly workers: number
  /** Bounds: the load stops by itself at whichever comes first. */
  readonly maxRequests: number
  readonly maxMs: number
  readonly body: (n: number) => unknown
  /** The key an answer is counted under, e.g. `200 routed`. */
  readonly classify?: (answer: HttpAnswer) => string
  readonly headers?: Readonly<Record<string, string>>
  /** Pause between two requests of one worker (leaves CPU to the rest of a 2-core machine). */
  readonly pauseMs?: number
  /** Checked before each request: false stops the worker (a load balancer that stopped sending). */
  readonly shouldSend?: () => boolean
  readonly agent?: http.Agent
}

export interface LoadStats {
  sent: number
  answers: Record<string, number>
  errors: Record<string, number>
  durationMs: number
}

export interface Load {
  readonly stats: LoadStats
  /** Stops sending and resolves once every in-flight request has ended. */
  stop: () => Promise<LoadStats>
  readonly done: Promise<LoadStats>
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** One request; rejects with the socket error (its `code`) when there is no answer. */
export async function request (url: string, method: string, path: string, body?: unknown, options: { headers?: Readonly<Record<string, string>>, agent?: http.Agent, raw?: Buffer } = {}): Promise<HttpAnswer> {
  const payload = options.raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)))
  return await new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, {
      method,
      agent: options.agent,
      headers: {
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        ...options.headers
      }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }) })
      res.on('error', reject)
    })
    req.setTimeout(15_000, () => { req.destroy(Object.assign(new Error('no answer in 15 s'), { code: 'TIMEOUT' })) })
    req.on('error', reject)
    req.end(payload)
  })
}

export const errorCode = (err: unknown): string => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)
}

export const count = (tally: Record<string, number>, key: string): void => { tally[key] = (tally[key] ?? 0) + 1 }

export function startLoad (options: LoadOptions): Load {
  const agent = options.agent ?? new http.Agent({ keepAlive: true, maxSockets: options.workers })
  const stats: LoadStats = { sent: 0, answers: {}, errors: {}, durationMs: 0 }
  const started = Date.now()
  let stopped = false
  const classify = options.classify ?? ((answer: HttpAnswer) => String(answer.status))

  const worker = async (): Promise<void> => {
    while (!stopped && stats.sent < options.maxRequests && Date.now() - started < options.maxMs) {
      if (options.shouldSend !== undefined && !options.shouldSend()) return
      const n = stats.sent++
      try {
        count(stats.answers, classify(await request(options.url, 'POST', options.path, options.body(n), { agent, headers: options.headers })))
      } catch (err) {
        count(stats.errors, errorCode(err))
      }
      if (options.pauseMs !== undefined && options.pauseMs > 0) await sleep(options.pauseMs)
    }
  }
  const done = Promise.all(Array.from({ length: options.workers }, worker)).then(() => {
    stats.durationMs = Date.now() - started
    if (options.agent === undefined) agent.destroy()
    return stats
  })
  return {
    stats,
    done,
    stop: async () => {
      stopped = true
      return await done
    }
  }
}

export const total = (tally: Record<string, number>): number => Object.values(tally).reduce((a, b) => a + b, 0)

/** `{"200 routed": 812, "ECONNRESET": 0}` → `812 × 200 routed`, for the printed summaries. */
export const describeTally = (tally: Record<string, number>): string =>
  Object.keys(tally).length === 0 ? 'none' : Object.entries(tally).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} × ${k}`).join(', ')
