/** The results as markdown: printed by the bench and written into docs/benchmarks.md between its markers. */
import { readFile, writeFile } from 'node:fs/promises'
import { fmt, max, median } from './stats.mjs'
import { cpuAt50, renderThroughput, throughputVerdicts } from '../sections/throughput.mjs'

const markers = (mode) => [`<!-- bench:results:${mode}:begin -->`, `<!-- bench:results:${mode}:end -->`]
const ms = (x, d = 2) => fmt(x, d)
const s = (msValue) => fmt(msValue / 1000, 2)
const size = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`)

// The throughput targets are section 1's own (sections/throughput.mjs, THROUGHPUT_TARGETS).
export const TARGETS = {
  loadS: 5, decideUs: 20, blockMs: 20, propagationMs: 100, heapMiB: 400, editMs: 200
}

function scaleTable (rows) {
  const lines = [
    '| rules | load s | of which waiting for PostgreSQL s | of which compiling s | load CPU s | RSS / heap after load MiB (peak RSS) | decide µs | longest loop block in load, ms (busy) | `POST …/reload` (rows compared) s: worst latency ms, loop block ms (busy) | full reload (`?full=true`) s | req/s during full reload / before | worst latency during full reload ms (before) | server loop block in full reload ms (busy) | errors | rule edit visible ms, median / max (full reloads) |',
    '|---:|---:|---:|---:|---:|---|---:|---|---|---:|---|---|---|---:|---|'
  ]
  for (const r of rows) {
    const w = r.worker
    const x = r.reload
    const v = r.verified
    const verified = v === undefined ? '–' : `${s(v.serverReloadMs)}: **${fmt(v.during.max)}**, ${fmt(v.block?.maxGapMs)} (**${fmt(v.block?.maxBusyGapMs)}**)`
    lines.push(`| ${size(r.rules)} | **${s(w.read.ms + w.compile.ms)}** | ${s(w.read.ms)} | ${s(w.compile.ms)} | ${s(w.loadCpuMs)} | ${fmt(w.rssMiB)} / ${fmt(w.heapMiB)} (${fmt(w.peakRssMiB)}) | **${ms(w.decideUs)}** | ${fmt(w.loop.maxGapMs)} (${fmt(w.loop.maxBusyMs)}) | ${verified} | ${s(x.serverReloadMs)} | ${fmt(x.during.rps)} / ${fmt(x.baseline.rps)} | **${fmt(x.during.max)}** (${fmt(x.baseline.max)}) | ${fmt(x.block?.maxGapMs)} (${fmt(x.block?.maxBusyGapMs)}) | ${x.during.errors + x.during.non2xx} | ${r.edits === undefined ? '–' : `${ms(median(r.edits.delays), 1)} / ${ms(max(r.edits.delays), 1)} (${r.edits.fullReloads})`} |`)
  }
  return lines.join('\n')
}

function verdicts (results) {
  const out = []
  const check = (ok, text) => out.push(`- ${ok ? '✅' : '❌'} ${text}`)
  if (results.throughput !== undefined) for (const [ok, text] of throughputVerdicts(results.throughput)) check(ok, text)
  const biggest = results.scale?.at(-1)
  if (biggest !== undefined) {
    const loadMs = biggest.worker.read.ms + biggest.worker.compile.ms
    check(loadMs < TARGETS.loadS * 1000, `${size(biggest.rules)} rules load < ${TARGETS.loadS} s: **${s(loadMs)} s**${biggest.rules < 1e6 ? ' (the target is for 1M: run the full bench)' : ''}`)
    check(biggest.worker.decideUs < TARGETS.decideUs, `${size(biggest.rules)} rules decide < ${TARGETS.decideUs} µs: **${ms(biggest.worker.decideUs)} µs**`)
    const reloadCheck = (what, of) => {
      const runs = results.scale.map(of).filter((x) => x !== undefined)
      if (runs.length === 0) return
      const blocks = runs.map((x) => x.block?.maxBusyGapMs ?? Infinity)
      const errors = runs.reduce((n, x) => n + x.during.errors + x.during.non2xx, 0)
      check(Math.max(...blocks) <= TARGETS.blockMs && errors === 0, `${what} under load blocks answers ≤ ${TARGETS.blockMs} ms (server event loop, busy time), no errors: **${fmt(Math.max(...blocks))} ms**, ${errors} errors; worst client latency during it **${fmt(Math.max(...runs.map((x) => x.during.max)))} ms**`)
    }
    reloadCheck('`POST …/reload` (every row compared with the snapshot, what differs read)', (r) => r.verified)
    reloadCheck('a full reload (`?full=true`: read and compiled whole)', (r) => r.reload)
    check(biggest.worker.heapMiB < TARGETS.heapMiB, `${size(biggest.rules)} rules heap after load < ${TARGETS.heapMiB} MiB: **${fmt(biggest.worker.heapMiB)} MiB**`)
    const e = biggest.edits
    if (e !== undefined) {
      check(max(e.delays) < TARGETS.editMs && e.fullReloads === 0, `${size(biggest.rules)} rules: one rule edited through the admin API visible in answers < ${TARGETS.editMs} ms: median **${ms(median(e.delays), 1)} ms**, max **${ms(max(e.delays), 1)} ms** over ${e.count} edits; full reloads meanwhile (rtroute_partition_full_reloads_total): **${e.fullReloads}**`)
    }
  }
  if (results.propagation !== undefined) check(results.propagation.medianMs < TARGETS.propagationMs && results.propagation.maxMs < TARGETS.propagationMs, `failover propagation < ${TARGETS.propagationMs} ms: median **${ms(results.propagation.medianMs, 1)} ms**, max **${ms(results.propagation.maxMs, 1)} ms**`)
  return out.join('\n')
}

export function renderResults (results, meta) {
  const parts = [
    `Run: \`${meta.command}\` (${meta.mode}), ${meta.date}, ${fmt(meta.durationS)} s. Machine: ${meta.cores} cores, ${meta.cpu}, Node ${meta.node}, ${meta.pinned ? `server pinned to core ${meta.serverCore}, load generator to core ${meta.loadCore}` : 'no pinning'}; load average ${meta.loadBefore} before, ${meta.loadAfter} after.`,
    '',
    '**Targets**',
    '',
    verdicts(results)
  ]
  if (results.throughput !== undefined) {
    parts.push('', renderThroughput(results.throughput, meta))
  }
  if (results.scale !== undefined) parts.push('', '**2. Scale** (one partition, 10k gateways in 2.5k carriers of 4; reload under 50 connections)', '', scaleTable(results.scale))
  if (results.propagation !== undefined) {
    const p = results.propagation
    parts.push('', `**3. Failover propagation** (feedback on A → B skips the gateway, ${p.trials} trials): median **${ms(p.medianMs, 1)} ms**, p90 ${ms(p.p90Ms, 1)} ms, max **${ms(p.maxMs, 1)} ms**`)
  }
  if (results.cost !== undefined) {
    const c = results.cost
    const at50 = cpuAt50(results.throughput)
    parts.push('', `**4. CPU per routing query** (10k rules, in-process, µs of CPU): parse + validate **${ms(c.parseUs)}**, decide **${ms(c.decideUs)}**, serialise **${ms(c.serialiseUs)}** (the schema's serialiser over the object answer instead: ${ms(c.schemaSerialiseUs)})` +
      (at50 === undefined ? '' : `; whole request in the server at 50 connections: rtroute **${fmt(at50.rtroute, 1)} µs**, plain fastify ${fmt(at50.plain, 1)} µs (difference ${fmt(at50.rtroute - at50.plain, 1)} µs)`))
  }
  return parts.join('\n')
}

/** Replaces the results section of the run's mode (quick or full) in docs/benchmarks.md, between its markers. */
export async function writeDocs (file, mode, markdown) {
  const [BEGIN, END] = markers(mode)
  const text = await readFile(file, 'utf8')
  const begin = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (begin < 0 || end < begin) throw new Error(`${file} has no ${BEGIN} … ${END} section`)
  await writeFile(file, `${text.slice(0, begin + BEGIN.length)}\n${markdown}\n${text.slice(end)}`)
}
