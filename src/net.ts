/** Network address helpers shared by the routing data's checks and the proxy guard's configuration. */
import net from 'node:net'

/** RTROUTE_PROXY_ALLOW's default: loopback only. */
export const LOOPBACK_NETWORKS: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128'])
/** What `any` stands for in RTROUTE_PROXY_ALLOW. */
export const ANY_NETWORKS: readonly string[] = Object.freeze(['0.0.0.0/0', '::/0'])

/** Parses `a.b.c.d/len` or `v6/len` (a bare address is a host route); undefined when invalid. */
export function parseCidr (value: string): { address: string, bits: number, family: 4 | 6 } | undefined {
  const [address = '', length, extra] = value.trim().split('/')
  if (extra !== undefined) return undefined
  const family = net.isIPv4(address) ? 4 : net.isIPv6(address) ? 6 : undefined
  if (family === undefined) return undefined
  const max = family === 4 ? 32 : 128
  const bits = length === undefined ? max : /^\d{1,3}$/.test(length) ? Number(length) : Number.NaN
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined
  return { address: address.toLowerCase(), bits, family }
}
