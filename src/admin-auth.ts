/** Admin authentication: bearer tokens compared in constant time; with no token, loopback clients only. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { AppError } from './errors.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

export function isLoopback (address: string | undefined): boolean {
  if (address === undefined) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

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

export function adminAuth (tokens: readonly string[]): onRequestAsyncHookHandler {
  const hashed = tokens.map(digest)
  const hook: onRequestAsyncHookHandler = async (request, reply) => {
    if (hashed.length === 0) {
      if (isLoopback(request.socket.remoteAddress)) return
      throw new AppError(403, 'forbidden', 'the admin API answers loopback clients only while RTROUTE_ADMIN_TOKEN is unset')
    }
    const token = bearer(request)
    if (token !== undefined && matches(token, hashed)) return
    void reply.header('www-authenticate', 'Bearer realm="rtroute"')
    throw new AppError(401, 'unauthorized', token === undefined ? 'missing bearer token' : 'invalid bearer token')
  }
  adminHooks.add(hook)
  return hook
}
