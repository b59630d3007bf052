/**
 * Section 2: one partition at 10k / 100k / 1M rules. A fresh worker process measures the load
 * (rule pages compiled as they arrive), memory and the decision time; the server then answers under load
 * while the same partition reloads, and we keep the worst latency seen and the server's longest
 * event-loop block.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { cannon, pin, ROOT, rssMiB, SERVER_CORE } from '../lib/procs.mjs'
import { postJson } from '../lib/servers.mjs'

const run = promisify(execFile)

export async function scaleWorker ({ url, queriesFile, cost = false }) {
  const args = ['--expose-gc', path.join(ROOT, 'bench/scale-worker.mjs'), url, queriesFile, ...(cost ? ['--cost'] : [])]
  const child = run(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 24 })
  pin(child.child.pid, SERVER_CORE)
  const { stdout } = await child
  return JSON.parse(stdout.trim().split('\n').at(-1))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Load at `connections` for `baselineS` seconds, then again while POST /v1/partitions/bench/reload
 * runs (the load starts before and stops after it). Same connections, same bodies: the two
 * windows compare.
 */
export async function reloadUnderLoad ({ server, bodies, connections, baselineS }) {
  // A freshly started server is still compiling its hot path and collecting its load's garbage.
  await cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration: 2 }).result
  const baseline = await cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration: baselineS }).result
  const load = cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration: 600 })
  await load.ready
  await sleep(500)
  await server.watchLoop()
  const started = performance.now()
  const answer = await postJson(`${server.base}/v1/partitions/bench/reload`, {})
  const reloadMs = performance.now() - started
  const block = await server.loopReport()
  await sleep(300)
  load.stop()
  const during = await load.result
  const reload = JSON.parse(answer.text)
  if (answer.status !== 200 || reload.ok !== true) throw new Error(`reload failed: ${answer.status} ${answer.text.slice(0, 300)}`)
  return { reloadMs, serverReloadMs: reload.duration_ms, baseline, during, block, serverRssMiB: rssMiB(server.child.pid) }
}
