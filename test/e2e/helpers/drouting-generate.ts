/**
 * Seeded, reproducible drouting tables and queries for the routing oracle: overlapping prefixes
 * (and prefixes with the extra characters), priorities, several groups, timerecs open and closed
 * now, carriers with flags 0x1/0x2 and states, disabled gateways, weighted and ordered lists.
 */
import type { DroutingRows } from '../../helpers/drouting-db.js'

/** mulberry32: the same seed, the same tables and queries. */
export function prng (seed: number): () => number {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
}

export const EXTRA_PREFIX_CHARS = '*#'
export const GROUPS = ['1', '2', '3', '4', '5']
/** Open now and for years either side; closed now (a minute in 2020); weekly, every day all day. */
const OPEN = '20200101T000000|20400101T000000'
const CLOSED = '20200101T000000|20200101T000100'
const WEEKLY_OPEN = '20200101T000000|20200101T235959||daily'

export interface Generated {
  readonly rows: Required<DroutingRows>
  /** The prefixes rules use, for building numbers that hit them. */
  readonly prefixes: readonly string[]
}

export function generateTables (seed: number, size: { gateways: number, carriers: number, rules: number }): Generated {
  const r = prng(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T
  const gateways = Array.from({ length: size.gateways }, (_, i) => {
    const x = r()
    return {
      gwid: `gw${i + 1}`,
      address: `127.0.${Math.floor(i / 200) + 1}.${(i % 200) + 1}:5060`,
      strip: r() < 0.2 ? 1 : 0,
      pri_prefix: r() < 0.2 ? '9' : null,
      state: x < 0.12 ? 1 : x < 0.16 ? 2 : 0,
      type: r() < 0.1 ? 3 : 0
    }
  })
  const gwIds = gateways.map((g) => g.gwid)
  const weight = (): string => (r() < 0.2 ? '' : `=${Math.floor(r() * 50)}`)
  const carriers = Array.from({ length: size.carriers }, (_, i) => {
    const members = [...new Set(Array.from({ length: 2 + Math.floor(r() * 3) }, () => pick(gwIds)))]
    return {
      carrierid: `cr${i + 1}`,
      gwlist: members.map((m) => `${m}${weight()}`).join(','),
      flags: pick([0, 0, 1, 2, 3]),
      sort_alg: pick(['N', 'N', 'W']),
      state: r() < 0.12 ? 1 : 0
    }
  })
  const base = ['1', '12', '123', '1234', '2', '33', '331', '3312', '4', '44', '441', '4420', '44207', '49', '491', '5', '55', '6', '61', '7', '8', '81', '9', '91', '99']
  const prefixes = [...base, ...Array.from({ length: 20 }, () => `${pick(base)}${Math.floor(r() * 100)}`), '*1', '*12', '#9', '1*', '*']
  const rules = Array.from({ length: size.rules }, (_, i) => {
    const groups = [...new Set([pick(GROUPS.slice(0, 4)), ...(r() < 0.3 ? [pick(GROUPS.slice(0, 4))] : [])])]
    const targets = Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.3 ? `#${pick(carriers).carrierid}` : pick(gwIds)))
    const t = r()
    return {
      ruleid: i + 1,
      groupid: groups.join(','),
      prefix: r() < 0.06 ? '' : pick(prefixes),
      priority: Math.floor(r() * 4),
      gwlist: [...new Set(targets)].map((id) => `${id}${weight()}`).join(','),
      sort_alg: r() < 0.3 ? 'W' : 'N',
      timerec: t < 0.1 ? OPEN : t < 0.2 ? CLOSED : t < 0.25 ? WEEKLY_OPEN : null
    }
  })
  const groups = [{ username: 'alice', domain: 'example.com', groupid: 1 }, { username: 'bob', domain: 'example.com', groupid: 2 }]
  return { rows: { gateways, carriers, rules, groups }, prefixes }
}

export type NumberKind = 'digits' | 'extra' | 'letters' | 'plus' | 'separator'

/** (group, number) pairs: mostly numbers under the rules' prefixes, some outside the alphabet. */
export function generateQueries (seed: number, prefixes: readonly string[], count: number): Array<{ group: string, number: string, kind: NumberKind }> {
  const r = prng(seed ^ 0x5eed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T
  const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('')
  return Array.from({ length: count }, () => {
    const group = pick(GROUPS)
    const x = r()
    if (x < 0.7) return { group, number: `${pick(prefixes)}${digits(Math.floor(r() * 7))}`, kind: 'digits' }
    if (x < 0.8) return { group, number: `${pick(['*', '#', '*1'])}${digits(1 + Math.floor(r() * 4))}${pick(['', '#', '*'])}`, kind: 'extra' }
    if (x < 0.9) return { group, number: pick(['alice', 'bob.smith', `${pick(prefixes.filter((p) => /^[0-9]+$/.test(p)))}a${digits(2)}`, `x${digits(3)}`]), kind: 'letters' }
    if (x < 0.95) return { group, number: `+${pick(prefixes.filter((p) => /^[0-9]+$/.test(p)))}${digits(4)}`, kind: 'plus' }
    return { group, number: `${digits(2)}-${digits(3)}`, kind: 'separator' }
  }).map((q): { group: string, number: string, kind: NumberKind } => ({ ...q, kind: q.kind === 'digits' && /[*#]/.test(q.number) ? 'extra' : q.kind as NumberKind }))
}
