/**
 * Who is really asking. RTROUTE_TRUST_PROXY lists the hops (reverse proxies) whose X-Forwarded-For
 * is believed; Fastify resolves `request.ip` through them. The rule for the others: a request that
 * carries a forwarding header (X-Forwarded-For, Forwarded, X-Real-IP) but arrives from a hop that
 * is not trusted was relayed by something rtroute does not know, so its client is unknown. An
 * unknown client is never loopback (no admin exemption) and passes a source allow-list only when
 * that list allows any source. Without forwarding headers the client is the TCP peer.
 */
import net from 'node:net'
import type { FastifyRequest } from 'fastify'

/** Matches an address against canonical CIDRs (`10.0.0.0/8`, `::1/128`). */
export type AddressMatcher = (address: string | undefined) => boolean

export function blockList (cidrs: readonly string[]): net.BlockList {
  const list = new net.BlockList()
  for (const cidr of cidrs) {
    const [address = '', bits = ''] = cidr.split('/')
    list.addSubnet(address, Number(bits), net.isIPv6(address) ? 'ipv6' : 'ipv4')
  }
  return list
}

/** `::ffff:10.0.0.1` (a dual-stack listener's view of an IPv4 client) is checked as 10.0.0.1. */
export function sourceAllowed (list: net.BlockList, address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (v4 !== undefined) return list.check(v4, 'ipv4')
  return net.isIPv6(address) ? list.check(address, 'ipv6') : net.isIPv4(address) && list.check(address, 'ipv4')
}

/** Answers remembered per address: BlockList.check costs microseconds, a Map lookup tens of nanoseconds. */
const CACHE_MAX = 4096

export function matcher (cidrs: readonly string[]): AddressMatcher {
  if (cidrs.length === 0) return () => false
  const list = blockList(cidrs)
  // Bounded: a flood of distinct sources starts the cache over rather than growing it.
  const seen = new Map<string, boolean>()
  return (address) => {
    if (address === undefined) return false
    let allowed = seen.get(address)
    if (allowed === undefined) {
      allowed = sourceAllowed(list, address)
      if (seen.size >= CACHE_MAX) seen.clear()
      seen.set(address, allowed)
    }
    return allowed
  }
}

/** Fastify's `trustProxy` for these hops; undefined (X-Forwarded-For never believed) for none. */
export function trustProxyOption (cidrs: readonly string[]): ((address: string, hop: number) => boolean) | undefined {
  if (cidrs.length === 0) return undefined
  const trusted = matcher(cidrs)
  return (address) => trusted(address)
}

/** The real client's address; undefined when an untrusted hop relayed the request (see above). */
export function realClient (request: FastifyRequest, trusted: AddressMatcher): string | undefined {
  const peer = request.socket.remoteAddress
  if (trusted(peer)) return request.ip
  const headers = request.headers
  if (headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined || headers['x-real-ip'] !== undefined) return undefined
  return peer
}

export function isLoopback (address: string | undefined): boolean {
  if (address === undefined) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
