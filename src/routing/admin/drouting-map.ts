/**
 * drouting rows → one rtroute partition document, pure. Every column is mapped or accounted for:
 * what rtroute cannot carry is a note on its row with the reason and the decision taken, and the
 * counts read like drouting's own "N loaded (N discarded)". Where drouting's loader itself
 * discards a row (a bad probe_mode, an empty groupid, a prefix outside its alphabet…), so does
 * this, so the imported partition routes what drouting routes.
 */
import type { CallerGroupInput, CarrierInput, GatewayInput, PartitionDataInput, RuleInput } from '../routing-data.schema.js'
import { USER_PART_MARKS } from '../prefix-chars.js'
import { checkTimerec } from '../timerec/parse-timerec.js'
import { isTimeZone, parseGatewayAddress } from '../validate-data.js'
import { parseDestinationList, parseGroupList, type DestinationEntry, type DrCarrierRow, type DrGatewayRow, type DrGroupRow, type DrRuleRow, type DroutingTables } from './drouting-tables.js'

export type DroutingTable = 'dr_gateways' | 'dr_carriers' | 'dr_rules' | 'dr_groups'

export interface DroutingNote {
  readonly table: DroutingTable
  /** The row as drouting names it: `gwid gw1`, `carrierid cr1`, `ruleid 7`, `id 3` (dr_groups). */
  readonly row: string
  readonly column: string
  /** discarded: the row is not imported; not_carried: the value is dropped, the row kept; adapted: kept in another form. */
  readonly decision: 'discarded' | 'not_carried' | 'adapted'
  readonly reason: string
  /** false when the note only records what drouting itself does (nothing routes differently): --strict lets it pass. */
  readonly lossy: boolean
}

export interface DroutingCount { loaded: number, discarded: number }
export type DroutingCounts = Record<'gateways' | 'carriers' | 'rules' | 'groups', DroutingCount>

export interface DroutingOptions {
  /** drouting's extra_prefix_chars modparam (global in OpenSIPS, per partition here). */
  readonly extraPrefixChars: string
  /** drouting's default_group modparam, or the group callers not in dr_groups get. */
  readonly defaultGroup: string
  readonly description: string
}

export interface DroutingMapping {
  readonly document: Required<PartitionDataInput>
  readonly notes: DroutingNote[]
  readonly counts: DroutingCounts
}

const ENTITY_ID = /^[A-Za-z0-9_.:-]{1,64}$/
const GATEWAY_PREFIX = /^[0-9+*#]{0,32}$/
const PROBE_MODES = ['never', 'when_down', 'always'] as const
const MAX_PRIORITY = 1_000_000

/** drouting attrs are one opaque string: kept whole, under one key, and returned with the route. */
const attrsOf = (attrs: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ ...(attrs === null || attrs === '' ? {} : { dr_attrs: attrs }), ...extra })
const text = (value: string | null): string => value ?? ''

class Notes {
  readonly list: DroutingNote[] = []
  add (table: DroutingTable, row: string, column: string, decision: DroutingNote['decision'], reason: string, lossy = true): void {
    this.list.push({ table, row, column, decision, reason, lossy })
  }

  /** Notes the row as discarded; undefined, for the mapper to return. */
  discard (table: DroutingTable, row: string, column: string, reason: string, lossy = true): undefined {
    this.add(table, row, column, 'discarded', reason, lossy)
    return undefined
  }
}

