/**
 * Seeded time recurrence cases for the oracle test (timerec-oracle.test.ts): strings rtroute
 * accepts, across every field, operators and zones with and without DST, and for each string
 * instants where answers change — around dtstart, the span edges, the DST changes of its zone.
 */
import { zoneTable } from '../../src/routing/snapshot/timerec-zones.js'

/** mulberry32: small, seeded, reproducible. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const ZONES = [null, 'Europe/London', 'Europe/Bucharest', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'] as const

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
const stamp = (d: Date): string =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`

interface Gen { readonly r: () => number, pick: <T>(list: readonly T[]) => T, int: (lo: number, hi: number) => number }

function gen (seed: number): Gen {
  const r = prng(seed)
  return { r, pick: (list) => list[Math.floor(r() * list.length)] as never, int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)) }
}

/** A wall-clock start, often on a DST change day of the zone, at night, or on a round hour. */
function wallStart (g: Gen, zone: string | null): Date {
  const changes = zone === null ? [] : Array.from(zoneTable(zone).starts).filter((s) => s > 1.5e9 && s < 1.82e9)
  if (changes.length > 0 && g.r() < 0.35) {
    const at = new Date((g.pick(changes) as number) * 1000)
    return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - g.int(0, 1), g.int(0, 3), g.pick([0, 30, 59]), 0))
  }
  return new Date(Date.UTC(g.int(2019, 2027), g.int(0, 11), g.int(1, 28), g.pick([0, 8, 9, 14, 17, 22, 23, g.int(0, 23)]), g.pick([0, 0, 30, 15, g.int(0, 59)]), g.pick([0, 0, 0, g.int(0, 59)])))
}

const DURATIONS = ['pt30m', 'pt1h', 'pt8h', 'pt8h30m', 'pt23h', 'p1d', 'p1dt12h', 'p2d', 'p1w', 'p30d', 'pt90m', '3600s', 'PT14H30M', 'p3w']
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']

function list (g: Gen, n: number, item: () => string): string {
  const out = new Set<string>()
  for (let i = 0; i < n; i++) out.add(item())
  return [...out].join(',')
}

function byday (g: Gen, freq: string): string {
  return list(g, g.int(1, 3), () => {
    const day = g.pick(WEEKDAYS)
    if (day === 'WE' || (freq !== 'monthly' && freq !== 'yearly') || g.r() < 0.4) return day
    const n = freq === 'monthly' ? g.int(1, 5) : g.int(1, 53)
    return `${g.r() < 0.5 ? '-' : ''}${n}${day}`
  })
}

/** One recurrence string. */
export function recurrence (g: Gen): { text: string, zone: string | null, start: number } {
  const zone = g.pick(ZONES)
  const start = wallStart(g, zone)
  const freq = g.pick(['', 'daily', 'weekly', 'weekly', 'monthly', 'yearly'])
  const f: string[] = [zone ?? '', stamp(start), '', '', g.r() < 0.3 ? freq.toUpperCase() : freq, '', '', '', '', '', '', '']
  const end = g.r()
  if (end < 0.4) f[3] = g.pick(DURATIONS)
  else if (end < 0.8) f[2] = stamp(new Date(start.getTime() + g.pick([1800, 3600, 8 * 3600, 30600, 86_400, 3 * 86_400, 40 * 86_400]) * 1000))
  else if (end < 0.88) [f[2], f[3]] = [stamp(new Date(start.getTime() + 7200_000)), g.pick(DURATIONS)] // both: the duration wins
  if (freq !== '') {
    if (g.r() < 0.3) f[5] = stamp(new Date(start.getTime() + g.int(1, 700) * 86_400_000 + g.int(0, 86_399) * 1000))
    if (g.r() < 0.25) f[6] = String(g.int(1, 4))
    if (g.r() < 0.45) f[7] = byday(g, freq)
    if (g.r() < 0.2) f[8] = list(g, g.int(1, 3), () => String(g.r() < 0.3 ? -g.int(1, 7) : g.int(1, 31)))
    if (g.r() < 0.1) f[9] = list(g, g.int(1, 2), () => String(g.r() < 0.3 ? -g.int(1, 40) : g.int(1, 366)))
    if (g.r() < 0.1) f[10] = list(g, g.int(1, 2), () => String(g.r() < 0.3 ? -g.int(1, 5) : g.int(1, 53)))
    if (g.r() < 0.2) f[11] = list(g, g.int(1, 3), () => String(g.int(1, 12)))
  }
  let last = f.length
  while (last > 2 && f[last - 1] === '') last--
  const fields = f.slice(0, last)
  // Without a zone, half the time the empty timezone slot is left out altogether.
  const text = zone === null && g.r() < 0.5 ? fields.slice(1).join('|') : fields.join('|')
  return { text, zone, start: Math.floor(start.getTime() / 1000) }
}

