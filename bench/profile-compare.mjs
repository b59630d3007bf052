/**
 * Where rtroute's extra CPU per request goes, function by function: two `--cpu-prof` profiles of
 * the servers under the same load (BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' npm run
 * bench -- --quick --only=throughput writes one per server: rtroute's first, then plain fastify's,
 * then the matched build's), each function's share of the server's busy time scaled to the CPU µs
 * per request the bench measured. Only samples from the first POST on count: the start-up
 * (module loading, the snapshot's compile) is not in the bench's µs per request either.
 * Usage: node bench/profile-compare.mjs <rtroute.cpuprofile> <rtroute µs/req> <baseline.cpuprofile> <baseline µs/req> [rows] [--by=function|module|caller:NAME]
 * `--by=module` sums self time per package or rtroute directory; `--by=caller:NAME` splits the
 * total time of the functions whose name starts with NAME by the function they call.
 */
import { readFileSync } from 'node:fs'

const frameKey = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`

function moduleKey (frame) {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1]
  if (pkg !== undefined) return pkg
  if (frame.url.includes('/dist/')) return `rtroute ${frame.url.split('/dist/')[1].split('/').slice(0, -1).join('/') || '.'}`
  if (frame.url.startsWith('node:')) return `node:${frame.url.slice(5).split('/')[0]}`
  return frame.url === '' ? frame.functionName : frame.url
}

/** Time per key from the first sample parsing a request body on (readiness polls have none); `keyOf(stack)` names a sample (undefined: skipped). */
function tally (file, keyOf) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const stackOf = (id) => {
    const stack = []
    for (let at = id; at !== undefined; at = parent.get(at)) stack.push(nodes.get(at).callFrame)
    return stack
  }
  const times = new Map()
  let busy = 0
  let started = false
  for (let i = 0; i < profile.samples.length; i++) {
    const stack = stackOf(profile.samples[i])
    if (!started) started = stack.some((frame) => frame.functionName === 'rawBody' && frame.url.endsWith('/content-type-parser.js'))
    if (!started || stack[0].functionName === '(idle)') continue
    const dt = profile.timeDeltas[i + 1] ?? 0
    busy += dt
    const key = keyOf(stack)
    if (key !== undefined) times.set(key, (times.get(key) ?? 0) + dt)
  }
  return { times, busy }
}

function callerSplit (name) {
  return (stack) => {
    const at = stack.findIndex((frame) => frame.functionName.startsWith(name))
    if (at < 0) return undefined
    return at === 0 ? '(self)' : frameKey(stack[at - 1])
  }
}

const args = process.argv.slice(2)
const by = args.find((a) => a.startsWith('--by='))?.slice(5) ?? 'function'
const [rtFile, rtUs, baseFile, baseUs, rows = '30'] = args.filter((a) => !a.startsWith('--'))
const keyOf = by === 'module' ? (stack) => moduleKey(stack[0]) : by.startsWith('caller:') ? callerSplit(by.slice(7)) : (stack) => frameKey(stack[0])
const rt = tally(rtFile, keyOf)
const base = tally(baseFile, keyOf)
const perRequest = (t, us, key) => ((t.times.get(key) ?? 0) / t.busy) * Number(us)
const keys = [...new Set([...rt.times.keys(), ...base.times.keys()])]
const table = keys.map((key) => ({ key, rt: perRequest(rt, rtUs, key), base: perRequest(base, baseUs, key) }))
  .map((row) => ({ ...row, extra: row.rt - row.base }))
  .sort((a, b) => b.extra - a.extra)
console.log(`busy from the first request: rtroute ${(rt.busy / 1e6).toFixed(2)} s, baseline ${(base.busy / 1e6).toFixed(2)} s; by ${by}`)
console.log('µs/req extra  rtroute baseline  key')
for (const row of table.slice(0, Number(rows))) {
  console.log(`${row.extra.toFixed(2).padStart(12)} ${row.rt.toFixed(2).padStart(8)} ${row.base.toFixed(2).padStart(8)}  ${row.key}`)
}
const total = (k) => table.reduce((n, row) => n + row[k], 0)
console.log(`${(total('rt') - total('base')).toFixed(2).padStart(12)} ${total('rt').toFixed(2).padStart(8)} ${total('base').toFixed(2).padStart(8)}  (all keys)`)
