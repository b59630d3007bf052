/**
 * The routing oracle: rtroute against OpenSIPS drouting itself. Seeded drouting tables in a
 * throwaway PostgreSQL database are loaded by a real OpenSIPS 3.6.8 (drouting + db_postgres +
 * mi_http) and imported into a real rtroute by `rtroute import --from-drouting`; then for the same
 * (group, number) pairs:
 *   (a) MI dr_number_routing (matched prefix, gateway/carrier list) against rtroute's explain
 *       (its rule's prefix and targets);
 *   (b) the gateways do_routing() + use_next_gw() try, in order, against rtroute's routes: equal
 *       for ordered lists, the same set for weighted ones, and first-position shares within a
 *       tolerance over repeated queries.
 * Every disagreement is printed with the case that reproduces it (seed, group, number). The
 * deliberate differences (README "Coming from OpenSIPS drouting") are classified explicitly, each
 * with what rtroute must answer instead. Seed: DROUTING_ORACLE_SEED (default 18).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PartitionData } from '../../src/routing/routing-data.schema.js'
import { createDroutingDatabase, insertDroutingRows } from '../helpers/drouting-db.js'
import type { TestDatabase } from '../helpers/pg.js'
import { runCli } from '../helpers/process.js'
import { startTestServer, type TestServer } from '../helpers/test-server.js'
import { EXTRA_PREFIX_CHARS, generateQueries, generateTables, type NumberKind } from './helpers/drouting-generate.js'
import { startDroutingOpenSips, type DroutingOpenSips } from './helpers/drouting-opensips.js'
import { findOpenSips } from './helpers/tools.js'

const SEED = Number(process.env.DROUTING_ORACLE_SEED ?? 18)
const SIZE = { gateways: 40, carriers: 8, rules: 600 }
const QUERIES = 2500
const SHARE_CASES = 10
const SHARE_RUNS = 300
const SHARE_TOLERANCE = 0.12

const opensips = findOpenSips()
const ci = process.env.CI === 'true'
if (opensips.bin === undefined && ci) throw new Error(`drouting oracle under CI=true: ${opensips.message}`)
if (opensips.bin === undefined) console.warn(`[e2e] drouting oracle skipped: ${opensips.message}`)

interface Explained { outcome: string, rule_id?: number, prefix?: string, rtjson: { routes: Array<{ gateway: string }> } }
type MiAnswer = string | { 'Matched Prefix': string, 'GW List'?: Array<{ GATEWAY?: string, CARRIER?: string }> }

let drouting: TestDatabase
let rt: TestServer
let os36: DroutingOpenSips
let dir: string
let data: PartitionData
const generated = generateTables(SEED, SIZE)

const explain = async (number: string, group: string, callId: string): Promise<Explained> =>
  await (await fetch(`${rt.server.url}/v1/partitions/dr/route?number=${encodeURIComponent(number)}&group=${group}&call_id=${callId}`)).json() as Explained

const inAlphabet = (number: string): boolean => [...number].every((c) => /[0-9]/.test(c) || EXTRA_PREFIX_CHARS.includes(c))
const dedupe = (ids: readonly string[]): string[] => [...new Set(ids)]

beforeAll(async () => {
  if (opensips.bin === undefined) return
  drouting = await createDroutingDatabase()
  await insertDroutingRows(drouting.url, generated.rows)
  rt = await startTestServer({ RTROUTE_PROBING: 'false', RTROUTE_ADMIN_RATE_MAX: '10000000' }, { migrate: true })
  const run = runCli(['import', '--from-drouting', drouting.url, '--partition', 'dr', '--extra-prefix-chars', EXTRA_PREFIX_CHARS], { DATABASE_URL: rt.database.url, LOG_LEVEL: 'warn' })
  if (await run.exited !== 0) throw new Error(`import failed:\n${run.output()}`)
  console.log(`[oracle] ${run.stdout().split('\n')[0] ?? ''}`)
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-drouting-oracle-'))
  os36 = await startDroutingOpenSips({ opensips: opensips.bin, modules: opensips.modules ?? '', dir, dbUrl: drouting.url, extraPrefixChars: EXTRA_PREFIX_CHARS })
  for (;;) {
    const res = await fetch(`${rt.server.url}/v1/partitions/dr/data`)
    if (res.ok) { data = await res.json() as PartitionData; break }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  while ((await fetch(`${rt.server.url}/v1/partitions/dr/route?number=1`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
}, 120_000)

afterAll(async () => {
  await os36?.stop()
  await rt?.close()
  await drouting?.drop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** What rtroute's rule lists (rule targets, as MI names them), and whether its expansion is deterministic. */
