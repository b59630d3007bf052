/** Caller-group lookup structures: From user@domain, From domain, and CIDR networks by prefix length (longest first). */
import net from 'node:net'
import type { CallerGroupData } from '../routing-data.schema.js'
import { ROWS_PER_STEP, type Steps } from './slices.js'
import { parseCidr } from '../../net.js'
import { normaliseCallerGroup } from '../validate-data.js'

/** Networks of one prefix length, keyed by the masked address; lists run longest length first. */
export interface CidrLevel<K> {
  readonly bits: number
  readonly mask: K
  readonly networks: ReadonlyMap<K, string>
}

export interface CallerIndex {
  /** `user@domain` (domain lower-cased) → group. */
  readonly fromUri: ReadonlyMap<string, string>
  readonly fromDomain: ReadonlyMap<string, string>
  readonly v4: ReadonlyArray<CidrLevel<number>>
  readonly v6: ReadonlyArray<CidrLevel<bigint>>
}

/**
 * Dotted-quad IPv4 → uint32; undefined when not one. The grammar of net.isIPv4 (four decimal
 * octets up to 255, no leading zeros), read in one pass: this runs for every call whose caller
 * group comes from its source address, and the regex and split cost a microsecond.
 */
export function parseIpv4 (text: string): number | undefined {
  let value = 0
  let octet = 0
  let digits = 0
  let dots = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      // A leading zero is only allowed as the whole octet.
      if (digits === 1 && octet === 0) return undefined
      if (++digits > 3) return undefined
      octet = octet * 10 + (c - 48)
    } else if (c === 46 && digits > 0 && dots < 3 && octet <= 255) {
      value = value * 256 + octet
      octet = 0
      digits = 0
      dots++
    } else {
      return undefined
    }
  }
  if (digits === 0 || dots !== 3 || octet > 255) return undefined
  return value * 256 + octet
}

/** IPv6 (zone id ignored, embedded IPv4 allowed) → 128-bit bigint; undefined when not one. */
export function parseIpv6 (text: string): bigint | undefined {
  let address = text.replace(/%.*$/, '').toLowerCase()
  if (!net.isIPv6(address)) return undefined
  const colon = address.lastIndexOf(':')
  const v4 = parseIpv4(address.slice(colon + 1))
  if (v4 !== undefined) address = `${address.slice(0, colon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`
  const [head = '', tail] = address.split('::')
  const words = (part: string): string[] => (part === '' ? [] : part.split(':'))
  const left = words(head)
  const right = tail === undefined ? [] : words(tail)
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  let value = 0n
  for (const word of all) value = (value << 16n) | BigInt(parseInt(word, 16))
  return value
}

export const maskV4 = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0)
export const maskV6 = (bits: number): bigint => (bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n))

function addNetwork<K> (levels: Map<number, Map<K, string>>, bits: number, key: K, group: string): boolean {
  let level = levels.get(bits)
  if (level === undefined) levels.set(bits, level = new Map())
  if (level.has(key)) return false
  level.set(key, group)
  return true
}

const toLevels = <K>(levels: Map<number, Map<K, string>>, mask: (bits: number) => K): Array<CidrLevel<K>> =>
  [...levels].sort((a, b) => b[0] - a[0]).map(([bits, networks]) => Object.freeze({ bits, mask: mask(bits), networks }))

interface CallerMaps {
  readonly fromUri: Map<string, string>
  readonly fromDomain: Map<string, string>
  readonly v4: Map<number, Map<number, string>>
  readonly v6: Map<number, Map<bigint, string>>
}

/** Adds one caller-group row; a string says why it cannot be used. A repeated match is refused: first wins. */
function addCaller (row: CallerGroupData, maps: CallerMaps): string | undefined {
  const { data, problems } = normaliseCallerGroup(row)
  if (problems.length > 0) return problems.map((p) => p.message).join('; ')
  const cidr = data.kind === 'cidr' ? parseCidr(data.value) : undefined
  const map = data.kind === 'from_uri' ? maps.fromUri : maps.fromDomain
  const added = cidr === undefined
    ? !map.has(data.value) && map.set(data.value, data.group) !== undefined
    : cidr.family === 4
      ? addNetwork(maps.v4, cidr.bits, ((parseIpv4(cidr.address) ?? 0) & maskV4(cidr.bits)) >>> 0, data.group)
      : addNetwork(maps.v6, cidr.bits, (parseIpv6(cidr.address) ?? 0n) & maskV6(cidr.bits), data.group)
  return added ? undefined : 'the same match is listed before'
}

/** The index as steps (see slices.ts): a partition may list many callers. */
export function * compileCallerIndexSteps (rows: readonly CallerGroupData[], account: (id: string, discarded?: string) => void): Steps<CallerIndex> {
  const maps: CallerMaps = { fromUri: new Map(), fromDomain: new Map(), v4: new Map(), v6: new Map() }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as CallerGroupData
    account(`${row.kind}:${row.value}`, addCaller(row, maps))
    if (i % ROWS_PER_STEP === 0) yield
  }
  return Object.freeze({ fromUri: maps.fromUri, fromDomain: maps.fromDomain, v4: toLevels(maps.v4, maskV4), v6: toLevels(maps.v6, maskV6) })
}
