/**
 * Two builds of rtroute against each other and against plain fastify, in the same alternating
 * rounds: what a change does to the CPU per request at a connection count, measured minutes
 * apart instead of on different days. The other build is a checkout with its own `dist/`
 * (`git worktree add /tmp/base <commit> && cd /tmp/base && npm ci && npm run build`).
 *
 * Usage: npm run build && node bench/compare-builds.mjs <other checkout> [--rounds=10] [--duration=3] [--connections=50]
 *
 * One 10k-rule data set (bench/lib/dataset.mjs) on an embedded PostgreSQL; every server pinned
 * to the server core and checked to answer the same bytes first; each round runs every server
 * once (forwards, then backwards, the start rotating); the CPU ratio is plain fastify's µs per request ÷ the build's,
 * per round, and its median.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { queries, writeDataset } from './lib/dataset.mjs'
import { startBenchPostgres } from './lib/pg.mjs'
import { ROOT, SERVER_CORE } from './lib/procs.mjs'
import { postJson, startBare, startRtroute } from './lib/servers.mjs'
import { median } from './lib/stats.mjs'
import { measure as measureRun } from './sections/throughput.mjs'

const args = process.argv.slice(2)
const other = args.find((a) => !a.startsWith('--'))
if (other === undefined) {
  process.stderr.write('usage: node bench/compare-builds.mjs <other checkout> [--rounds=10] [--duration=3] [--connections=50]\n')
  process.exit(2)
}
const option = (name, fallback) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback)
const rounds = option('rounds', 10)
const duration = option('duration', 3)
const connections = option('connections', 50)
const PATH = '/kamailio/rtjson'

const pg = await startBenchPostgres()
const tmp = await mkdtemp(path.join(os.tmpdir(), 'rtroute-compare-'))
const servers = []
try {
  const url = await pg.createDatabase('bench_compare')
  await writeDataset(url, { partition: 'bench', rules: 10_000 })
  const startOther = (await import(path.join(path.resolve(other), 'bench/lib/servers.mjs'))).startRtroute
  servers.push({ name: `this build (${path.basename(ROOT)})`, server: await startRtroute({ url, core: SERVER_CORE }) })
  servers.push({ name: `other build (${path.basename(path.resolve(other))})`, server: await startOther({ url, core: SERVER_CORE }) })
  // Routed queries only, answered alike by both builds; plain fastify answers each with that answer.
  const bodies = []
  const answers = {}
  for (const body of queries(10_000, 256, 'bench')) {
    if (bodies.length >= 64) break
    const mine = await postJson(`${servers[0].server.base}${PATH}`, body)
    if (!mine.text.includes('"success":true')) continue
    const theirs = await postJson(`${servers[1].server.base}${PATH}`, body)
    if (theirs.text !== mine.text) throw new Error(`the builds answer differently: ${mine.text.slice(0, 200)} | ${theirs.text.slice(0, 200)}`)
    bodies.push(body)
    answers[JSON.parse(body).call_id] = JSON.parse(mine.text)
  }
  const answerFile = path.join(tmp, 'answers.json')
  await writeFile(answerFile, JSON.stringify({ rtjson: answers, wazo: {} }))
  servers.push({ name: 'plain fastify', server: await startBare({ answerFile, core: SERVER_CORE, mode: 'plain' }) })

  const measure = async ({ server }) => {
    const run = await measureRun({ server, path: PATH }, bodies, connections, duration)
    return { cpu: run.cpuUsPerReq, rps: run.rps, errors: run.errors + run.non2xx }
  }
  for (const s of servers) await measure(s)
  const runs = servers.map(() => [])
  for (let r = 0; r < rounds; r++) {
    // Every server takes every place in the round in turn (forwards and backwards, rotated): two
    // runs of the same build measured 10 % apart when one always ran in the middle.
    const rotated = servers.map((_, i) => (i + Math.floor(r / 2)) % servers.length)
    const order = r % 2 === 0 ? rotated : rotated.reverse()
    for (const i of order) runs[i].push(await measure(servers[i]))
    process.stderr.write(`round ${r + 1}/${rounds}: ${servers.map((s, i) => `${s.name} ${runs[i][r].cpu.toFixed(1)} µs`).join(', ')}\n`)
  }
  const plain = runs[servers.length - 1]
  console.log(`${connections} connections, ${rounds} alternating rounds of ${duration} s, ${bodies.length} queries:`)
  for (let i = 0; i < servers.length; i++) {
    const ratios = runs[i].map((run, r) => plain[r].cpu / run.cpu)
    const errors = runs[i].reduce((n, run) => n + run.errors, 0)
    console.log(`- ${servers[i].name}: ${median(runs[i].map((run) => run.cpu)).toFixed(1)} µs/req, ${median(runs[i].map((run) => run.rps)).toFixed(0)} req/s, CPU ratio to plain fastify **${median(ratios).toFixed(2)}** (${ratios.map((x) => x.toFixed(2)).join(', ')}), ${errors} errors`)
  }
} finally {
  for (const { server } of servers) await server.stop()
  await pg.stop()
  await rm(tmp, { recursive: true, force: true })
}
