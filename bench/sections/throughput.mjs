/**
 * Section 1: rtroute's proxy paths against a plain fastify POST (bare-server.mjs, MODE=plain)
 * answering the same bytes, in alternating rounds at each connection count: every figure is a
 * ratio of runs made seconds apart. At 50 connections the Wazo path and the fastify build with
 * rtroute's options (MODE=matched) run in the same rounds. Then the latency at a fixed offered rate.
 */
import { writeFile } from 'node:fs/promises'
import { cannon, cpuMicros, paced, SERVER_CORE } from '../lib/procs.mjs'
import { startBare, postJson } from '../lib/servers.mjs'
import { fmt, median } from '../lib/stats.mjs'

export const RTJSON = '/kamailio/rtjson'
export const WAZO = '/1.0/kamailio/routing'
/** CPU per request of plain fastify ÷ rtroute's, at 50 connections; rtroute's p99 at the fixed rate ÷ plain fastify's. */
export const THROUGHPUT_TARGETS = { cpuRatio: 0.9, p99Ratio: 1.2, p99Ms: 2 }
/** The connection count where every subject runs (the others compare rtroute's rtjson path with plain fastify's only). */
const EVERY_SUBJECT_AT = 50

/** What is compared: rtroute's path ÷ the plain fastify's same path (the matched build ÷ plain explains the options' share). */
const PAIRS = [
  { name: 'rtjson', path: RTJSON, a: 'rtroute', b: 'plain' },
  { name: 'wazo', path: WAZO, a: 'rtroute wazo', b: 'plain wazo' },
  { name: 'matched', path: RTJSON, a: 'matched', b: 'plain' }
]

/** One closed-loop run of `subject` ({ server, path }): autocannon's result and the server's CPU µs per request over it. */
export async function measure (subject, bodies, connections, duration) {
  const before = cpuMicros(subject.server.child.pid)
  const run = cannon({ url: subject.server.base, path: subject.path, bodies, connections, duration })
  const result = await run.result
  const cpu = cpuMicros(subject.server.child.pid) - before
  return { ...result, cpuUsPerReq: cpu / Math.max(1, result.requests) }
}

/** The same bodies at a fixed offered rate (lib/paced-child.mjs): the latency of the service, not of a queue. */
async function measurePaced (subject, bodies, connections, rate, duration) {
  const run = paced({ url: subject.server.base, path: subject.path, bodies, connections, rate, duration })
  await run.ready
  const before = cpuMicros(subject.server.child.pid)
  const result = await run.result
  const cpu = cpuMicros(subject.server.child.pid) - before
  return { ...result, cpuUsPerReq: cpu / Math.max(1, result.answered) }
}

/** `rounds` rounds of every subject in `names`, forwards then backwards: each round's runs are seconds apart. */
async function alternate (names, rounds, run) {
  const runs = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) runs[name].push(await run(name))
  }
  return runs
}

const errorsOf = (list) => list.reduce((n, run) => n + run.errors + run.non2xx, 0)

/** Per-round ratios of each pair whose subjects both ran. */
function pairsOf (runs, key, better) {
  return PAIRS.filter((p) => runs[p.a] !== undefined && runs[p.b] !== undefined).map((p) => {
    const ratios = runs[p.a].map((run, i) => better(run[key], runs[p.b][i][key]))
    return { ...p, ratios, ratio: median(ratios) }
  })
}

/**
 * `rtroute` is a started server (lib/servers.mjs) holding the partition the bodies route in.
 * Returns one row per connection count, the fixed-rate latency, and the answer sizes.
 */
