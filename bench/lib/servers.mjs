/** The servers under test, as child processes: rtroute (`dist/cli.js serve`) and the bare fastify endpoints (bare-server.mjs). */
import { createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { freePort } from '../../dist/embedded-postgres.js'
import { ROOT, startNode, stop, waitFor } from './procs.mjs'

const MONITOR = path.join(ROOT, 'bench/lib/loop-monitor.mjs')
let serial = 0

/**
 * rtroute on `url`'s database, answering once its default partition (`bench`, unless `env` says
 * otherwise) is loaded (/readyz 200); `readyPath: '/livez'` waits only for the listener.
 */
export async function startRtroute ({ url, core, env = {}, nodeArgs = [], readyTimeoutMs = 600_000, readyPath = '/readyz' }) {
  const port = await freePort()
  const loopFile = path.join(os.tmpdir(), `rtroute-bench-loop-${process.pid}-${serial++}.json`)
  const child = startNode(path.join(ROOT, 'dist/cli.js'), ['serve', '--no-demo'], {
    core,
    // BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server under test.
    nodeArgs: ['--import', MONITOR, ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...nodeArgs],
    env: {
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RTROUTE_PROBING: 'false',
      RTROUTE_PARTITION: 'bench',
      // The proxy guard on, as it is deployed: the bench's clients are on loopback.
      RTROUTE_PROXY_ALLOW: '127.0.0.0/8',
      BENCH_LOOP_FILE: loopFile,
      ...env
    }
  })
  // BENCH_SERVER_OUTPUT=<file>: the server's whole output (with BENCH_SERVER_NODE_ARGS='--trace-gc', its collector's log).
  if (process.env.BENCH_SERVER_OUTPUT !== undefined) {
    const out = createWriteStream(process.env.BENCH_SERVER_OUTPUT, { flags: 'a' })
    child.stdout.pipe(out)
    child.stderr.pipe(out)
  }
  const base = `http://127.0.0.1:${port}`
  try {
    await waitFor(`${base}${readyPath}`, child, readyTimeoutMs)
  } catch (err) {
    await stop(child)
    throw new Error(`${err.message}\n${child.tail.join('\n')}`)
  }
  return {
    child,
    base,
    /** Starts (first call) or stops and reads (second call) the event-loop watch inside the server. */
    async watchLoop () {
      process.kill(child.pid, 'SIGUSR2')
      await new Promise((resolve) => setTimeout(resolve, 50))
    },
    async loopReport () {
      process.kill(child.pid, 'SIGUSR2')
      for (let i = 0; i < 100; i++) {
        const text = await readFile(loopFile, 'utf8').catch(() => '')
        if (text !== '') return JSON.parse(text)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return undefined
    },
    async stop () {
      await stop(child)
      await rm(loopFile, { force: true })
    }
  }
}

/** bare-server.mjs in `mode` plain (fastify's defaults: the baseline) or matched (rtroute's fastify options). */
export async function startBare ({ answerFile, core, mode = 'plain' }) {
  const port = await freePort()
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const child = startNode(path.join(ROOT, 'bench/bare-server.mjs'), [], { core, nodeArgs, env: { PORT: String(port), ANSWER_FILE: answerFile, MODE: mode } })
  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/ready`, child, 30_000)
  return { child, base, stop: async () => { await stop(child) } }
}

export async function postJson (url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: res.status, text: await res.text() }
}
