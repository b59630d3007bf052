/**
 * OpenSIPS drouting's tables as its loader reads them (scripts/postgres/drouting-create.sql:
 * dr_gateways v6, dr_carriers v3, dr_rules v4, dr_groups v2, dr_partitions v1), and the two list
 * syntaxes of its columns, parsed as modules/drouting/dr_load.c and routing.c parse them. Pure.
 */

/** One dr_gateways row. */
export interface DrGatewayRow {
  readonly id: number
  readonly gwid: string
  readonly type: number
  readonly address: string
  readonly strip: number
  readonly pri_prefix: string | null
  readonly attrs: string | null
  readonly probe_mode: number
  readonly state: number
  readonly socket: string | null
  readonly description: string | null
}

export interface DrCarrierRow {
  readonly id: number
  readonly carrierid: string
  readonly gwlist: string
  readonly flags: number
  readonly sort_alg: string
  readonly state: number
  readonly attrs: string | null
  readonly description: string | null
}

export interface DrRuleRow {
  readonly ruleid: number
  readonly groupid: string
  readonly prefix: string | null
  readonly timerec: string | null
  readonly priority: number
  readonly routeid: string | null
  readonly gwlist: string | null
  readonly sort_alg: string
  readonly sort_profile: number | null
  readonly attrs: string | null
  readonly description: string | null
}

export interface DrGroupRow {
  readonly id: number
  readonly username: string
  readonly domain: string | null
  readonly groupid: number
  readonly description: string | null
}

/** The rows of one drouting partition. */
export interface DroutingTables {
  readonly gateways: readonly DrGatewayRow[]
  readonly carriers: readonly DrCarrierRow[]
  readonly rules: readonly DrRuleRow[]
  readonly groups: readonly DrGroupRow[]
}

/** Table names, as the drd_table/drc_table/drr_table/drg_table modparams (or a dr_partitions row) name them. */
export interface DroutingTableNames {
  readonly gateways: string
  readonly carriers: string
  readonly rules: string
  readonly groups: string
}

export const DEFAULT_TABLE_NAMES: DroutingTableNames = { gateways: 'dr_gateways', carriers: 'dr_carriers', rules: 'dr_rules', groups: 'dr_groups' }

/** drouting's IS_SPACE (parse.h). */
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'
const isSeparator = (c: string | undefined): boolean => c === '|' || c === ','

/** strtol's prefix: spaces, an optional sign, decimal digits; the end index, or -1 when no digit. */
function strtol (text: string, from: number): { value: number, end: number } | undefined {
  let i = from
  while (isSpace(text[i])) i++
  let sign = 1
  if (text[i] === '+' || text[i] === '-') sign = text[i++] === '-' ? -1 : 1
  const start = i
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++
  if (i === start) return undefined
  return { value: sign * Number(text.slice(start, i)), end: i }
}

/** dr_rules.groupid ("1,2" or "1|2"), as dr_load.c add_rule parses it; a string says why drouting refuses it. */
export function parseGroupList (text: string): number[] | string {
  const groups: number[] = []
  let i = 0
  while (i < text.length) {
    const n = strtol(text, i)
    if (n === undefined) return `bad group id at position ${i + 1} of "${text}"`
    let end = n.end
    if (!isSpace(text[end]) && !isSeparator(text[end]) && end < text.length) return `bad character "${text[end] ?? ''}" at position ${end + 1} of "${text}"`
    groups.push(n.value)
    while (isSpace(text[end])) end++
    if (isSeparator(text[end])) end++
    i = end
  }
  if (groups.length === 0) return 'no group id in groupid (drouting: "no id in grp list")'
  return groups
}

export interface DestinationEntry {
  readonly carrier: boolean
  readonly id: string
  /** drouting's weight when none is written is 0. */
  readonly weight: number
}

/**
 * A gwlist ("gw1=10,#cr2;gw3" with `,` or `|` between entries), as routing.c
 * parse_destination_list parses it; ids are alphanumerics and `idChars` (the extra_id_chars
 * modparam, default "_-."). A string says why drouting refuses the whole list.
 */
export function parseDestinationList (text: string, idChars = '_-.'): DestinationEntry[] | string {
  const entries: DestinationEntry[] = []
  const idChar = (c: string | undefined): boolean => c !== undefined && (/^[A-Za-z0-9]$/.test(c) || idChars.includes(c))
  let i = 0
  while (i < text.length) {
    while (isSpace(text[i])) i++
    const carrier = text[i] === '#'
    if (carrier) i++
    const start = i
    while (idChar(text[i])) i++
    if (i === start) return `bad id at position ${i + 1} of "${text}"`
    const id = text.slice(start, i)
    while (isSpace(text[i])) i++
    let weight = 0
    if (text[i] === '=') {
      const n = strtol(text, i + 1)
      if (n === undefined) return `bad weight at position ${i + 2} of "${text}"`
      weight = n.value
      i = n.end
      while (isSpace(text[i])) i++
    }
    entries.push({ carrier, id, weight })
    if (isSeparator(text[i])) i++
    else if (i < text.length) return `bad character "${text[i] ?? ''}" at position ${i + 1} of "${text}"`
  }
  return entries
}
