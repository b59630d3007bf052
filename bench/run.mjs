/**
 * `npm run bench [-- --quick] [-- --no-docs] [-- --only=throughput,scale,cost,propagation] [-- --sizes=1000000]`: starts an
 * embedded PostgreSQL in a temp dir, writes the data sets, runs rtroute and the plain fastify
 * baseline (bench/bare-server.mjs) as pinned child processes, and prints the results (and writes them into
 * docs/benchmarks.md). Everything listens on 127.0.0.1; every child is ended by its PID.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { queries, writeDataset } from './lib/dataset.mjs'
import { startBenchPostgres } from './lib/pg.mjs'
import { LOAD_CORE, pinning, ROOT, SERVER_CORE } from './lib/procs.mjs'
import { renderResults, writeDocs } from './lib/report.mjs'
import { startRtroute } from './lib/servers.mjs'
import { propagation } from './sections/propagation.mjs'
import { editsVisible, reloadUnderLoad, scaleWorker } from './sections/scale.mjs'
import { max, median } from './lib/stats.mjs'
import { throughput } from './sections/throughput.mjs'

const args = process.argv.slice(2)
// The offered rate of the latency measurement: well under what either server sustains on this
// machine (about 4,500 and 7,000 req/s at saturation), so the figure is the service's latency.
const PACED_RATE = 2000
const quick = args.includes('--quick')
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const runs = (section) => only === undefined || only.includes(section)
const plan = quick
  ? { sizes: [10_000, 100_000], connections: [1, 10, 50, 200], rounds: 2, duration: 2, trials: 100, baselineS: 2, pacedRate: PACED_RATE, edits: 20 }
  : { sizes: [10_000, 100_000, 1_000_000], connections: [1, 10, 50, 200], rounds: 5, duration: 8, trials: 100, baselineS: 5, pacedRate: PACED_RATE, edits: 50 }

const sizesArg = args.find((a) => a.startsWith('--sizes='))?.slice(8).split(',').map(Number)
if (sizesArg !== undefined) plan.sizes = sizesArg

const started = performance.now()
const log = (line) => { process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`) }
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ')
const cpuModel = () => /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown'
const label = (n) => (n >= 1e6 ? `${n / 1e6}m` : `${n / 1e3}k`)

const meta = {
  command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
  mode: quick ? 'quick' : 'full',
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  cores: os.availableParallelism(),
  cpu: cpuModel(),
  node: process.version,
  pinned: pinning(),
  serverCore: SERVER_CORE,
  loadCore: LOAD_CORE,
  loadBefore: loadavg(),
  rounds: plan.rounds,
  duration: plan.duration
}
log(`${meta.mode} run on ${meta.cores} cores (${meta.cpu}), Node ${meta.node}, load average ${meta.loadBefore}${meta.pinned ? '' : '; taskset unavailable: nothing pinned'}`)

const tmp = await mkdtemp(path.join(os.tmpdir(), 'rtroute-bench-run-'))
const pg = await startBenchPostgres()
const results = {}
const open = []
try {
  const sizes = runs('scale') ? plan.sizes : [plan.sizes[0]]
  const urls = new Map()
  for (const n of sizes) {
    const t = performance.now()
    const url = await pg.createDatabase(`bench_${label(n)}`)
    await writeDataset(url, { partition: 'bench', rules: n })
    urls.set(n, url)
    log(`data set ${label(n)} written in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  }
  const small = sizes[0]
  const bodies = queries(small, 128, 'bench')

  // One rtroute at a time, on one data set; stopped before a worker measures another size, so
  // no server is loading a partition while a load is being timed.
  let server
  const stopServer = async () => {
    if (server === undefined) return
    await server.stop()
    open.splice(open.indexOf(server), 1)
    server = undefined
  }
  const serverFor = async (n) => {
    if (server?.rules === n) return server
    await stopServer()
    log(`starting rtroute on the ${label(n)} data set`)
    server = Object.assign(await startRtroute({ url: urls.get(n), core: SERVER_CORE }), { rules: n })
    open.push(server)
    return server
  }
  if (runs('throughput')) {
    results.throughput = await throughput({ rtroute: await serverFor(small), bodies, connections: plan.connections, rounds: plan.rounds, duration: plan.duration, pacedRate: plan.pacedRate, answerFile: path.join(tmp, 'answer.json'), log })
  }
  if (runs('scale') || runs('cost')) {
    results.scale = []
    for (const n of sizes) {
      if (server?.rules !== n) await stopServer()
      const queriesFile = path.join(tmp, `queries-${n}.json`)
      await writeFile(queriesFile, JSON.stringify(queries(n, 4096, 'bench')))
      const worker = await scaleWorker({ url: urls.get(n), queriesFile, cost: n === small })
      if (worker.cost !== undefined) results.cost = worker.cost
      log(`${label(n)}: load ${((worker.read.ms + worker.compile.ms) / 1000).toFixed(2)} s (waiting for PostgreSQL ${(worker.read.ms / 1000).toFixed(2)}, compiling ${(worker.compile.ms / 1000).toFixed(2)}, CPU ${(worker.loadCpuMs / 1000).toFixed(2)}), heap ${worker.heapMiB.toFixed(0)} MiB, decide ${worker.decideUs.toFixed(2)} µs, outcomes ${JSON.stringify(worker.outcomes)}`)
      if (!runs('scale')) break
      // POST …/reload as an operator sends it (every row compared, what differs read), then ?full=true (read and compiled whole).
      const reloadLine = (what, x) => `${label(n)}: ${what} ${(x.serverReloadMs / 1000).toFixed(2)} s under load: ${x.during.rps.toFixed(0)} req/s (before ${x.baseline.rps.toFixed(0)}), worst latency ${x.during.max.toFixed(1)} ms (before ${x.baseline.max.toFixed(1)}), server loop block ${x.block?.maxGapMs.toFixed(0)} ms (busy ${x.block?.maxBusyGapMs.toFixed(0)} ms)`
      const verified = await reloadUnderLoad({ server: await serverFor(n), bodies: queries(n, 64, 'bench'), connections: 50, baselineS: plan.baselineS, full: false })
      log(reloadLine('reload (every row compared)', verified))
      const reload = await reloadUnderLoad({ server: await serverFor(n), bodies: queries(n, 64, 'bench'), connections: 50, baselineS: plan.baselineS, full: true })
      log(reloadLine('full reload (?full=true)', reload))
      const edits = await editsVisible({ server: await serverFor(n), count: plan.edits })
      log(`${label(n)}: ${edits.count} rule edits through the admin API visible in answers after median ${median(edits.delays).toFixed(1)} ms, max ${max(edits.delays).toFixed(1)} ms; full reloads meanwhile: ${edits.fullReloads}`)
      results.scale.push({ rules: n, worker, reload, verified, edits })
    }
  }
  await stopServer()
  if (runs('propagation')) {
    results.propagation = await propagation({ url: await pg.createDatabase('bench_propagation'), trials: plan.trials, log })
  }
} finally {
  for (const server of open) await server.stop()
  await pg.stop()
  await rm(tmp, { recursive: true, force: true })
}

meta.loadAfter = loadavg()
meta.durationS = (performance.now() - started) / 1000
const markdown = renderResults(results, meta)
process.stdout.write(`\n${markdown}\n`)
if (!args.includes('--no-docs') && only === undefined && sizesArg === undefined) {
  await writeDocs(path.join(ROOT, 'docs/benchmarks.md'), meta.mode, markdown)
  log(`results written into docs/benchmarks.md (${meta.mode} run section)`)
}
