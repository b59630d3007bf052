/**
 * Oracle: rtroute's time recurrences against OpenSIPS 3.6.8's own check_time_rec(string,
 * timestamp). A real OpenSIPS (cfgutils, sl) answers each SIP OPTIONS with the return code of
 * check_time_rec on the request's X-Rec and X-Ts headers (stateless, so thousands of questions
 * take seconds); rtroute compiles the same string (snapshot/timerec-compile.ts) and checks the same
 * instant. Strings and instants are generated from a fixed seed (timerec-oracle-cases.ts), with
 * DST changes of Europe/London, Europe/Bucharest, America/New_York and Australia/Sydney; every
 * disagreement is printed with its string and instant.
 *
 * Deliberate differences, each encoded below: OpenSIPS runs with TZ=UTC, the zone rtroute gives a
 * recurrence without one (OpenSIPS would use the server's); strings OpenSIPS misreads silently are
 * refused by rtroute (REFUSED), so they never meet in a comparison; a date-time in a DST overlap
 * (the repeated hour) is the first of its two instants in rtroute, while glibc's mktime gives the
 * one whose offset its previous call used, so OpenSIPS has no fixed answer: such strings are
 * counted, not compared (inOverlap).
 *
 * Under CI=true a missing OpenSIPS fails the file; elsewhere it is skipped with the hint.
 */
import dgram from 'node:dgram'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkTimerec, parseTimerec, type LocalDateTime, type TimerecExpr } from '../../src/routing/timerec/parse-timerec.js'
import { daysFromCivil } from '../../src/routing/snapshot/timerec-calendar.js'
import { wallClockCount, zoneTable } from '../../src/routing/snapshot/timerec-zones.js'
import { compileTimerec } from '../../src/routing/snapshot/timerec-compile.js'
import { isTimerecOpen } from '../../src/routing/snapshot/timerec-eval.js'
import { startProcess, type Proc } from './helpers/processes.js'
import { findOpenSips } from './helpers/tools.js'
import { freeUdpPort, sipOptions } from './helpers/udp.js'
import { EDGE_CASES, edgeInstants, oracleString } from './timerec-oracle-cases.js'

const SEED = Number(process.env.RTROUTE_E2E_TIMEREC_SEED ?? 18)
const STRINGS = 400
const INSTANTS = 12

const opensips = findOpenSips()
const ci = process.env.CI === 'true'
if (opensips.bin === undefined && ci) throw new Error(`timerec oracle under CI=true: ${opensips.message}`)
if (opensips.bin === undefined) console.warn(`[e2e] timerec oracle skipped: ${opensips.message}`)

/** Strings OpenSIPS reads as something else than what is written; rtroute refuses each, naming the field. */
const REFUSED: ReadonlyArray<[string, RegExp, 'ask' | 'crashes OpenSIPS']> = [
  ['20240101T090000||pt8h|monthly|||-1WE', /field byday, position 1: .*ignores an ordinal on WE/, 'ask'],
  ['20240101T090000||pt8h|daily||12', /field interval: "12" is not 1 to 9/, 'ask'],
  ['20240101T090000||pt8h|weekly|||MO,', /field byday, position 2: is empty/, 'ask'],
  ['20240101T090000||pt8h|weekly|||MO,XX', /field byday, position 2: "XX" is not a weekday/, 'ask'],
  ['20240101T090000||30d', /field duration: "30d" is not a duration/, 'ask'],
  ['20240101T090000||pt8h|fortnightly', /field freq: "fortnightly" is not daily/, 'ask'],
  ['Mars/Olympus|20240101T090000', /field timezone: unknown timezone/, 'ask'],
  // check_freq_interval divides by the interval: SIGFPE, the worker dies.
  ['20240101T090000||pt8h|daily||0', /field interval: "0" is not 1 to 9/, 'crashes OpenSIPS'],
  ['20240101T090000|||monthly||||0', /field bymonthday, position 1: "0" is not a number/, 'ask']
]

const CONFIG = (modules: string, port: number): string => `mpath = "${modules}/"
log_level = -1
stderror_enabled = yes
syslog_enabled = no
udp_workers = 2
socket = udp:127.0.0.1:${port}
loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "cfgutils.so"
route {
  check_time_rec($hdr(X-Rec), $(hdr(X-Ts){s.int}));
  $var(rc) = $rc;
  sl_send_reply(200, "RC $var(rc)");
  exit;
}
`

/** Asks OpenSIPS over one UDP socket, many questions in flight; resolves check_time_rec's return code. */
function asker (port: number) {
  const socket = dgram.createSocket('udp4')
  const pending = new Map<string, (rc: number) => void>()
  let n = 0
  socket.on('message', (msg) => {
    const text = msg.toString('latin1')
    const id = /^Call-ID:\s*(\S+)/mi.exec(text)?.[1] ?? ''
    const rc = /^SIP\/2\.0 200 RC (-?\d+)/.exec(text)?.[1]
    pending.get(id)?.(rc === undefined ? Number.NaN : Number(rc))
    pending.delete(id)
  })
  const ready = new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const ask = async (rec: string, ts: number): Promise<number> => {
    await ready
    const id = `q${++n}`
    const local = socket.address().port
    const msg = `OPTIONS sip:oracle@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${id}\r\n` +
      `From: <sip:oracle@127.0.0.1>;tag=${id}\r\nTo: <sip:oracle@127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n` +
      `X-Rec: ${rec}\r\nX-Ts: ${ts}\r\nContent-Length: 0\r\n\r\n`
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { pending.delete(id); reject(new Error(`no answer to ${rec} @ ${ts}`)) }, 5000)
      pending.set(id, (rc) => { clearTimeout(timer); resolve(rc) })
      socket.send(msg, port, '127.0.0.1')
    })
  }
  return { ask, close: () => { socket.close() } }
}

