/**
 * Section 1: rtroute's POST /kamailio/rtjson against the bare fastify endpoint, alternating A/B
 * runs at each connection count; every figure is a ratio of runs made minutes apart at most.
 */
import { writeFile } from 'node:fs/promises'
import { cannon, cpuMicros, paced, SERVER_CORE } from '../lib/procs.mjs'
import { startBare, postJson } from '../lib/servers.mjs'
import { median } from '../lib/stats.mjs'

async function measure (server, bodies, connections, duration) {
  const before = cpuMicros(server.child.pid)
  const run = cannon({ url: server.base, path: '/kamailio/rtjson', bodies, connections, duration })
  const result = await run.result
  const cpu = cpuMicros(server.child.pid) - before
  return { ...result, cpuUsPerReq: cpu / Math.max(1, result.requests) }
}

/** The same bodies at a fixed offered rate (lib/paced-child.mjs): the latency of the service, not of a queue. */
async function measurePaced (server, bodies, connections, rate, duration) {
  const run = paced({ url: server.base, path: '/kamailio/rtjson', bodies, connections, rate, duration })
  await run.ready
  const before = cpuMicros(server.child.pid)
  const result = await run.result
  const cpu = cpuMicros(server.child.pid) - before
  return { ...result, cpuUsPerReq: cpu / Math.max(1, result.answered) }
}

/**
 * A/B rounds at `rate` req/s through `connections`: p50 / p99 / p99.9 / max are medians over the
 * rounds; `sentRate` shows whether the generator kept the pace (the lowest round).
 */
async function latencyAtRate ({ bare, rtroute, bodies, connections, rate, rounds, duration, log }) {
  const runs = { bare: [], rtroute: [] }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['bare', 'rtroute'] : ['rtroute', 'bare']
    for (const name of order) runs[name].push(await measurePaced(name === 'bare' ? bare : rtroute, bodies, connections, rate, duration))
  }
  const summary = (list) => ({
    p50: median(list.map((run) => run.p50)),
    p99: median(list.map((run) => run.p99)),
    p999: median(list.map((run) => run.p999)),
    max: median(list.map((run) => run.max)),
    p99s: list.map((run) => run.p99),
    sentRate: Math.min(...list.map((run) => run.sentRate)),
    cpuUsPerReq: median(list.map((run) => run.cpuUsPerReq)),
    errors: list.reduce((n, run) => n + run.errors + run.non2xx, 0)
  })
  const result = { connections, rate, rtroute: summary(runs.rtroute), bare: summary(runs.bare) }
  log(`${rate} req/s through ${connections} connections: p99 rtroute ${result.rtroute.p99s.map((x) => x.toFixed(2)).join(' ')} ms, bare ${result.bare.p99s.map((x) => x.toFixed(2)).join(' ')} ms`)
  return result
}

/**
 * `rtroute` is a started server (lib/servers.mjs) holding the partition the bodies route in.
 * Returns one row per connection count, plus the answer sizes.
 */
export async function throughput ({ rtroute, bodies: candidates, connections, rounds, duration, pacedRate, answerFile, log }) {
  // Only bodies that route (a closed time window can leave a number without a rule): the bare answer is a routed one.
  const answers = []
  const routed = []
  for (const body of candidates) {
    const answer = await postJson(`${rtroute.base}/kamailio/rtjson`, body)
    if (answer.status !== 200) throw new Error(`rtroute failed a bench query: ${answer.status} ${answer.text.slice(0, 200)}`)
    if (!answer.text.includes('"success":true') || routed.length >= 64) continue
    answers.push(answer.text)
    routed.push(body)
  }
  if (routed.length === 0) throw new Error('rtroute routed none of the bench queries')
  const bodies = routed
  const sizes = answers.map((text) => Buffer.byteLength(text))
  // The bare endpoint answers each query with rtroute's own answer to it: the same bytes both ways.
  await writeFile(answerFile, JSON.stringify(Object.fromEntries(routed.map((body, i) => [JSON.parse(body).call_id, JSON.parse(answers[i])]))))
  const bare = await startBare({ answerFile, core: SERVER_CORE })
  const rows = []
  let atRate
  try {
    for (let i = 0; i < bodies.length; i++) {
      const check = await postJson(`${bare.base}/kamailio/rtjson`, bodies[i])
      if (check.text !== answers[i]) throw new Error(`the bare endpoint does not answer as rtroute does: ${check.text.slice(0, 200)}`)
    }
    log(`${bodies.length} queries of ${Buffer.byteLength(bodies[0])} B; answers ${Math.min(...sizes)}–${Math.max(...sizes)} B (mean ${Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length)}), byte-identical from both servers`)
    // JIT warm-up of both servers before anything counts.
    for (const server of [bare, rtroute]) await measure(server, bodies, 50, Math.max(1, duration / 2))
    for (const c of connections) {
      const runs = { bare: [], rtroute: [] }
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? ['bare', 'rtroute'] : ['rtroute', 'bare']
        for (const name of order) runs[name].push(await measure(name === 'bare' ? bare : rtroute, bodies, c, duration))
      }
      const ratios = runs.rtroute.map((run, i) => run.rps / runs.bare[i].rps)
      const pick = (name, key) => median(runs[name].map((run) => run[key]))
      const row = {
        connections: c,
        ratio: median(ratios),
        ratios,
        rtroute: { rps: pick('rtroute', 'rps'), p50: pick('rtroute', 'p50'), p99: pick('rtroute', 'p99'), p999: pick('rtroute', 'p999'), cpuUsPerReq: pick('rtroute', 'cpuUsPerReq'), errors: runs.rtroute.reduce((n, run) => n + run.errors + run.non2xx, 0) },
        bare: { rps: pick('bare', 'rps'), p50: pick('bare', 'p50'), p99: pick('bare', 'p99'), p999: pick('bare', 'p999'), cpuUsPerReq: pick('bare', 'cpuUsPerReq'), errors: runs.bare.reduce((n, run) => n + run.errors + run.non2xx, 0) }
      }
      log(`${c} connections: rtroute/bare ${ratios.map((x) => x.toFixed(2)).join(' ')}; rtroute ${row.rtroute.rps.toFixed(0)} req/s p99 ${row.rtroute.p99.toFixed(2)} ms; bare ${row.bare.rps.toFixed(0)} req/s`)
      rows.push(row)
    }
    atRate = await latencyAtRate({ bare, rtroute, bodies, connections: 50, rate: pacedRate, rounds, duration, log })
  } finally {
    await bare.stop()
  }
  return { rows, atRate, answerMean: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length), answerRange: [Math.min(...sizes), Math.max(...sizes)], queryBytes: Buffer.byteLength(bodies[0]), queries: bodies.length }
}