export async function throughput ({ rtroute, bodies: candidates, connections, rounds, duration, pacedRate, answerFile, log }) {
  // Only bodies that route (a closed time window can leave a number without a rule): the bare answer is a routed one.
  const answers = { rtjson: [], wazo: [] }
  const routed = []
  for (const body of candidates) {
    if (routed.length >= 64) break
    const answer = await postJson(`${rtroute.base}${RTJSON}`, body)
    if (answer.status !== 200) throw new Error(`rtroute failed a bench query: ${answer.status} ${answer.text.slice(0, 200)}`)
    if (!answer.text.includes('"success":true')) continue
    const wazo = await postJson(`${rtroute.base}${WAZO}`, body)
    if (wazo.status !== 200) throw new Error(`rtroute's Wazo path failed a bench query: ${wazo.status} ${wazo.text.slice(0, 200)}`)
    answers.rtjson.push(answer.text)
    answers.wazo.push(wazo.text)
    routed.push(body)
  }
  if (routed.length === 0) throw new Error('rtroute routed none of the bench queries')
  const bodies = routed
  const sizes = answers.rtjson.map((text) => Buffer.byteLength(text))
  const byCallId = (texts) => Object.fromEntries(routed.map((body, i) => [JSON.parse(body).call_id, JSON.parse(texts[i])]))
  // The bare endpoints answer each query with rtroute's own answer to it: the same bytes both ways.
  await writeFile(answerFile, JSON.stringify({ rtjson: byCallId(answers.rtjson), wazo: byCallId(answers.wazo) }))
  const plain = await startBare({ answerFile, core: SERVER_CORE, mode: 'plain' })
  const matched = await startBare({ answerFile, core: SERVER_CORE, mode: 'matched' }).catch(async (err) => { await plain.stop(); throw err })
  const subjects = {
    rtroute: { server: rtroute, path: RTJSON },
    plain: { server: plain, path: RTJSON },
    'rtroute wazo': { server: rtroute, path: WAZO },
    'plain wazo': { server: plain, path: WAZO },
    matched: { server: matched, path: RTJSON }
  }
  const rows = []
  let atRate
  try {
    for (const [name, subject] of Object.entries(subjects)) {
      if (subject.server === rtroute) continue
      const texts = subject.path === WAZO ? answers.wazo : answers.rtjson
      for (let i = 0; i < bodies.length; i++) {
        const check = await postJson(`${subject.server.base}${subject.path}`, bodies[i])
        if (check.text !== texts[i]) throw new Error(`${name} does not answer as rtroute does: ${check.text.slice(0, 200)}`)
      }
    }
    log(`${bodies.length} queries of ${Buffer.byteLength(bodies[0])} B; rtjson answers ${Math.min(...sizes)}–${Math.max(...sizes)} B (mean ${Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length)}), byte-identical from every server on both paths`)
    // JIT warm-up of every server and path before anything counts.
    for (const subject of Object.values(subjects)) await measure(subject, bodies, 50, Math.max(1, duration / 2))
    for (const c of connections) {
      const names = c === EVERY_SUBJECT_AT ? Object.keys(subjects) : ['rtroute', 'plain']
      const runs = await alternate(names, rounds, async (name) => await measure(subjects[name], bodies, c, duration))
      const summary = Object.fromEntries(names.map((name) => {
        const pick = (key) => median(runs[name].map((run) => run[key]))
        return [name, { rps: pick('rps'), p50: pick('p50'), p99: pick('p99'), p999: pick('p999'), cpuUsPerReq: pick('cpuUsPerReq'), cpus: runs[name].map((run) => run.cpuUsPerReq), errors: errorsOf(runs[name]) }]
      }))
      const row = {
        connections: c,
        subjects: summary,
        rps: pairsOf(runs, 'rps', (a, b) => a / b),
        // CPU per request of the baseline ÷ rtroute's: what the req/s ratio would be with both CPU-bound on their core.
        cpu: pairsOf(runs, 'cpuUsPerReq', (a, b) => b / a)
      }
      for (let i = 0; i < row.rps.length; i++) {
        log(`${c} connections, ${row.rps[i].a} ÷ ${row.rps[i].b}: req/s ${row.rps[i].ratios.map((x) => x.toFixed(2)).join(' ')}, CPU ${row.cpu[i].ratios.map((x) => x.toFixed(2)).join(' ')}; ${row.rps[i].a} ${summary[row.rps[i].a].rps.toFixed(0)} req/s ${summary[row.rps[i].a].cpuUsPerReq.toFixed(1)} µs/req, ${row.rps[i].b} ${summary[row.rps[i].b].rps.toFixed(0)} req/s ${summary[row.rps[i].b].cpuUsPerReq.toFixed(1)} µs/req`)
      }
      rows.push(row)
    }
    atRate = await latencyAtRate({ subjects, bodies, connections: EVERY_SUBJECT_AT, rate: pacedRate, rounds, duration, log })
  } finally {
    await plain.stop()
    await matched.stop()
  }
  return { rows, atRate, answerMean: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length), answerRange: [Math.min(...sizes), Math.max(...sizes)], queryBytes: Buffer.byteLength(bodies[0]), queries: bodies.length }
}

