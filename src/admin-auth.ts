/**
 * Admin authentication: bearer tokens compared in constant time; with no token, loopback clients
 * only. "Loopback" is the real client (src/client-address.ts): a request relayed by a proxy that
 * RTROUTE_TRUST_PROXY does not name is not loopback, even from 127.0.0.1. Failed attempts are
 * logged at warn (source and path, never the token) and counted by the failure limiter.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { FailureLimiter } from './admin-rate-limit.js'
import { isLoopback, realClient, type AddressMatcher } from './client-address.js'
import { AppError } from './errors.js'

export { isLoopback } from './client-address.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

function bearer (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/**
 * Hashing both sides first gives equal-length buffers, so timingSafeEqual neither throws nor
 * leaks the token's length; every configured token is compared, so timing does not tell which.
 */
function matches (candidate: string, tokens: readonly Buffer[]): boolean {
  const hashed = digest(candidate)
  let ok = false
  for (const token of tokens) ok = timingSafeEqual(hashed, token) || ok
  return ok
}

/** The hooks adminAuth made, so the OpenAPI document can tell which routes run one (src/openapi.ts). */
const adminHooks = new WeakSet<object>()

export function isAdminAuth (hook: unknown): boolean {
  return typeof hook === 'function' && adminHooks.has(hook)
}

export interface AdminAuthOptions {
  /** Failed authentications per address (src/admin-rate-limit.ts); absent: no limit. */
  readonly limiter?: FailureLimiter
  /** The reverse proxies whose X-Forwarded-For is believed; default none. */
  readonly trusted?: AddressMatcher
}

/** The URL without its query string: what a log line may name. */
const pathOf = (request: FastifyRequest): string => request.routeOptions.url ?? request.url.split('?')[0] ?? ''

export function adminAuth (tokens: readonly string[], options: AdminAuthOptions = {}): onRequestAsyncHookHandler {
  const hashed = tokens.map(digest)
  const { limiter } = options
  const trusted = options.trusted ?? (() => false)
  const hook: onRequestAsyncHookHandler = async (request, reply) => {
    const client = realClient(request, trusted)
    const token = hashed.length === 0 ? undefined : bearer(request)
    if (hashed.length === 0 ? isLoopback(client) : token !== undefined && matches(token, hashed)) return
    // Keyed on the real client; one relayed by an untrusted proxy is counted under that proxy.
    const source = client ?? request.socket.remoteAddress ?? 'unknown'
    const over = limiter?.refused(source)
    if (over !== undefined && limiter !== undefined) {
      if (over.first) request.log.warn({ source, path: pathOf(request) }, `admin request refused (429): more than ${limiter.max} failed authentications in ${limiter.windowMs} ms from this address; further refusals in this window are not logged`)
      void reply.header('retry-after', String(over.retryAfterS))
      throw new AppError(429, 'rate_limited', `too many failed admin authentications: at most ${limiter.max} per ${limiter.windowMs} ms from one address; retry in ${over.retryAfterS} s (a valid token is never refused)`)
    }
    limiter?.failed(source)
    if (hashed.length === 0) {
      const why = client === undefined ? 'relayed by a proxy that RTROUTE_TRUST_PROXY does not name' : 'not a loopback client'
      request.log.warn({ source, path: pathOf(request) }, `admin authentication failed: ${why} while RTROUTE_ADMIN_TOKEN is unset`)
      throw new AppError(403, 'forbidden', client === undefined
        ? 'the admin API answers loopback clients only while RTROUTE_ADMIN_TOKEN is unset, and this request was forwarded by a proxy that RTROUTE_TRUST_PROXY does not name'
        : 'the admin API answers loopback clients only while RTROUTE_ADMIN_TOKEN is unset')
    }
    const why = token === undefined ? 'missing bearer token' : 'invalid bearer token'
    request.log.warn({ source, path: pathOf(request) }, `admin authentication failed: ${why}`)
    void reply.header('www-authenticate', 'Bearer realm="rtroute"')
    throw new AppError(401, 'unauthorized', why)
  }
  adminHooks.add(hook)
  return hook
}
