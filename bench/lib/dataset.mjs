/**
 * A carrier-scale routing data set, deterministic for a given size: realistic E.164 prefixes
 * (real country codes, deeper prefixes more common, as in LCR tables), four caller groups,
 * time windows on a tenth of the rules, 10k gateways in 2.5k carriers. Written straight into the
 * tables with unnest() batches: the admin import would take minutes for a million rules.
 */
import pg from 'pg'

export const GROUPS = ['default', 'retail', 'wholesale', 'premium']
const GROUP_WEIGHTS = [40, 25, 25, 10]
const CODES = ('1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 ' +
  '90 91 92 93 94 95 98 212 213 216 218 220 221 225 233 234 237 243 244 249 250 251 254 255 256 260 263 27 351 352 353 354 ' +
  '355 356 357 358 359 370 371 372 373 374 375 376 377 380 381 382 385 386 387 389 420 421 423 852 853 855 856 880 886 960 ' +
  '961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 992 993 994 995 996 998').split(' ')
const WINDOWS = [
  { timezone: 'Europe/London', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' }] },
  { timezone: 'Europe/Paris', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '19:00' }] },
  { timezone: 'America/New_York', weekly: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }] },
  { timezone: 'Asia/Tokyo', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '20:00', end: '24:00' }, { days: ['tue', 'wed', 'thu', 'fri', 'sat'], start: '00:00', end: '07:00' }] },
  { timezone: 'UTC', from: '2020-01-01', until: '2099-12-31' },
  { timezone: 'Europe/Berlin', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '07:30', end: '22:00' }], from: '2024-01-01' }
]
export const GATEWAYS = 10_000
// An SBC pair or two per carrier: a carrier expands to a few routes, as in real answers.
const PER_CARRIER = 4

