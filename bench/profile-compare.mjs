/**
 * Where rtroute's extra CPU per request goes, function by function: two `--cpu-prof` profiles of
 * the servers under the same load (BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' npm run
 * bench -- --quick --only=throughput writes one per server), each function's share of the
 * server's busy time scaled to the CPU µs per request the bench measured.
 * Usage: node bench/profile-compare.mjs <rtroute.cpuprofile> <rtroute µs/req> <bare.cpuprofile> <bare µs/req> [rows]
 */
import { readFileSync } from 'node:fs'

function selfTimes (file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  let busy = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = nodes.get(profile.samples[i]).callFrame
    const dt = profile.timeDeltas[i + 1] ?? 0
    if (frame.functionName === '(idle)') continue
    const key = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
    busy += dt
  }
  return { self, busy }
}

const [rtFile, rtUs, bareFile, bareUs, rows = '30'] = process.argv.slice(2)
const rt = selfTimes(rtFile)
const bare = selfTimes(bareFile)
const perRequest = (t, us, key) => ((t.self.get(key) ?? 0) / t.busy) * Number(us)
const keys = [...new Set([...rt.self.keys(), ...bare.self.keys()])]
const table = keys.map((key) => ({ key, rt: perRequest(rt, rtUs, key), bare: perRequest(bare, bareUs, key) }))
  .map((row) => ({ ...row, extra: row.rt - row.bare }))
  .sort((a, b) => b.extra - a.extra)
console.log('µs/req extra  rtroute     bare  function')
for (const row of table.slice(0, Number(rows))) {
  console.log(`${row.extra.toFixed(2).padStart(12)} ${row.rt.toFixed(2).padStart(8)} ${row.bare.toFixed(2).padStart(8)}  ${row.key}`)
}