export interface OracleString { readonly text: string, readonly instants: readonly number[] }

/** An expression of 1–3 recurrences with operators, and the instants to ask about. */
export function oracleString (seed: number, instantsPerString: number): OracleString {
  const g = gen(seed)
  const n = g.pick([1, 1, 1, 2, 2, 3])
  const recs = Array.from({ length: n }, () => recurrence(g))
  const neg = (s: string): string => (g.r() < 0.25 ? `!${s}` : s)
  let text = neg(recs[0]?.text ?? '')
  if (n >= 2) text = `${text} ${g.pick(['&', '/'])} ${neg(recs[1]?.text ?? '')}`
  if (n === 3) text = `${neg(`(${text})`)} ${g.pick(['&', '/'])} ${neg(recs[2]?.text ?? '')}`
  const instants = new Set<number>()
  for (const rec of recs) {
    const changes = rec.zone === null ? [] : Array.from(zoneTable(rec.zone).starts).filter((s) => s > rec.start - 86_400 * 400 && s < rec.start + 86_400 * 800)
    for (const d of [0, -1, 1]) instants.add(rec.start + d)
    for (let i = 0; instants.size < instantsPerString * (recs.indexOf(rec) + 1) / n; i++) {
      const kind = g.r()
      if (kind < 0.3 && changes.length > 0) instants.add((g.pick(changes) as number) + g.pick([-3601, -3600, -1, 0, 1, 1800, 3599, 3600, 7200, 86_399]))
      else if (kind < 0.65) instants.add(rec.start + g.int(0, 120) * g.pick([86_400, 7 * 86_400, 30 * 86_400]) + g.pick([-1, 0, 1, 1800, 28_800, 30_599, 30_600, 30_601, 86_399]))
      else instants.add(rec.start + g.int(-86_400 * 30, 86_400 * 800))
      if (i > instantsPerString * 4) break
    }
  }
  return { text, instants: [...instants].filter((t) => t > 0) }
}

/**
 * Hand-picked strings (the READMEs' examples, DST gaps and overlaps, wrapping spans, the by…
 * formulas' corners) with the days to sweep: every 20 minutes over three days from each, and ±1 s
 * around each hour, plus a yearly sample.
 */