function mapGateway (row: DrGatewayRow, notes: Notes): GatewayInput | undefined {
  const name = `gwid ${row.gwid}`
  const discard = (column: string, reason: string, lossy = true): undefined => { notes.add('dr_gateways', name, column, 'discarded', reason, lossy) }
  if (!ENTITY_ID.test(row.gwid)) return discard('gwid', 'rtroute ids are 1 to 64 of A-Z a-z 0-9 _ . : -')
  if (typeof parseGatewayAddress(row.address) === 'string') return discard('address', `${parseGatewayAddress(row.address) as string}`)
  if (row.strip < 0 || row.strip > 64) return discard('strip', `strip ${row.strip}: rtroute strips 0 to 64 characters`)
  if (!GATEWAY_PREFIX.test(text(row.pri_prefix))) return discard('pri_prefix', `pri_prefix "${text(row.pri_prefix)}": rtroute prefixes are up to 32 of 0-9 + * #`)
  const probeMode = PROBE_MODES[row.probe_mode]
  if (probeMode === undefined) return discard('probe_mode', `probe_mode ${row.probe_mode}: drouting discards it too (add_dst knows 0, 1, 2)`, false)
  if (row.state < 0 || row.state > 2) return discard('state', `state ${row.state}: drouting discards it too (add_dst knows 0, 1, 2)`, false)
  if (row.type !== 0) notes.add('dr_gateways', name, 'type', 'adapted', `type ${row.type} has no meaning in rtroute: kept as attrs.dr_type, routed as any other gateway`)
  if (row.state === 2) {
    notes.add('dr_gateways', name, 'state', 'adapted', 'state 2 (disabled by probing) is run-time health in rtroute: imported disabled (enabled false), as drouting holds it; enable it once it answers')
  }
  return {
    id: row.gwid,
    address: row.address,
    strip: row.strip,
    prefix: text(row.pri_prefix),
    socket: text(row.socket),
    attrs: attrsOf(row.attrs, row.type === 0 ? {} : { dr_type: row.type }),
    probe_mode: probeMode,
    enabled: row.state === 0,
    description: text(row.description)
  }
}

/** The members/targets drouting keeps: unknown ids are skipped with a warning, as parse_destination_list does. */
function knownEntries (entries: readonly DestinationEntry[], known: (e: DestinationEntry) => boolean, table: DroutingTable, name: string, notes: Notes): DestinationEntry[] {
  return entries.filter((e) => {
    if (known(e)) return true
    notes.add(table, name, 'gwlist', 'not_carried', `${e.carrier ? 'carrier' : 'gateway'} "${e.id}" is not defined (or was discarded): skipped, as drouting skips it`, false)
    return false
  })
}

/** W over weights that are all 0 keeps the listed order in drouting (weight_based_sort takes the first): ordered. */
function sortOf (alg: string, entries: readonly DestinationEntry[], table: DroutingTable, name: string, notes: Notes, rule: boolean): 'ordered' | 'weighted' {
  const letter = alg.trim()
  if (letter === 'W') {
    if (entries.some((e) => e.weight > 0)) return 'weighted'
    if (entries.length > 1) notes.add(table, name, 'sort_alg', 'adapted', 'W over weights that are all 0: drouting keeps the listed order, so imported as ordered', false)
    return 'ordered'
  }
  if (letter === 'Q' && rule) {
    notes.add(table, name, 'sort_alg', 'not_carried', 'Q (quality-based, OpenSIPS qrouting) has no equivalent in rtroute: imported as ordered')
  } else if (letter !== 'N' && letter !== '' && letter !== '0') {
    notes.add(table, name, 'sort_alg', 'adapted', `sort_alg "${alg}" is no sort for drouting${rule ? '' : ' (a carrier sorts only by W)'}: imported as ordered`, false)
  }
  return 'ordered'
}

