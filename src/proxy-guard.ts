/**
 * Who may use the proxy paths (routing query, failover feedback, call events): an optional allow-list of source
 * networks and an optional shared secret in `X-Rtroute-Secret`, compared in constant time. A
 * refusal is a 403 the proxy script can parse: rtjson-shaped on the rtjson path, the Wazo
 * envelope on the Wazo path, `{error, message}` elsewhere. Unconfigured, no hook is installed.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import net from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'

// Call events count against capacity limits: a forged `start` fills a gateway as surely as a forged failure marks it down.
export const PROXY_PATHS: ReadonlySet<string> = new Set(['/kamailio/rtjson', '/1.0/kamailio/routing', '/kamailio/feedback', '/kamailio/calls'])
export const SECRET_HEADER = 'x-rtroute-secret'

export interface ProxyGuardOptions {
  /** Canonical CIDRs (`10.0.0.0/8`, `::1/128`); empty: any source. */
  readonly allow: readonly string[]
  /** Accepted secrets; empty: no header needed. */
  readonly secrets: readonly string[]
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Equal-length digests, every secret compared: timing tells neither the length nor which one matched. */
function secretMatches (candidate: string, secrets: readonly Buffer[]): boolean {
  const hashed = digest(candidate)
  let ok = false
  for (const secret of secrets) ok = timingSafeEqual(hashed, secret) || ok
  return ok
}

function blockList (cidrs: readonly string[]): net.BlockList {
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

/** The refusal in the shape the caller of that path reads. SIP 500: the caller is not at fault, the proxy's setup is. */
function refusal (path: string, message: string): unknown {
  if (path === '/kamailio/rtjson') {
    return { rtjson: { success: false, reason: 'forbidden', sip_code: 500, sip_reason: 'Server Internal Error', routing: 'serial', routes: [], message } }
  }
  if (path === '/1.0/kamailio/routing') return { success: false, rtjson: null, reason: 'forbidden', sip_code: 500, sip_reason: 'Server Internal Error', message }
  return { error: 'forbidden', message }
}

export function proxyGuard (options: ProxyGuardOptions): onRequestHookHandler {
  const list = options.allow.length > 0 ? blockList(options.allow) : undefined
  const secrets = options.secrets.map(digest)
  return function guard (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    const path = request.routeOptions.url ?? ''
    let message: string | undefined
    if (list !== undefined && !sourceAllowed(list, request.socket.remoteAddress)) {
      message = 'source address not allowed (RTROUTE_PROXY_ALLOW)'
    } else if (secrets.length > 0) {
      const header = request.headers[SECRET_HEADER]
      // The header's value is never echoed or logged: only whether it was there.
      if (typeof header !== 'string') message = `missing ${SECRET_HEADER} header`
      else if (!secretMatches(header, secrets)) message = `invalid ${SECRET_HEADER} header`
    }
    if (message === undefined) {
      done()
      return
    }
    request.log.warn({ source: request.socket.remoteAddress, path }, `proxy request refused: ${message}`)
    void reply.code(403).send(refusal(path, message))
  }
}

/**
 * Puts the guard on the proxy routes only (an onRoute hook: other routes pay nothing). Call it
 * before those routes are registered.
 */
export function registerProxyGuard (app: FastifyInstance, options: ProxyGuardOptions): void {
  if (options.allow.length === 0 && options.secrets.length === 0) return
  const guard = proxyGuard(options)
  app.addHook('onRoute', (route) => {
    if (!PROXY_PATHS.has(route.url)) return
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [guard, ...existing]
  })
}