function ruleOf (ruleId: number | undefined): { list: string[], ordered: boolean, firstOnly: boolean } {
  const rule = data.rules.find((r) => r.id === ruleId)
  const carriers = (rule?.targets ?? []).flatMap((t) => ('carrier' in t ? [data.carriers.find((c) => c.id === t.carrier)] : []))
  return {
    list: (rule?.targets ?? []).map((t) => ('carrier' in t ? `CARRIER:${t.carrier}` : `GATEWAY:${t.gateway}`)),
    ordered: rule?.sort === 'ordered' && carriers.every((c) => c?.sort === 'ordered'),
    firstOnly: carriers.some((c) => c?.first_only === true)
  }
}

type Verdict = 'agree' | 'known_alphabet' | 'known_separator' | 'known_duplicate' | 'disagree'

/**
 * A deliberate difference applies only where its condition holds, and then rtroute must answer as
 * the README says; anything else that differs is a disagreement.
 */
function classify (q: { kind: NumberKind, number: string }, mine: Explained, agrees: boolean, theirs: { prefix: string | undefined, gateways?: string[] }): Verdict {
  if (agrees) return 'agree'
  const prefixesDiffer = theirs.prefix !== mine.prefix
  // drouting walks its prefix tree only as deep as the tree goes before it checks a character, so
  // "4420a1" can match 4420 there; rtroute sends any number outside the alphabet to the prefixless rules.
  if (prefixesDiffer && !inAlphabet(q.number) && q.kind !== 'separator') return mine.outcome === 'no_route' || mine.prefix === '' ? 'known_alphabet' : 'disagree'
  // rtroute drops visual separators from what is a number once they are gone ("64-038" is 64038); drouting does not.
  if (prefixesDiffer && q.kind === 'separator') return mine.prefix === undefined || q.number.replace(/-/g, '').startsWith(mine.prefix) ? 'known_separator' : 'disagree'
  // drouting tries a gateway again when a rule lists it twice (directly and through a carrier); rtroute once, in its first place.
  const listed = theirs.gateways ?? []
  if (!prefixesDiffer && listed.length !== dedupe(listed).length) {
    const routes = mine.rtjson.routes.map((r) => r.gateway)
    const rule = ruleOf(mine.rule_id)
    if (routes.length !== dedupe(routes).length) return 'disagree'
    if (rule.firstOnly) return 'known_duplicate'
    const expected = rule.ordered ? JSON.stringify(dedupe(listed)) : JSON.stringify(dedupe(listed).sort())
    return (rule.ordered ? JSON.stringify(routes) : JSON.stringify([...routes].sort())) === expected ? 'known_duplicate' : 'disagree'
  }
  return 'disagree'
}