function mapCarrier (row: DrCarrierRow, gateways: ReadonlySet<string>, notes: Notes): CarrierInput | undefined {
  const name = `carrierid ${row.carrierid}`
  if (!ENTITY_ID.test(row.carrierid)) return notes.discard('dr_carriers', name, 'carrierid', 'rtroute ids are 1 to 64 of A-Z a-z 0-9 _ . : -')
  const parsed = parseDestinationList(row.gwlist)
  if (typeof parsed === 'string') return notes.discard('dr_carriers', name, 'gwlist', `${parsed}: drouting discards it too`, false)
  if (parsed.some((e) => e.carrier)) return notes.discard('dr_carriers', name, 'gwlist', 'a carrier listing a carrier: drouting discards it too', false)
  const members = knownEntries(parsed, (e) => gateways.has(e.id), 'dr_carriers', name, notes)
  const seen = new Set<string>()
  const unique = members.filter((e) => {
    if (!seen.has(e.id)) return seen.add(e.id)
    notes.add('dr_carriers', name, 'gwlist', 'not_carried', `gateway "${e.id}" listed twice: rtroute keeps its first place only`)
    return false
  })
  if ((row.flags & 0x2) !== 0) {
    notes.add('dr_carriers', name, 'flags', 'adapted', 'flag 0x2 ("disabled") is overwritten by the state column in drouting\'s loader (add_carrier): ignored, state decides', false)
  }
  if ((row.flags & ~0x3) !== 0) notes.add('dr_carriers', name, 'flags', 'adapted', `flags 0x${(row.flags & ~0x3).toString(16)}: no meaning to drouting's loader: ignored`, false)
  return {
    id: row.carrierid,
    sort: sortOf(row.sort_alg, unique, 'dr_carriers', name, notes, false),
    first_only: (row.flags & 0x1) !== 0,
    enabled: row.state === 0,
    attrs: attrsOf(row.attrs),
    description: text(row.description),
    gateways: unique.map((e) => ({ gateway: e.id, weight: Math.min(65535, Math.max(0, e.weight)) }))
  }
}

function mapRule (row: DrRuleRow, refs: { gateways: ReadonlySet<string>, carriers: ReadonlySet<string> }, options: DroutingOptions, notes: Notes): RuleInput | undefined {
  const name = `ruleid ${row.ruleid}`
  const discard = (column: string, reason: string, lossy = true): undefined => { notes.add('dr_rules', name, column, 'discarded', reason, lossy) }
  if (!Number.isSafeInteger(row.ruleid) || row.ruleid < 1) return discard('ruleid', `ruleid ${row.ruleid}: rtroute rule ids start at 1`)
  const groups = parseGroupList(row.groupid)
  if (typeof groups === 'string') return discard('groupid', `${groups}: drouting discards it too`, false)
  if (groups.some((g) => g < 0)) return discard('groupid', `groupid "${row.groupid}": a negative group id`)
  const prefix = text(row.prefix)
  // drouting's alphabet is the digits and extra_prefix_chars only: rtroute's leading + is not in it.
  if (![...prefix].every((c) => (c >= '0' && c <= '9') || options.extraPrefixChars.includes(c))) return discard('prefix', `prefix "${prefix}" holds a character outside the digits and extra_prefix_chars "${options.extraPrefixChars}": drouting discards it too`, false)
  if (prefix.length > 32) return discard('prefix', `prefix "${prefix}" is longer than rtroute's 32 characters`)
  if (row.priority < -MAX_PRIORITY || row.priority > MAX_PRIORITY) return discard('priority', `priority ${row.priority}: rtroute priorities are -${MAX_PRIORITY} to ${MAX_PRIORITY}`)
  const timerec = text(row.timerec)
  const badTime = timerec === '' ? undefined : checkTimerec(timerec, isTimeZone)
  if (badTime !== undefined) return discard('timerec', `${badTime}: drouting discards it too ("bad time definition")`, false)
  const parsed = row.gwlist === null || row.gwlist === '' ? [] : parseDestinationList(row.gwlist)
  if (typeof parsed === 'string') return discard('gwlist', `${parsed}: drouting discards it too`, false)
  const targets = knownEntries(parsed, (e) => (e.carrier ? refs.carriers : refs.gateways).has(e.id), 'dr_rules', name, notes)
  if (row.routeid !== null && row.routeid !== '') {
    notes.add('dr_rules', name, 'routeid', 'not_carried', `routeid "${row.routeid}" names an OpenSIPS script route, which rtroute cannot run: dropped, the rule routes without it`)
  }
  if (row.sort_profile !== null && row.sort_alg.trim() !== 'Q') notes.add('dr_rules', name, 'sort_profile', 'adapted', 'sort_profile applies to Q only: ignored, as drouting ignores it', false)
  if (row.sort_profile !== null && row.sort_alg.trim() === 'Q') notes.add('dr_rules', name, 'sort_profile', 'not_carried', `sort_profile ${row.sort_profile} (qrouting) is not carried`)
  return {
    id: row.ruleid,
    groups: [...new Set(groups.map(String))],
    prefix,
    priority: row.priority,
    ...(timerec === '' ? {} : { timerec }),
    targets: targets.map((e) => (e.carrier ? { carrier: e.id, weight: clampWeight(e.weight) } : { gateway: e.id, weight: clampWeight(e.weight) })),
    sort: sortOf(row.sort_alg, targets, 'dr_rules', name, notes, true),
    attrs: attrsOf(row.attrs),
    description: text(row.description)
  }
}