/** mulberry32: the bench's data must be the same on every run. */
export function random (seed) {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = (rnd, list) => list[Math.floor(rnd() * list.length)]
function weighted (rnd, list, weights) {
  let r = rnd() * weights.reduce((a, b) => a + b, 0)
  for (let i = 0; i < list.length; i++) if ((r -= weights[i]) < 0) return list[i]
  return list[list.length - 1]
}
const digits = (rnd, n) => { let s = ''; for (let i = 0; i < n; i++) s += Math.floor(rnd() * 10); return s }
const pad = (n, width) => String(n).padStart(width, '0')

export const gatewayId = (i) => `gw-${pad(i, 5)}`
export const carrierId = (i) => `cr-${pad(i, 4)}`

const PLANS = 2000
const WEIGHTS = [10, 20, 30, 40, 50]

/** 1–3 targets, carriers more often than single gateways; weights only where the sort reads them. */
function targetList (rnd, sort) {
  const targets = []
  const n = 1 + Math.floor(rnd() * 3)
  for (let t = 0; t < n; t++) {
    const weight = sort === 'ordered' ? 1 : pick(rnd, WEIGHTS)
    if (rnd() < 0.6) targets.push({ carrier: carrierId(1 + Math.floor(rnd() * (GATEWAYS / PER_CARRIER))), weight })
    else targets.push({ gateway: gatewayId(1 + Math.floor(rnd() * GATEWAYS)), weight })
  }
  return targets
}

const plan = (p, sort) => targetList(random(0x91a7 + p), sort)

/** One rule per index, generated on demand so a million rules need not sit in memory twice. */
export function ruleAt (i) {
  const rnd = random(0x5eed ^ Math.imul(i + 1, 0x9e3779b1))
  const depth = weighted(rnd, [0, 1, 2, 3, 4, 5, 6], [3, 7, 15, 20, 25, 20, 10])
  const groups = [weighted(rnd, GROUPS, GROUP_WEIGHTS)]
  if (rnd() < 0.1) { const g = pick(rnd, GROUPS); if (!groups.includes(g)) groups.push(g) }
  const windowed = rnd() < 0.1
  const sort = weighted(rnd, ['ordered', 'weighted', 'hash'], [70, 20, 10])
  // LCR tables reuse a few thousand route plans (carrier, then a backup); the rest are one-offs.
  const targets = rnd() < 0.7 ? plan(Math.floor(rnd() * PLANS), sort) : targetList(rnd, sort)
  return {
    id: i + 1,
    groups,
    prefix: `+${pick(rnd, CODES)}${digits(rnd, depth)}`,
    priority: windowed ? 10 : Math.floor(rnd() * 3),
    time_window: windowed ? pick(rnd, WINDOWS) : null,
    sort,
    max_targets: rnd() < 0.3 ? 3 : null,
    attrs: rnd() < 0.05 ? { lcr: 'tier1' } : {},
    targets
  }
}

function gatewayRow (i) {
  const rnd = random(i * 7919)
  return {
    gw_id: gatewayId(i),
    address: `${gatewayId(i)}.${carrierId(Math.ceil(i / PER_CARRIER))}.example.net:5060${rnd() < 0.2 ? ';transport=tcp' : ''}`,
    strip: rnd() < 0.3 ? 1 : 0,
    prefix: rnd() < 0.3 ? '00' : '',
    fr_timer: rnd() < 0.5 ? 5000 : null
  }
}

/** Caller groups: a /16 per group, a From domain per group, and a few exact From users. */
export const callerGroups = () => GROUPS.flatMap((group, g) => [
  { kind: 'cidr', value: `10.${g}.0.0/16`, group },
  { kind: 'from_domain', value: `${group}.pbx.example.com`, group },
  { kind: 'from_uri', value: `vip${g}@${group}.pbx.example.com`, group }
])

/** Query bodies that hit rules: a rule's prefix, extended to a full number, from a caller of its group. */
export function queries (size, count, partition) {
  const rnd = random(0xca11)
  const out = []
  for (let q = 0; q < count; q++) {
    const rule = ruleAt(Math.floor(rnd() * size))
    const number = rule.prefix.length < 13 ? rule.prefix + digits(rnd, 13 - rule.prefix.length) : rule.prefix
    const g = GROUPS.indexOf(rule.groups[0])
    out.push(JSON.stringify({
      call_id: `${pad(q, 6)}-a84b4c76e66710@pbx.example.com`,
      request_uri: `sip:${number}@sbc.example.com:5060`,
      to_uri: `sip:${number}@sbc.example.com`,
      from_uri: `sip:alice${q}@pbx${q % 7}.example.org`,
      from_name: 'Alice Caller',
      from_tag: `${pad(q, 5)}SIPpTag001`,
      to_name: '',
      source_ip: `10.${g}.${q % 250}.${1 + (q % 200)}`,
      source_port: 5060,
      event: 'sip-routing',
      auth: 0,
      partition
    }))
  }
  return out
}

const BATCH = 20_000

/** Writes the partition in one transaction (references are checked at commit). */
export async function writeDataset (url, { partition, rules: size, settings = {} }) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('BEGIN')
    const pid = (await client.query('INSERT INTO partition (name, default_group, settings) VALUES ($1, $2, $3) RETURNING id', [partition, 'default', JSON.stringify(settings)])).rows[0].id
    const gws = Array.from({ length: GATEWAYS }, (_, i) => gatewayRow(i + 1))
    const gwRows = await client.query(`INSERT INTO gateway (partition_id, gw_id, address, strip, prefix, fr_timer)
      SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::int[]) RETURNING id, gw_id`,
    [pid, gws.map((g) => g.gw_id), gws.map((g) => g.address), gws.map((g) => g.strip), gws.map((g) => g.prefix), gws.map((g) => g.fr_timer)])
    const gwDb = new Map(gwRows.rows.map((r) => [r.gw_id, r.id]))
    const carriers = Array.from({ length: GATEWAYS / PER_CARRIER }, (_, i) => carrierId(i + 1))
    const sorts = carriers.map((_, i) => ['ordered', 'ordered', 'weighted', 'weighted', 'hash'][i % 5])
    const crRows = await client.query(`INSERT INTO carrier (partition_id, carrier_id, sort, first_only)
      SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bool[]) RETURNING id, carrier_id`,
    [pid, carriers, sorts, carriers.map((_, i) => i % 10 === 0)])
    const crDb = new Map(crRows.rows.map((r) => [r.carrier_id, r.id]))
    const members = { c: [], g: [], p: [], w: [] }
    for (let i = 1; i <= GATEWAYS; i++) {
      members.c.push(crDb.get(carrierId(Math.ceil(i / PER_CARRIER))))
      members.g.push(gwDb.get(gatewayId(i)))
      members.p.push((i - 1) % PER_CARRIER)
      members.w.push(1 + (i % 4) * 10)
    }
    await client.query(`INSERT INTO carrier_gateway (carrier_id, partition_id, gateway_id, position, weight)
      SELECT c, $1, g, p, w FROM unnest($2::bigint[], $3::bigint[], $4::int[], $5::int[]) AS t(c, g, p, w)`, [pid, members.c, members.g, members.p, members.w])
    for (let start = 0; start < size; start += BATCH) {
      const r = { id: [], g: [], p: [], pr: [], tw: [], s: [], mt: [], a: [] }
      const t = { r: [], pos: [], g: [], c: [], w: [] }
      for (let i = start; i < Math.min(size, start + BATCH); i++) {
        const rule = ruleAt(i)
        r.id.push(rule.id); r.g.push(rule.groups.join(',')); r.p.push(rule.prefix); r.pr.push(rule.priority)
        r.tw.push(rule.time_window === null ? null : JSON.stringify(rule.time_window)); r.s.push(rule.sort); r.mt.push(rule.max_targets); r.a.push(JSON.stringify(rule.attrs))
        rule.targets.forEach((target, pos) => {
          t.r.push(rule.id); t.pos.push(pos); t.w.push(target.weight)
          t.g.push(target.gateway === undefined ? null : gwDb.get(target.gateway))
          t.c.push(target.carrier === undefined ? null : crDb.get(target.carrier))
        })
      }
      await client.query(`INSERT INTO rule (partition_id, id, groups, prefix, priority, time_window, sort, max_targets, attrs)
        SELECT $1, id, string_to_array(g, ','), p, pr, tw::jsonb, s, mt, a::jsonb
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::int[], $9::text[]) AS x(id, g, p, pr, tw, s, mt, a)`,
      [pid, r.id, r.g, r.p, r.pr, r.tw, r.s, r.mt, r.a])
      await client.query(`INSERT INTO rule_target (rule_id, partition_id, position, gateway_id, carrier_id, weight)
        SELECT r, $1, pos, g, c, w FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::bigint[], $6::int[]) AS x(r, pos, g, c, w)`,
      [pid, t.r, t.pos, t.g, t.c, t.w])
    }
    const cgs = callerGroups()
    await client.query(`INSERT INTO caller_group (partition_id, kind, value, group_name)
      SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])`, [pid, cgs.map((c) => c.kind), cgs.map((c) => c.value), cgs.map((c) => c.group)])
    await client.query('COMMIT')
    // VACUUM: the rows the rule_target trigger rewrote (migration 0009) leave dead tuples that autovacuum would clear later.
    await client.query('VACUUM ANALYZE')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    await client.end()
  }
}