const localSeconds = (t: LocalDateTime): number => daysFromCivil(t.year, t.month, t.day) * 86_400 + t.hour * 3600 + t.minute * 60 + t.second

/** Whether a date-time of the string falls in a DST overlap of its zone. */
function inOverlap (text: string): boolean {
  const parsed = parseTimerec(text)
  const walk = (e: TimerecExpr): boolean => e.kind === 'group'
    ? e.operands.some(walk)
    : [e.rec.dtstart, e.rec.dtend, e.rec.until].some((t) => t !== null && wallClockCount(zoneTable(e.rec.timezone), localSeconds(t)) === 2)
  return parsed.ok && parsed.expr !== null && walk(parsed.expr)
}

/** How many strings use each field, operator and zone: what the comparisons covered. */
function coverage (texts: readonly string[]): string {
  const count = new Map<string, number>()
  const add = (key: string): void => { count.set(key, (count.get(key) ?? 0) + 1) }
  for (const text of texts) {
    const parsed = parseTimerec(text)
    if (!parsed.ok || parsed.expr === null) continue
    const seen = new Set<string>()
    const walk = (e: TimerecExpr): void => {
      if (e.inverted) seen.add('!')
      if (e.kind === 'group') {
        if (e.operands.length > 1) seen.add(e.op === 'and' ? '&' : '/')
        e.operands.forEach(walk)
        return
      }
      const r = e.rec
      seen.add(r.timezone ?? 'no zone')
      for (const [k, v] of Object.entries(r)) if (v !== null && k !== 'timezone' && k !== 'dtstart') seen.add(k === 'freq' ? `freq ${String(v)}` : k)
      if (r.byday?.some((d) => d.ordinal !== 0) === true) seen.add('byday ordinal')
    }
    walk(parsed.expr)
    seen.forEach(add)
  }
  return [...count].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T> (items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++] as T)
  }))
}

describe.skipIf(opensips.bin === undefined)('time recurrences against OpenSIPS 3.6.8 check_time_rec', () => {
  let dir = ''
  let proc: Proc | undefined
  let oracle: ReturnType<typeof asker> | undefined

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-timerec-oracle-'))
    const port = await freeUdpPort()
    const config = path.join(dir, 'oracle.cfg')
    await writeFile(config, CONFIG(opensips.modules ?? '', port))
    proc = startProcess('opensips', opensips.bin ?? '', ['-F', '-f', config, '-w', dir, '-P', path.join(dir, 'opensips.pid')], { cwd: dir, env: { ...process.env, TZ: 'UTC' } })
    const deadline = Date.now() + 15_000
    while (await sipOptions(port, 300) === undefined) {
      if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`OpenSIPS did not start:\n${proc.output().slice(-4000)}`)
    }
    oracle = asker(port)
  })

  afterAll(async () => {
    oracle?.close()
    await proc?.stop()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('refuses, naming the field, the strings OpenSIPS misreads (and OpenSIPS does answer them)', async () => {
    for (const [text, message, ask] of REFUSED) {
      expect(checkTimerec(text), text).toMatch(message)
      const rc = ask === 'ask' ? await oracle?.ask(text, 1_704_103_200) : ask
      console.log(`[timerec oracle] refused by rtroute: ${JSON.stringify(text)} — OpenSIPS answers ${String(rc)}`)
    }
  })

  it(`agrees with check_time_rec on seeded strings and instants (seed ${SEED})`, async () => {
    const cases = [
      ...EDGE_CASES.map((c) => ({ text: c.text, instants: edgeInstants(c.days) })),
      ...Array.from({ length: STRINGS }, (_, i) => oracleString(SEED * 100_003 + i, INSTANTS))
    ]
    const questions: Array<{ text: string, ts: number, ours: boolean }> = []
    const overlapping = cases.filter((c) => inOverlap(c.text))
    for (const c of cases) {
      if (overlapping.includes(c)) continue
      const compiled = compileTimerec(c.text)
      expect(typeof compiled === 'object' && compiled !== null, `rtroute refuses a generated string: ${c.text}: ${String(compiled)}`).toBe(true)
      if (typeof compiled !== 'object' || compiled === null) continue
      for (const ts of c.instants) questions.push({ text: c.text, ts, ours: isTimerecOpen(compiled, ts * 1000) })
    }
    const disagreements: string[] = []
    let matched = 0
    await pool(questions, 16, async (q) => {
      const rc = await (oracle as ReturnType<typeof asker>).ask(q.text, q.ts)
      if (rc === 1) matched++
      if (rc !== 1 && rc !== -1) disagreements.push(`OpenSIPS rc ${rc} for ${JSON.stringify(q.text)} @ ${q.ts}`)
      else if ((rc === 1) !== q.ours) {
        disagreements.push(`check_time_rec(${JSON.stringify(q.text)}, ${q.ts}) [${new Date(q.ts * 1000).toISOString()}]: OpenSIPS ${rc === 1 ? 'matches' : 'does not match'}, rtroute ${q.ours ? 'matches' : 'does not'}`)
      }
    })
    console.log(`[timerec oracle] seed ${SEED}: ${cases.length} strings (${overlapping.length} not compared: a date-time in a DST overlap), ` +
      `${questions.length} string × instant comparisons, ${matched} matching in OpenSIPS, ${disagreements.length} disagreements`)
    console.log(`[timerec oracle] strings using: ${coverage(cases.map((c) => c.text))}`)
    for (const c of overlapping) console.log(`[timerec oracle] not compared (DST overlap): ${JSON.stringify(c.text)}`)
    for (const d of disagreements.slice(0, 200)) console.log(`[timerec oracle] ${d}`)
    expect(disagreements).toEqual([])
  }, 600_000)
})
