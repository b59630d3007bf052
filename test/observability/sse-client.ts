/** A minimal Server-Sent Events client over node:http for tests: collects frames, waits for one. */
import http from 'node:http'
import { until } from '../helpers/until.js'

export interface Frame { readonly id?: string, readonly event?: string, readonly data?: any, readonly comment?: string }

export interface SseClient {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly frames: Frame[]
  /** The first frame (after `from`) matching, or throws after the timeout. */
  next: (match: (frame: Frame) => boolean, timeoutMs?: number) => Promise<Frame>
  close: () => void
}

export async function openSse (url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return await new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const frames: Frame[] = []
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const text = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const frame: Record<string, unknown> = {}
          for (const line of text.split('\n')) {
            if (line.startsWith(': ')) frame.comment = line.slice(2)
            else if (line.includes(': ')) frame[line.slice(0, line.indexOf(': '))] = line.slice(line.indexOf(': ') + 2)
          }
          if (typeof frame.data === 'string') frame.data = JSON.parse(frame.data)
          frames.push(frame as Frame)
        }
      })
      res.on('error', () => {})
      let seen = 0
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        next: async (match, timeoutMs = 10_000) => {
          const found = await until(async () => frames.slice(seen).find(match), (f) => f !== undefined, timeoutMs)
          if (found === undefined) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames)}`)
          seen = frames.indexOf(found) + 1
          return found
        },
        close: () => { req.destroy() }
      })
    })
    req.on('error', reject)
  })
}
