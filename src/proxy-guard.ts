/**
 * Who may use the proxy paths (routing query, failover feedback, call events: everything Kamailio
 * and OpenSIPS call): a route is one when it says so where it is declared (`config: { proxy: true }`),
 * and every such route gets the guard, whatever its URL. Sources must be in the allow-list
 * (RTROUTE_PROXY_ALLOW, loopback by default) and, when secrets are set, send one in
 * `X-Rtroute-Secret` as well (compared in constant time). A refusal is a 403 the proxy script can
 * parse: rtjson-shaped on the rtjson path, the Wazo envelope on the Wazo path, `{error, message}` elsewhere.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'
import { matcher, realClient, type AddressMatcher } from './client-address.js'
import { ANY_NETWORKS } from './net.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A path Kamailio/OpenSIPS call: guarded by the proxy allow-list and secret (src/proxy-guard.ts). */
    proxy?: boolean
  }
  interface FastifyInstance {
    /** Every route as the guard saw it registered, proxy or not (the startup log, the route test). */
    readonly routeAccess: RouteAccess
  }
}

export const SECRET_HEADER = 'x-rtroute-secret'
export interface ProxyGuardOptions {
  /** Canonical CIDRs (`10.0.0.0/8`, `::1/128`); `0.0.0.0/0` with `::/0`: any source. */
  readonly allow: readonly string[]
  /** Accepted secrets; empty: no header needed. */
  readonly secrets: readonly string[]
  /** The hops whose X-Forwarded-For is believed (src/client-address.ts); default none. */
  readonly trusted?: AddressMatcher
}

export interface RouteAccess {
  /** `POST /kamailio/rtjson`, … : the guarded routes. */
  readonly proxy: readonly string[]
  /** Every other route (`GET /readyz`, …). */
  readonly other: readonly string[]
}

export const isProxyRoute = (route: Pick<RouteOptions, 'config'>): boolean => route.config?.proxy === true

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Equal-length digests, every secret compared: timing tells neither the length nor which one matched. */
function secretMatches (candidate: string, secrets: readonly Buffer[]): boolean {
  const hashed = digest(candidate)
  let ok = false
  for (const secret of secrets) ok = timingSafeEqual(hashed, secret) || ok
  return ok
}

export const allowsAny = (allow: readonly string[]): boolean => ANY_NETWORKS.every((cidr) => allow.includes(cidr))

/** The refusal in the shape the caller of that path reads. SIP 500: the caller is not at fault, the proxy's setup is. */
function refusal (path: string, message: string): unknown {
  if (path === '/kamailio/rtjson') {
    return { rtjson: { success: false, reason: 'forbidden', sip_code: 500, sip_reason: 'Server Internal Error', routing: 'serial', routes: [], message } }
  }
  if (path === '/1.0/kamailio/routing') return { success: false, rtjson: null, reason: 'forbidden', sip_code: 500, sip_reason: 'Server Internal Error', message }
  return { error: 'forbidden', message }
}

/** Hot path: with the defaults, a header lookup or three and one BlockList check per request. */
export function proxyGuard (options: ProxyGuardOptions): onRequestHookHandler {
  const allowed = allowsAny(options.allow) ? undefined : matcher(options.allow)
  const trusted = options.trusted ?? (() => false)
  const secrets = options.secrets.map(digest)
  return function guard (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    let message: string | undefined
    if (allowed !== undefined) {
      const client = realClient(request, trusted)
      if (client === undefined) message = 'forwarded by a proxy that is not trusted (RTROUTE_TRUST_PROXY)'
      else if (!allowed(client)) message = 'source address not allowed (RTROUTE_PROXY_ALLOW)'
    }
    if (message === undefined && secrets.length > 0) {
      const header = request.headers[SECRET_HEADER]
      // The header's value is never echoed or logged: only whether it was there.
      if (typeof header !== 'string') message = `missing ${SECRET_HEADER} header`
      else if (!secretMatches(header, secrets)) message = `invalid ${SECRET_HEADER} header`
    }
    if (message === undefined) {
      done()
      return
    }
    const path = request.routeOptions.url ?? ''
    request.log.warn({ source: request.socket.remoteAddress, path }, `proxy request refused: ${message}`)
    void reply.code(403).send(refusal(path, message))
  }
}

/**
 * Puts the guard on every route declared with `config: { proxy: true }` (an onRoute hook: other
 * routes pay nothing) and records every route in `app.routeAccess`. Call it before any route is added.
 */
export function registerProxyGuard (app: FastifyInstance, options: ProxyGuardOptions): void {
  const guard = proxyGuard(options)
  const access = { proxy: [] as string[], other: [] as string[] }
  app.decorate('routeAccess', access)
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().filter((method) => method !== 'HEAD')
    const names = methods.map((method) => `${method} ${route.url}`)
    if (!isProxyRoute(route)) {
      access.other.push(...names)
      return
    }
    access.proxy.push(...names)
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [guard, ...existing]
  })
}