describe.skipIf(opensips.bin === undefined)('routing oracle: rtroute against OpenSIPS 3.6 drouting', () => {
  const queries = generateQueries(SEED, generated.prefixes, QUERIES)
  const tally = (): Record<Verdict, number> => ({ agree: 0, known_alphabet: 0, known_separator: 0, known_duplicate: 0, disagree: 0 })

  it('(a) rule selection: MI dr_number_routing against rtroute\'s explain', async () => {
    const counts = tally()
    const disagreements: string[] = []
    const samples: Partial<Record<Verdict, number>> = {}
    for (const [i, q] of queries.entries()) {
      const mi = await os36.mi('dr_number_routing', { group_id: Number(q.group), number: q.number }) as MiAnswer
      const mine = await explain(q.number, q.group, `a${i}`)
      const matched = typeof mi !== 'string'
      const theirs = matched ? { prefix: mi['Matched Prefix'], list: (mi['GW List'] ?? []).map((e) => (e.CARRIER !== undefined ? `CARRIER:${e.CARRIER}` : `GATEWAY:${e.GATEWAY ?? ''}`)) } : undefined
      const ruled = mine.rule_id !== undefined
      const agrees = matched === ruled && (!matched || (theirs?.prefix === mine.prefix && JSON.stringify(theirs?.list) === JSON.stringify(ruleOf(mine.rule_id).list)))
      const verdict = classify(q, mine, agrees, { prefix: matched ? theirs?.prefix : undefined })
      counts[verdict]++
      if (verdict !== 'agree' && verdict !== 'disagree' && (samples[verdict] = (samples[verdict] ?? 0) + 1) <= 3) {
        console.log(`[oracle] (a) ${verdict} e.g. group ${q.group} number ${JSON.stringify(q.number)}: drouting ${JSON.stringify(theirs ?? mi)}, rtroute rule ${String(mine.rule_id)} prefix ${JSON.stringify(mine.prefix)}`)
      }
      if (verdict === 'disagree') {
        disagreements.push(`seed ${SEED} group ${q.group} number ${JSON.stringify(q.number)}: drouting ${JSON.stringify(theirs ?? mi)}, rtroute rule ${String(mine.rule_id)} prefix ${JSON.stringify(mine.prefix)} ${JSON.stringify(ruleOf(mine.rule_id).list)}`)
      }
    }
    const { rows } = generated
    const features = {
      timerec_open: rows.rules.filter((r) => r.timerec !== null && r.timerec !== '20200101T000000|20200101T000100').length,
      timerec_closed: rows.rules.filter((r) => r.timerec === '20200101T000000|20200101T000100').length,
      weighted_rules: rows.rules.filter((r) => r.sort_alg === 'W').length,
      extra_char_prefixes: rows.rules.filter((r) => /[*#]/.test(r.prefix ?? '')).length,
      disabled_gateways: rows.gateways.filter((g) => g.state !== 0).length,
      carriers_first_only: rows.carriers.filter((c) => ((c.flags ?? 0) & 1) !== 0).length,
      carriers_flag_0x2: rows.carriers.filter((c) => ((c.flags ?? 0) & 2) !== 0).length,
      carriers_off: rows.carriers.filter((c) => c.state !== 0).length
    }
    console.log(`[oracle] seed ${SEED}: ${SIZE.gateways} gateways, ${SIZE.carriers} carriers, ${SIZE.rules} rules ${JSON.stringify(features)}`)
    console.log(`[oracle] (a) ${queries.length} MI dr_number_routing queries: ${JSON.stringify(counts)}`)
    for (const line of disagreements.slice(0, 50)) console.log(`[oracle] (a) DISAGREE ${line}`)
    expect(disagreements).toEqual([])
    expect(counts.agree).toBeGreaterThan(queries.length * 0.8)
  }, 600_000)

  it('(b) destinations: do_routing() + use_next_gw() against rtroute\'s routes', async () => {
    const counts = tally()
    const disagreements: string[] = []
    const weighted: Array<{ group: string, number: string }> = []
    const samples: Partial<Record<Verdict, number>> = {}
    let compared = { exact: 0, set: 0, length: 0 }
    for (const [i, q] of queries.entries()) {
      const theirs = await os36.route(q.number, q.group)
      const mine = await explain(q.number, q.group, `b${i}`)
      const routes = mine.rtjson.routes.map((r) => r.gateway)
      const rule = ruleOf(mine.rule_id)
      const outcome = theirs.code === 404 ? 'no_route' : theirs.code === 503 ? 'no_destination' : 'routed'
      let agrees = outcome === mine.outcome
      if (agrees && outcome === 'routed') {
        agrees = theirs.ruleId === mine.rule_id && theirs.prefix === mine.prefix
        if (rule.ordered) { agrees &&= JSON.stringify(theirs.gateways) === JSON.stringify(routes); compared.exact++ } else if (!rule.firstOnly) { agrees &&= JSON.stringify([...theirs.gateways].sort()) === JSON.stringify([...routes].sort()); compared.set++ } else { agrees &&= theirs.gateways.length === routes.length; compared.length++ }
        if (!rule.ordered && weighted.length < SHARE_CASES && routes.length > 1 && !rule.firstOnly) weighted.push(q)
      }
      const verdict = classify(q, mine, agrees, { prefix: theirs.code === 404 ? undefined : theirs.prefix, gateways: theirs.gateways })
      counts[verdict]++
      if (verdict !== 'agree' && verdict !== 'disagree' && (samples[verdict] = (samples[verdict] ?? 0) + 1) <= 3) {
        console.log(`[oracle] (b) ${verdict} e.g. group ${q.group} number ${JSON.stringify(q.number)}: drouting ${theirs.code} rule ${String(theirs.ruleId)} prefix ${JSON.stringify(theirs.prefix)} [${theirs.gateways.join(',')}], rtroute ${mine.outcome} rule ${String(mine.rule_id)} prefix ${JSON.stringify(mine.prefix)} [${routes.join(',')}]`)
      }
      if (verdict === 'disagree') disagreements.push(`seed ${SEED} group ${q.group} number ${JSON.stringify(q.number)}: drouting ${theirs.code} rule ${String(theirs.ruleId)} prefix ${JSON.stringify(theirs.prefix)} [${theirs.gateways.join(',')}], rtroute ${mine.outcome} rule ${String(mine.rule_id)} prefix ${JSON.stringify(mine.prefix)} [${routes.join(',')}]`)
    }
    console.log(`[oracle] (b) ${queries.length} SIP requests through do_routing(): ${JSON.stringify(counts)}; routed lists compared ${JSON.stringify(compared)}`)
    for (const line of disagreements.slice(0, 50)) console.log(`[oracle] (b) DISAGREE ${line}`)
    expect(disagreements).toEqual([])
    compared = { exact: 0, set: 0, length: 0 }

    // First-position shares of weighted lists: drouting's rand() against rtroute's Call-ID seed.
    const shareProblems: string[] = []
    for (const q of weighted) {
      const first = { theirs: new Map<string, number>(), mine: new Map<string, number>() }
      for (let k = 0; k < SHARE_RUNS; k++) {
        const a = (await os36.route(q.number, q.group)).gateways[0] ?? ''
        const b = (await explain(q.number, q.group, `share-${k}`)).rtjson.routes[0]?.gateway ?? ''
        first.theirs.set(a, (first.theirs.get(a) ?? 0) + 1)
        first.mine.set(b, (first.mine.get(b) ?? 0) + 1)
      }
      for (const id of new Set([...first.theirs.keys(), ...first.mine.keys()])) {
        const d = (first.theirs.get(id) ?? 0) / SHARE_RUNS
        const m = (first.mine.get(id) ?? 0) / SHARE_RUNS
        if (Math.abs(d - m) > SHARE_TOLERANCE) shareProblems.push(`seed ${SEED} group ${q.group} number ${q.number}: ${id} first in ${(d * 100).toFixed(1)} % (drouting) vs ${(m * 100).toFixed(1)} % (rtroute)`)
      }
    }
    console.log(`[oracle] (b) first-position shares: ${weighted.length} weighted cases × ${SHARE_RUNS} runs each side, tolerance ${SHARE_TOLERANCE * 100} points: ${shareProblems.length} beyond`)
    for (const line of shareProblems) console.log(`[oracle] (b) SHARE ${line}`)
    expect(shareProblems).toEqual([])
  }, 900_000)
})
