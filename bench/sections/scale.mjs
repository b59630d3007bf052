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
 * Load at `connections` for `baselineS` seconds, then again while POST /v1/partitions/bench/reload (`full`: ?full=true)
 * runs (the load starts before and stops after it). Same connections, same bodies: the two
 * windows compare.
 */
export async function reloadUnderLoad ({ server, bodies, connections, baselineS, full }) {
  // A freshly started server is still compiling its hot path and collecting its load's garbage.
  await cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration: 2 }).result
  const baseline = await cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration: baselineS }).result
  const load = cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration: 600 })
  await load.ready
  await sleep(500)
  await server.watchLoop()
  const started = performance.now()
  const answer = await postJson(`${server.base}/v1/partitions/bench/reload${full ? '?full=true' : ''}`, {})
  const reloadMs = performance.now() - started
  const block = await server.loopReport()
  await sleep(300)
  load.stop()
  const during = await load.result
  const reload = JSON.parse(answer.text)
  if (answer.status !== 200 || reload.ok !== true) throw new Error(`reload failed: ${answer.status} ${answer.text.slice(0, 300)}`)
  if (reload.mode !== (full ? 'full' : 'verified')) throw new Error(`reload: mode ${reload.mode}, expected ${full ? 'full' : 'verified'}`)
  return { reloadMs, serverReloadMs: reload.duration_ms, baseline, during, block, serverRssMiB: rssMiB(server.child.pid) }
}

const EDIT_RULE = 9_000_000_000
// No rule of the data set has a +999 prefix (bench/lib/dataset.mjs CODES), and 192.0.2.1 is no
// caller group's: the query lands on the edited rule in the default group.
const EDIT_QUERY = JSON.stringify({ call_id: 'edit-visibility', request_uri: 'sip:+99901234567@sbc.example.com', source_ip: '192.0.2.1', partition: 'bench' })
const firstGateway = async (server) => JSON.parse((await postJson(`${server.base}/kamailio/rtjson`, EDIT_QUERY)).text).rtjson?.routes?.[0]?.gateway
const fullReloads = async (server) => {
  const text = await (await fetch(`${server.base}/metrics`)).text()
  return Number(/^rtroute_partition_full_reloads_total\{partition="bench"\} (\d+)/m.exec(text)?.[1] ?? 0)
}

async function send (server, method, path, body) {
  const res = await fetch(`${server.base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
}

/**
 * One rule edited `count` times through the admin API (its target alternates between two
 * gateways); per edit, the time from sending the PATCH until the routing answer names the new
 * gateway. The server's full-reload counter must not move: every edit is applied from the change
 * log, not by reading the partition again. The first `warmup` edits are not timed: the first
 * updates after a start run the update's code cold (50–80 ms instead of a few), as the
 * throughput section's warm-up does for the routing path.
 */
export async function editsVisible ({ server, count, warmup = 5 }) {
  const gateways = ['gw-00001', 'gw-00002']
  await send(server, 'POST', '/v1/partitions/bench/rules', { id: EDIT_RULE, prefix: '+999', groups: ['default'], targets: [{ gateway: gateways[1] }] })
  const deadline = performance.now() + 60_000
  while (await firstGateway(server) !== gateways[1]) {
    if (performance.now() > deadline) throw new Error('the new rule never reached the answers')
  }
  const reloadsBefore = await fullReloads(server)
  const delays = []
  try {
    for (let i = -warmup; i < count; i++) {
      const gateway = gateways[(i + warmup) % 2]
      const sent = performance.now()
      await send(server, 'PATCH', `/v1/partitions/bench/rules/${EDIT_RULE}`, { targets: [{ gateway }] })
      // Polled every millisecond or so: the poll must not take the server's core from the update.
      while (await firstGateway(server) !== gateway) {
        if (performance.now() - sent > 30_000) throw new Error(`edit ${i} not visible after 30 s`)
        await sleep(1)
      }
      if (i >= 0) delays.push(performance.now() - sent)
    }
  } finally {
    await send(server, 'DELETE', `/v1/partitions/bench/rules/${EDIT_RULE}`).catch(() => {})
  }
  return { count, delays, fullReloads: (await fullReloads(server)) - reloadsBefore }
}