const clampWeight = (w: number): number => Math.min(65535, Math.max(0, w))

function mapGroup (row: DrGroupRow, seen: Set<string>, notes: Notes): CallerGroupInput | undefined {
  const name = `id ${row.id}`
  const domain = text(row.domain).toLowerCase()
  if (domain === '') return notes.discard('dr_groups', name, 'domain', `username "${row.username}" without a domain: rtroute matches callers by user@domain, domain or address only`)
  if (row.groupid < 0) return notes.discard('dr_groups', name, 'groupid', `groupid ${row.groupid}: a negative group id`)
  const value = `${row.username}@${domain}`
  if (seen.has(value)) return notes.discard('dr_groups', name, 'username', `${value} is listed twice: rtroute keeps the first row`)
  seen.add(value)
  return { kind: 'from_uri', value, group: String(row.groupid), description: text(row.description) }
}

/** The extra_prefix_chars rtroute can take (characters a SIP user part carries unescaped), else why not. */
export function extraPrefixCharsProblem (chars: string): string | undefined {
  const bad = [...chars].find((c) => !/^[A-Za-z]$/.test(c) && !USER_PART_MARKS.includes(c))
  return bad === undefined ? undefined : `extra_prefix_chars "${chars}": "${bad}" is not a character a SIP user part carries unescaped (letters and ${USER_PART_MARKS})`
}

export function mapDrouting (tables: DroutingTables, options: DroutingOptions): DroutingMapping {
  const notes = new Notes()
  const count = <T, U>(rows: readonly T[], map: (row: T) => U | undefined): { kept: U[], counts: DroutingCount } => {
    const kept = rows.map(map).filter((x): x is U => x !== undefined)
    return { kept, counts: { loaded: kept.length, discarded: rows.length - kept.length } }
  }
  const gateways = count(tables.gateways, (row) => mapGateway(row, notes))
  const gatewayIds = new Set(gateways.kept.map((g) => g.id))
  const carriers = count(tables.carriers, (row) => mapCarrier(row, gatewayIds, notes))
  const refs = { gateways: gatewayIds, carriers: new Set(carriers.kept.map((c) => c.id)) }
  const rules = count(tables.rules, (row) => mapRule(row, refs, options, notes))
  const seen = new Set<string>()
  const groups = count(tables.groups, (row) => mapGroup(row, seen, notes))
  return {
    document: {
      partition: { default_group: options.defaultGroup, extra_prefix_chars: options.extraPrefixChars, description: options.description, settings: {} },
      gateways: gateways.kept,
      carriers: carriers.kept,
      rules: rules.kept,
      caller_groups: groups.kept
    },
    notes: notes.list,
    counts: { gateways: gateways.counts, carriers: carriers.counts, rules: rules.counts, groups: groups.counts }
  }
}

/** drouting's report line: "5 gateways loaded (1 discarded), 2 carriers loaded (0 discarded), …". */
export function formatDroutingCounts (counts: DroutingCounts): string {
  return (['gateways', 'carriers', 'rules', 'groups'] as const).map((k) => `${counts[k].loaded} ${k} loaded (${counts[k].discarded} discarded)`).join(', ')
}

/** One line per note: `dr_rules ruleid 7: routeid: not_carried: …`. */
export const formatNote = (n: DroutingNote): string => `${n.table} ${n.row}: ${n.column}: ${n.decision}: ${n.reason}`
