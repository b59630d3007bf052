/**
 * One data set, in a fresh process: the production load path (one consistent read, its rule pages
 * compiled as they arrive), memory once loaded, then the per-call decision in a tight loop; with --cost,
 * the CPU of one routing query split into parse, decide and serialise. Prints one JSON line.
 * Usage: node --expose-gc bench/scale-worker.mjs <database url> <queries.json> [--cost]
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import fastJson from 'fast-json-stringify'
import sjson from 'secure-json-parse'
import { createDb } from '../dist/db.js'
import { decideRoutes } from '../dist/routing/decide/decide-routes.js'
import { createSnapshotRepository } from '../dist/routing/snapshot/snapshot.repository.js'
import { compileRouteTableFromPages } from '../dist/routing/snapshot/route-table.js'
import { toRouteQuery } from '../dist/routing/decide/routing.routes.js'
import { RouteQuerySchema } from '../dist/routing/decide/routing.schema.js'
import { negativeAnswer, rtjsonOf, RtjsonAnswerSchema } from '../dist/routing/decide/rtjson.js'
import { writeRoutedRtjson } from '../dist/routing/decide/rtjson-writer.js'
import { createValidatorCompiler } from '../dist/validation.js'

const [url, queriesFile, ...flags] = process.argv.slice(2)
const bodies = JSON.parse(readFileSync(queriesFile, 'utf8'))
const health = { stateOf: () => undefined }
const mib = (bytes) => bytes / 1048576
const cpuMs = (since) => { const c = process.cpuUsage(since); return (c.user + c.system) / 1000 }

/** Watches the event loop: the longest gap between 1 ms ticks and the main thread's CPU in it (see lib/loop-monitor.mjs). */
function watchLoop () {
  const statPath = `/proc/self/task/${process.pid}/stat`
  const threadCpu = () => { const s = readFileSync(statPath, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10 }
  let last = performance.now()
  let lastCpu = threadCpu()
  let maxGap = 0
  let maxBusy = 0
  const timer = setInterval(() => {
    const now = performance.now()
    const cpu = threadCpu()
    maxGap = Math.max(maxGap, now - last)
    maxBusy = Math.max(maxBusy, Math.min(now - last, cpu - lastCpu))
    last = now
    lastCpu = cpu
  }, 1)
  return () => { clearInterval(timer); return { maxGapMs: maxGap, maxBusyMs: maxBusy } }
}

const db = createDb({ url, poolMax: 2, onPoolError: () => {} })
const repository = createSnapshotRepository(db.kysely)
const stopWatch = watchLoop()
// The production load: one consistent read whose rule pages are compiled as they arrive
// (route-tables.ts). *read* is the time spent waiting for a page, *compile* the rest.
let waitMs = 0
function timed (pages) {
  const it = pages[Symbol.asyncIterator]()
  return { [Symbol.asyncIterator]: () => ({ next: async () => { const t0 = performance.now(); try { return await it.next() } finally { waitMs += performance.now() - t0 } } }) }
}
const since = process.cpuUsage()
const t = performance.now()
let loaded = await repository.snapshot('bench', async ({ head, version }, pages) => ({ head, ...await compileRouteTableFromPages(head, timed(pages), { partition: 'bench', version }) }))
const totalMs = performance.now() - t
const totalCpuMs = cpuMs(since)
const read = { ms: waitMs }
const compile = { ms: totalMs - waitMs }
// The state is kept as the server keeps it (what an incremental update needs): it counts in the heap after load.
const { table, counts, state } = loaded
const loop = stopWatch()
const peakRss = mib(process.resourceUsage().maxRSS * 1024)
loaded = undefined
await db.close()
globalThis.gc?.()
globalThis.gc?.()
const memory = process.memoryUsage()

const queries = bodies.map((body) => toRouteQuery(JSON.parse(body)))
const now = Date.now()
const outcomes = {}
for (const q of queries) {
  const d = decideRoutes(table, health, q, now)
  outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1
}

/** CPU µs per call of `fn(i)`, over at least `minMs` of CPU (after a warm-up). */
function perCall (fn, minMs = 400) {
  for (let i = 0; i < 20_000; i++) fn(i)
  let calls = 0
  const start = process.cpuUsage()
  do {
    for (let i = 0; i < 10_000; i++) fn(calls++)
  } while (cpuMs(start) < minMs)
  return (cpuMs(start) * 1000) / calls
}

let sink = 0
const decideUs = perCall((i) => { sink += decideRoutes(table, health, queries[i % queries.length], now).outcome.length })
const result = {
  rules: counts.rules.loaded,
  rowHashes: state.hashes.size(),
  gateways: counts.gateways.loaded,
  read,
  compile,
  loadCpuMs: totalCpuMs,
  loop,
  rssMiB: mib(memory.rss),
  heapMiB: mib(memory.heapUsed),
  peakRssMiB: peakRss,
  decideUs,
  outcomes
}

if (flags.includes('--cost')) {
  const validate = createValidatorCompiler()({ schema: RouteQuerySchema, httpPart: 'body' })
  const serialise = fastJson(RtjsonAnswerSchema)
  const tables = new Map([['bench', table]])
  // As fastify parses a JSON body (secure-json-parse, prototype poisoning refused) and validates it.
  const parse = (i) => { const body = sjson.parse(bodies[i % bodies.length], { protoAction: 'error', constructorAction: 'error' }); sink += validate(body) ? 1 : 0; return body }
  const parsed = bodies.map((_, i) => parse(i))
  const decide = (i) => { const body = parsed[i % parsed.length]; const query = toRouteQuery(body); return { query, decision: decideRoutes(tables.get(body.partition), health, query, now) } }
  const decided = parsed.map((_, i) => decide(i))
  // As the server answers: a routed answer comes written (rtjson-writer), the others go through the schema's serialiser.
  const toText = (i) => { const { query, decision } = decided[i % decided.length]; return decision.outcome === 'routed' ? writeRoutedRtjson(decision, query, 'bench') : serialise(negativeAnswer(decision).body) }
  // Buffer.byteLength: the UTF-8 encoding the socket write does, which also flattens a concatenated string.
  result.cost = { parseUs: perCall(parse), decideUs: perCall((i) => { sink += decide(i).decision.outcome.length }), serialiseUs: perCall((i) => { sink += Buffer.byteLength(toText(i)) }) }
  // For comparison: the schema's serialiser over the object answer, as every answer was written before rtjson-writer.ts.
  const viaSchema = (i) => { const { query, decision } = decided[i % decided.length]; return serialise(rtjsonOf(decision, query, 'bench')) }
  result.cost.schemaSerialiseUs = perCall((i) => { sink += Buffer.byteLength(viaSchema(i)) })
}
result.sink = sink > 0
process.stdout.write(`${JSON.stringify(result)}\n`)
