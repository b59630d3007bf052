/**
 * Section 3: two rtroute instances on one database. Feedback to A takes gateway a1 down; we time
 * until B's answers skip it (NOTIFY from A's write), over many trials.
 */
import { postJson, startRtroute } from '../lib/servers.mjs'
import { max, median } from '../lib/stats.mjs'

const QUERY = JSON.stringify({ call_id: 'propagation', request_uri: 'sip:+4420123@sbc', partition: 'p' })

async function first (server) {
  const { text } = await postJson(`${server.base}/kamailio/rtjson`, QUERY)
  return JSON.parse(text).rtjson.routes[0]?.gateway
}

async function until (fn, ok, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (ok(value)) return value
    if (performance.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms (last: ${value})`)
  }
}

/** Retried while the database is not migrated yet (503 db_unavailable, right after start). */
const put = async (server, path, body) => {
  const deadline = performance.now() + 30_000
  for (;;) {
    const res = await fetch(`${server.base}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (res.status === 503 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      continue
    }
    if (res.status >= 300) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`)
    return
  }
}

export async function propagation ({ url, trials, log }) {
  const env = { RTROUTE_RELOAD_DEBOUNCE_MS: '10', RTROUTE_LEADER_HEARTBEAT_MS: '500', RTROUTE_PARTITION: 'p' }
  // Readiness waits for partition p, which is loaded through A: A is waited for as listening only.
  const a = await startRtroute({ url, env, readyPath: '/livez' })
  let b
  try {
    await put(a, '/v1/partitions/p/data', {
      partition: { settings: { down_after_failures: 3, hold_down_ms: 600_000 } },
      gateways: [{ id: 'a1', address: '192.0.2.1:5060' }, { id: 'b1', address: '192.0.2.2:5060' }],
      carriers: [],
      rules: [{ groups: ['default'], id: 1, prefix: '+44', targets: [{ gateway: 'a1' }, { gateway: 'b1' }] }],
      caller_groups: []
    })
    b = await startRtroute({ url, env })
    await until(async () => [await first(a), await first(b)].join(), (v) => v === 'a1,a1')
    const delays = []
    for (let trial = 0; trial < trials; trial++) {
      await put(a, '/v1/partitions/p/gateways/a1/state', { state: 'active', reason: `trial ${trial}` })
      await until(async () => await first(b), (g) => g === 'a1')
      for (let i = 0; i < 2; i++) await postJson(`${a.base}/kamailio/feedback`, { call_id: `t${trial}-${i}`, partition: 'p', gateway: 'a1', code: 503 })
      const sent = performance.now()
      await postJson(`${a.base}/kamailio/feedback`, { call_id: `t${trial}-2`, partition: 'p', gateway: 'a1', code: 503 })
      if (await first(a) !== 'b1') throw new Error('A still routes to a1 after three failures')
      await until(async () => await first(b), (g) => g === 'b1')
      delays.push(performance.now() - sent)
    }
    log(`propagation over ${trials} trials: median ${median(delays).toFixed(1)} ms, max ${max(delays).toFixed(1)} ms`)
    return { trials, medianMs: median(delays), maxMs: max(delays), p90Ms: delays.slice().sort((x, y) => x - y)[Math.floor(delays.length * 0.9)] }
  } finally {
    await a.stop()
    await b?.stop()
  }
}