/**
 * Alternating rounds at `rate` req/s through `connections`: p50 / p99 / p99.9 / max are medians
 * over the rounds; `sentRate` shows whether the generator kept the pace (the lowest round).
 */
async function latencyAtRate ({ subjects, bodies, connections, rate, rounds, duration, log }) {
  const names = ['rtroute', 'plain', 'rtroute wazo', 'plain wazo']
  const runs = await alternate(names, rounds, async (name) => await measurePaced(subjects[name], bodies, connections, rate, duration))
  const summary = (list) => ({
    p50: median(list.map((run) => run.p50)),
    p99: median(list.map((run) => run.p99)),
    p999: median(list.map((run) => run.p999)),
    max: median(list.map((run) => run.max)),
    p99s: list.map((run) => run.p99),
    sentRate: Math.min(...list.map((run) => run.sentRate)),
    cpuUsPerReq: median(list.map((run) => run.cpuUsPerReq)),
    errors: errorsOf(list)
  })
  const result = {
    connections,
    rate,
    subjects: Object.fromEntries(names.map((name) => [name, summary(runs[name])])),
    // rtroute's p99 ÷ plain fastify's, per round (lower is better).
    p99: pairsOf(runs, 'p99', (a, b) => a / b)
  }
  for (const pair of result.p99) log(`${rate} req/s through ${connections} connections, p99 ${pair.a} ÷ ${pair.b}: ${pair.ratios.map((x) => x.toFixed(2)).join(' ')} (${runs[pair.a].map((run) => run.p99.toFixed(2)).join(' ')} ms vs ${runs[pair.b].map((run) => run.p99.toFixed(2)).join(' ')} ms)`)
  return result
}

const ms = (x, d = 2) => fmt(x, d)
const list = (xs, d = 2) => xs.map((x) => ms(x, d)).join(', ')
const LABEL = { rtroute: `rtroute \`${RTJSON}\``, 'rtroute wazo': `rtroute \`${WAZO}\``, plain: `plain fastify \`${RTJSON}\``, 'plain wazo': `plain fastify \`${WAZO}\``, matched: 'fastify with rtroute\'s options (logger, validator)' }

/** The section-1 verdict lines (✅/❌ and the text), for the report's target list. */
export function throughputVerdicts (t) {
  const out = []
  const at50 = t.rows.find((r) => r.connections === EVERY_SUBJECT_AT)
  for (const pair of at50?.cpu.filter((p) => p.name !== 'matched') ?? []) {
    const rps = at50.rps.find((p) => p.name === pair.name)
    out.push([pair.ratio >= THROUGHPUT_TARGETS.cpuRatio, `\`${pair.path}\` at ${at50.connections} connections, CPU per request plain fastify ÷ rtroute ≥ ${THROUGHPUT_TARGETS.cpuRatio}: **${ms(pair.ratio)}** (rounds ${list(pair.ratios)}); req/s rtroute ÷ plain fastify in the same rounds **${ms(rps.ratio)}** (${list(rps.ratios)})`])
  }
  for (const pair of t.atRate?.p99 ?? []) {
    const a = t.atRate.subjects[pair.a]
    const b = t.atRate.subjects[pair.b]
    out.push([pair.ratio <= THROUGHPUT_TARGETS.p99Ratio, `\`${pair.path}\` p99 at a fixed offered ${fmt(t.atRate.rate)} req/s ≤ ${THROUGHPUT_TARGETS.p99Ratio}× plain fastify's: **${ms(pair.ratio)}×** (rounds ${list(pair.ratios)}; rtroute ${ms(a.p99)} ms, plain fastify ${ms(b.p99)} ms)`])
  }
  const rt = t.atRate?.subjects.rtroute
  if (rt !== undefined) out.push([rt.p99 < THROUGHPUT_TARGETS.p99Ms, `\`${RTJSON}\` p99 < ${THROUGHPUT_TARGETS.p99Ms} ms at a fixed offered ${fmt(t.atRate.rate)} req/s: **${ms(rt.p99)} ms** (plain fastify ${ms(t.atRate.subjects.plain.p99)} ms)`])
  return out
}

