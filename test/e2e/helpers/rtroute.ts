/**
 * The real rtroute (the built CLI, `dist/cli.js serve`) for the end-to-end tests, and a recording
 * HTTP relay put between Kamailio and it, so a test can read what Kamailio actually sent
 * (queries, feedback) and what rtroute answered. The relay only forwards (502 if rtroute is gone),
 * with the two request headers rtroute reads from a proxy: Content-Type and X-Rtroute-Secret.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { freePort } from '../../../src/embedded-postgres.js'
import { runCli, type RunningCli } from '../../helpers/process.js'

export interface Rtroute {
  readonly url: string
  readonly cli: RunningCli
  /** PUT /v1/partitions/:partition/data, then waits until the partition serves that version. */
  load: (partition: string, data: unknown) => Promise<void>
  /**
   * POST /kamailio/rtjson as a proxy would, for checking what rtroute decides now: with
   * X-Rtroute-Secret `secret`, by default the first of the instance's RTROUTE_PROXY_SECRET (if any).
   */
  route: (query: Record<string, unknown>, secret?: string) => Promise<{ status: number, body: RtjsonAnswer }>
  stop: () => Promise<void>
}

export interface RtjsonAnswer {
  rtjson: { success: boolean, reason?: string, sip_code?: number, partition?: string, routes: Array<{ gateway: string, uri: string, dst_uri: string }> }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Starts `dist/cli.js serve` with `env`, on `port` (default: a free one); resolves once it listens. */
export async function startRtroute (env: Record<string, string>, port?: number): Promise<Rtroute> {
  port ??= await freePort()
  const cli = runCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', RTROUTE_RELOAD_DEBOUNCE_MS: '10', ...env })
  // Killed with the test process if a test dies before stop().
  const kill = (): void => { cli.child.kill('SIGKILL') }
  process.once('exit', kill)
  // Listening is known from /livez (LOG_LEVEL warn hides the "listening" line).
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (cli.child.exitCode !== null) throw new Error(`rtroute exited (${cli.child.exitCode}) before listening:\n${cli.output()}`)
    const ok = await fetch(`${url}/livez`).then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline) {
      cli.child.kill('SIGKILL')
      throw new Error(`rtroute did not listen on ${url} within 30 s:\n${cli.output()}`)
    }
    await sleep(50)
  }

  const ownSecret = env.RTROUTE_PROXY_SECRET?.split(',')[0]
  const json = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
  }

  return {
    url,
    cli,
    load: async (partition, data) => {
      // Each scenario replaces whatever the previous one loaded, sections it does not need included.
      const path = `/v1/partitions/${partition}/data?allow_empty=true`
      let put = await json('PUT', path, data)
      // Right after start the database may not be migrated yet: 503 db_unavailable, try again.
      for (const deadline = Date.now() + 30_000; put.status === 503 && Date.now() < deadline; put = await json('PUT', path, data)) await sleep(100)
      if (put.status !== 200 && put.status !== 201) throw new Error(`PUT /v1/partitions/${partition}/data: ${put.status} ${JSON.stringify(put.body)}`)
      const version = put.body.data_version as number
      const until = Date.now() + 10_000
      for (;;) {
        const explain = await json('GET', `/v1/partitions/${partition}/route?number=0`)
        if (explain.status === 200 && (explain.body.data_version as number) >= version) return
        if (Date.now() > until) throw new Error(`partition ${partition} did not serve data version ${version}: ${explain.status} ${JSON.stringify(explain.body)}`)
        await sleep(20)
      }
    },
    route: async (query, secret = ownSecret) => await json('POST', '/kamailio/rtjson', query, secret === undefined ? {} : { 'x-rtroute-secret': secret }),
    stop: async () => {
      process.removeListener('exit', kill)
      if (cli.child.exitCode === null) cli.child.kill('SIGTERM')
      const timer = setTimeout(() => { cli.child.kill('SIGKILL') }, 10_000)
      await cli.exited
      clearTimeout(timer)
    }
  }
}

export interface Exchange {
  readonly method: string
  readonly path: string
  /** The forwarded request headers (lower case): content-type, x-rtroute-secret. */
  readonly headers: Readonly<Record<string, string>>
  readonly request: any
  readonly status: number
  readonly response: any
}

export interface Recorder {
  readonly url: string
  readonly exchanges: Exchange[]
  /** Exchanges on one path, e.g. '/kamailio/feedback'. */
  on: (path: string) => Exchange[]
  /**
   * From now on, rtroute's JSON answers on `path` reach the proxy as `edit` changes them (and are
   * recorded so); without `edit`, as rtroute sent them again.
   */
  rewrite: (path: string, edit?: (answer: any) => unknown) => void
  close: () => Promise<void>
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const FORWARDED = ['content-type', 'x-rtroute-secret'] as const

export async function startRecorder (upstream: string): Promise<Recorder> {
  const exchanges: Exchange[] = []
  const edits = new Map<string, (answer: any) => unknown>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const headers: Record<string, string> = {}
      for (const name of FORWARDED) {
        const value = req.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const method = req.method ?? 'GET'
      fetch(`${upstream}${req.url ?? '/'}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body })
        .then(async (answer) => {
          const path = (req.url ?? '/').split('?')[0] ?? '/'
          const edit = edits.get(path)
          const text = edit === undefined ? await answer.text() : JSON.stringify(edit(await answer.json()))
          exchanges.push({ method, path, headers, request: parse(body.toString('utf8')), status: answer.status, response: parse(text) })
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
          res.end(text)
        }, (err: unknown) => {
          // Recorded too: a lost exchange must show up as one, not as silence.
          const cause = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err)
          exchanges.push({ method, path: (req.url ?? '/').split('?')[0] ?? '/', headers, request: parse(body.toString('utf8')), status: 502, response: cause })
          res.writeHead(502)
          res.end(cause)
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    on: (path) => exchanges.filter((e) => e.path === path),
    rewrite: (path, edit) => { if (edit === undefined) edits.delete(path); else edits.set(path, edit) },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
