// Scratch: the From URI's spans, overwritten by each lookup.
/** Caller-group matching: exact From user@domain, then From domain, then the longest CIDR holding the source. */
import { parseIpv4, parseIpv6, type CidrLevel } from '../snapshot/caller-index.js'
import type { CallerIndex } from '../snapshot/compiled.js'
import type { GroupSource } from './decision.js'
import { scanSipUri, type SipSpans } from './sip-uri.js'

const from: SipSpans = { userStart: -1, userEnd: -1, hostStart: 0, hostEnd: 0 }

/** What a caller lookup found. */
export interface CallerFound { group: string, groupSource: GroupSource }

/** Whether [start, end) of `text` has an ASCII capital: a host (`[\w.-]`) without one is its own lower case. */
function hasCapital (text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c >= 65 && c <= 90) return true
  }
  return false
}

/** The From URI's exact user@domain, then its domain (lower-cased); false when neither is listed or it does not parse. */
function matchFrom (callers: CallerIndex, fromUri: string, into: CallerFound): boolean {
  const trimmed = fromUri.trim()
  // A name-addr (`<sip:…>`) is accepted as well as a bare URI.
  const uri = trimmed.charCodeAt(0) === 60 ? trimmed.replace(/^<([^>]*)>.*$/, '$1') : trimmed
  if (!scanSipUri(uri, from)) return false
  const lower = !hasCapital(uri, from.hostStart, from.hostEnd)
  if (from.userStart >= 0 && callers.fromUri.size > 0) {
    // With a lower-case host and no password, user@domain is a slice of the URI.
    const key = lower && from.userEnd + 1 === from.hostStart
      ? uri.slice(from.userStart, from.hostEnd)
      : `${uri.slice(from.userStart, from.userEnd)}@${uri.slice(from.hostStart, from.hostEnd).toLowerCase()}`
    const group = callers.fromUri.get(key)
    if (group !== undefined) {
      into.group = group
      into.groupSource = 'from_uri'
      return true
    }
  }
  if (callers.fromDomain.size === 0) return false
  const host = uri.slice(from.hostStart, from.hostEnd)
  const group = callers.fromDomain.get(lower ? host : host.toLowerCase())
  if (group === undefined) return false
  into.group = group
  into.groupSource = 'from_domain'
  return true
}

function matchV4 (callers: CallerIndex, ip: number): string | undefined {
  for (let i = 0; i < callers.v4.length; i++) {
    const level = callers.v4[i] as CidrLevel<number>
    const group = level.networks.get((ip & level.mask) >>> 0)
    if (group !== undefined) return group
  }
  return undefined
}

/** Longest matching network; an IPv4-mapped IPv6 source also matches IPv4 networks. */
function matchIp (callers: CallerIndex, sourceIp: string): string | undefined {
  const v4 = parseIpv4(sourceIp)
  if (v4 !== undefined) return matchV4(callers, v4)
  const v6 = parseIpv6(sourceIp)
  if (v6 === undefined) return undefined
  const mapped = (v6 >> 32n) === 0xffffn ? matchV4(callers, Number(v6 & 0xffffffffn)) : undefined
  if (mapped !== undefined) return mapped
  for (const level of callers.v6) {
    const group = level.networks.get(v6 & level.mask)
    if (group !== undefined) return group
  }
  return undefined
}

/** Caller lookup into `into`: exact From user@domain, then From domain, then the longest CIDR holding the source. */
export function matchCaller (callers: CallerIndex, fromUri: string | undefined, sourceIp: string | undefined, into: CallerFound): boolean {
  if (fromUri !== undefined && fromUri !== '' && (callers.fromUri.size > 0 || callers.fromDomain.size > 0) && matchFrom(callers, fromUri, into)) return true
  if (sourceIp !== undefined && sourceIp !== '' && (callers.v4.length > 0 || callers.v6.length > 0)) {
    const group = matchIp(callers, sourceIp)
    if (group !== undefined) {
      into.group = group
      into.groupSource = 'source_ip'
      return true
    }
  }
  return false
}