/** The CPU µs per request of rtroute's rtjson path and of plain fastify at 50 connections (section 4 quotes them). */
export function cpuAt50 (t) {
  const row = t?.rows.find((r) => r.connections === EVERY_SUBJECT_AT)
  return row === undefined ? undefined : { rtroute: row.subjects.rtroute.cpuUsPerReq, plain: row.subjects.plain.cpuUsPerReq }
}

/** Section 1 and 1b as markdown. */
export function renderThroughput (t, meta) {
  const lines = [
    `**1. The proxy paths vs a plain fastify POST** (${t.queries} queries of ${t.queryBytes} B, rtjson answers ${t.answerRange.join('–')} B, mean ${t.answerMean} B, byte-identical from every server; ${meta.rounds} alternating rounds of ${meta.duration} s per connection count; figures are medians over the rounds, ratios per round in brackets. Plain fastify: \`Fastify()\`, one POST per path with the body and response schemas, no logger. CPU ratio: plain fastify's µs per request ÷ rtroute's)`,
    '',
    '| connections | server | req/s | p50 / p99 / p99.9 ms | CPU µs/req (per round) | errors |',
    '|---:|---|---:|---|---|---:|'
  ]
  for (const r of t.rows) {
    for (const [name, x] of Object.entries(r.subjects)) {
      lines.push(`| ${r.connections} | ${LABEL[name]} | ${fmt(x.rps)} | ${ms(x.p50)} / ${ms(x.p99)} / ${ms(x.p999)} | ${fmt(x.cpuUsPerReq, 1)} (${list(x.cpus, 1)}) | ${x.errors} |`)
    }
  }
  lines.push('', '| connections | compared | **CPU ratio** (per round) | req/s ratio (per round) |', '|---:|---|---|---|')
  for (const r of t.rows) {
    for (let i = 0; i < r.cpu.length; i++) {
      lines.push(`| ${r.connections} | ${LABEL[r.cpu[i].a]} ÷ ${LABEL[r.cpu[i].b]} | **${ms(r.cpu[i].ratio)}** (${list(r.cpu[i].ratios)}) | ${ms(r.rps[i].ratio)} (${list(r.rps[i].ratios)}) |`)
    }
  }
  const a = t.atRate
  if (a !== undefined) {
    lines.push('', `**1b. Latency at a fixed offered rate** (${fmt(a.rate)} req/s through ${a.connections} connections, paced: one request every ${ms(1000 / a.rate, 1)} ms, the connections taking turns; ${meta.rounds} alternating rounds of ${meta.duration} s; client-side, timed from the scheduled send when the connection was still busy; medians over the rounds)`, '',
      '| server | p50 / p99 / p99.9 / max ms | p99 per round ms | CPU µs/req | lowest sent rate | errors |', '|---|---|---|---:|---:|---:|')
    for (const [name, x] of Object.entries(a.subjects)) {
      lines.push(`| ${LABEL[name]} | ${ms(x.p50)} / **${ms(x.p99)}** / ${ms(x.p999)} / ${ms(x.max)} | ${list(x.p99s)} | ${fmt(x.cpuUsPerReq, 1)} | ${fmt(x.sentRate)} | ${x.errors} |`)
    }
    lines.push('', '| compared | **p99 ratio** (per round) |', '|---|---|')
    for (const pair of a.p99) lines.push(`| ${LABEL[pair.a]} ÷ ${LABEL[pair.b]} | **${ms(pair.ratio)}** (${list(pair.ratios)}) |`)
  }
  return lines.join('\n')
}