export const EDGE_CASES: ReadonlyArray<{ text: string, days: readonly string[] }> = [
  { text: '20210104T080000|20211231T180000||WEEKLY|||MO,TU,WE,TH,FR & !20210104T120000|20211231T140000||WEEKLY|||MO,TU,WE,TH,FR', days: ['2021-01-08', '2021-06-14'] },
  { text: 'America/New_York|20210104T090000|20210104T170000||WEEKLY|||MO,TU,WE,TH,FR & !(Europe/Amsterdam|20210427T000000|20210428T000000 / Europe/London|20211227T000000|20211228T000000)', days: ['2021-04-26', '2021-12-26', '2021-03-13'] },
  { text: 'Europe/Bucharest|20120101T000000|20130101T000000', days: ['2011-12-31', '2012-12-31', '2012-03-25'] },
  { text: '20121101T000000||p30d', days: ['2012-11-30', '2012-10-31'] },
  { text: 'America/New_York|20240310T023000||pt1h|daily', days: ['2024-03-09', '2024-11-02'] },
  { text: 'America/New_York|20241103T003000||pt3h|daily', days: ['2024-11-02', '2025-03-08'] },
  { text: 'America/New_York|20240308T090000||pt8h|daily||3', days: ['2024-03-08', '2024-11-01'] },
  { text: 'Europe/London|20240331T003000|20240331T030000', days: ['2024-03-30'] },
  { text: 'Europe/London|20241027T003000||pt2h|weekly|||SU', days: ['2024-10-26', '2025-03-29'] },
  { text: 'Europe/London|20240101T090000|20240101T143000||weekly|||MO,TU,WE,TH,FR', days: ['2024-03-29', '2024-10-25'] },
  { text: 'Europe/Bucharest|20201225T000000|20201226T000000||yearly||||25|||12', days: ['2023-12-24', '2024-12-24'] },
  { text: 'Europe/London|20240105T000000||p1d|monthly|||-1FR', days: ['2024-03-28', '2024-05-30', '2024-02-22'] },
  { text: 'Europe/Bucharest|20240105T080000||pt10h|monthly|||1MO,-2FR', days: ['2024-04-01', '2024-04-18', '2024-10-24'] },
  { text: 'America/New_York|20240105T220000||p2dt8h|weekly', days: ['2024-03-08', '2024-11-01'] },
  { text: '20240125T120000||p10d|monthly', days: ['2024-01-30', '2024-02-24', '2024-03-04'] },
  { text: '20240101T000000||p1d|yearly|||MO|||1,-1', days: ['2024-01-01', '2024-12-23', '2025-12-29'] },
  { text: '20240101T000000||p1d|yearly|||||-1,60', days: ['2024-02-28', '2024-12-30', '2025-02-28'] },
  { text: '20240101T000000||p1d|monthly||||31,-1', days: ['2024-01-30', '2024-04-29', '2024-02-28'] },
  { text: 'Australia/Sydney|20240406T013000||pt2h|daily|20241231T000000', days: ['2024-04-06', '2024-10-05'] },
  { text: 'Asia/Kolkata|20240101T233000||pt1h|weekly|||SA,SU', days: ['2024-01-06'] },
  { text: '!(Europe/London|20240101T000000||pt12h|daily / America/New_York|20240101T000000||pt12h|daily)', days: ['2024-03-10', '2024-03-31'] },
  { text: 'Europe/London|20240101T090000||pt8h|weekly||2|MO,WE', days: ['2024-01-08', '2024-01-15'] },
  { text: 'Europe/London|20240101T000000|||weekly', days: ['2024-01-06', '2024-03-31'] },
  { text: 'Europe/London|20240115T100000|||monthly', days: ['2024-01-31', '2024-03-31'] },
  { text: 'Europe/London|20240301T000000|||yearly|20260101T000000', days: ['2024-12-31', '2025-10-26'] },
  { text: '20210104T080000||pt10h|WEEKLY|||MO,TU,WE,TH,FR & !20210104T120000||pt2h|WEEKLY|||MO,TU,WE,TH,FR', days: ['2021-03-03'] },
  { text: '20240101T000000||p1d|daily|20240110T120000', days: ['2024-01-10'] },
  { text: '20240101T000000||p1d|monthly|||FR', days: ['2024-03-01', '2024-03-08'] },
  { text: '20240101T000000||p1d|monthly||||31', days: ['2024-01-31', '2024-04-01', '2024-05-01'] },
  { text: 'Europe/London|20240103T100000|||weekly', days: ['2024-01-06', '2024-01-10'] },
  { text: '(20240101T000000||pt12h|daily & !20240101T060000||pt12h|daily) / 20240101T060000||pt12h|daily', days: ['2024-02-01'] },
  { text: 'Europe/London|20240101T000000||pt12h|daily/20240101T060000||pt12h|daily', days: ['2024-02-01'] },
  { text: 'America/New_York|20050101T090000||pt8h|daily||2', days: ['2006-04-02', '2007-03-11', '2007-11-04'] },
  { text: 'Europe/London|20400101T093000||pt1h|weekly||3|MO', days: ['2040-03-26', '2061-10-31', '2099-12-28'] },
  { text: 'Australia/Sydney|20300101T000000||p1d|yearly|||1SU,-1SA', days: ['2030-01-05', '2030-12-27', '2031-01-04'] },
  { text: '20240110T120000|20240110T080000||daily', days: ['2024-01-11'] },
  { text: '20240110T120000|20240105T080000||weekly|||MO,FR', days: ['2024-01-12', '2024-01-15'] },
  { text: '20240110T120000||pt1h|daily|20240101T000000', days: ['2024-01-10'] },
  { text: '20200101T000000||p1d|yearly|||||366,-366', days: ['2020-12-31', '2021-01-01', '2024-12-31'] },
  { text: '20240101T000000||p1d|monthly||||-31', days: ['2024-02-01', '2024-04-01', '2024-01-01'] },
  { text: '20240101T000000||p1d|monthly|||5FR,-5MO', days: ['2024-02-02', '2024-03-29', '2024-04-01'] },
  { text: 'Europe/London|20240115T080000||p31d|monthly|||||||2,3', days: ['2024-02-15', '2024-03-30'] },
  { text: 'Europe/London|20240115T080000||p366d|yearly', days: ['2025-01-14'] },
  { text: 'Europe/London|20240115T080000||p30d|monthly', days: ['2024-02-13', '2024-03-14'] }
]

/** The instants an edge case is asked about. */
export function edgeInstants (days: readonly string[]): number[] {
  const out = new Set<number>()
  for (const day of days) {
    const t0 = Date.parse(`${day}T00:00:00Z`) / 1000 - 43_200
    for (let s = 0; s < 4 * 86_400; s += 1200) out.add(t0 + s)
    for (let h = 0; h < 96; h++) { out.add(t0 + h * 3600 - 1); out.add(t0 + h * 3600 + 1) }
  }
  const g = prng(days.length * 7919 + (days[0]?.length ?? 0))
  const base = Date.parse(`${days[0] ?? '2024-01-01'}T00:00:00Z`) / 1000
  for (let i = 0; i < 60; i++) out.add(base + Math.floor(g() * 400 * 86_400) - 30 * 86_400)
  return [...out]
}
