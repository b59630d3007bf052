/**
 * Admin calls before the database is ready: until `serve` has connected, migrated and loaded the
 * status groups, a call that needs PostgreSQL answers 503 db_unavailable with Retry-After (it
 * would otherwise fail on tables that do not exist yet, as a 500). Reads answered from memory
 * (status, reports, explain, gateway state, the overview, the event stream) are never held back.
 */
import type { onRequestAsyncHookHandler } from 'fastify'
import { AppError } from './errors.js'

/** GETs under /v1/partitions that read memory, not PostgreSQL. */
const MEMORY_READS = new Set([
  '/v1/partitions/:partition/route',
  '/v1/partitions/:partition/gateways/state',
  '/v1/partitions/:partition/gateways/:gateway/state',
  '/v1/partitions/:partition/carriers/state'
])

/** Whether an admin route needs the database: every write, and the reads of stored data. */
export function needsDatabase (method: string, route: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return true
  if (route.startsWith('/v1/subscriptions')) return true
  return (route === '/v1/partitions' || route.startsWith('/v1/partitions/')) && !MEMORY_READS.has(route)
}

/** An onRequest hook for the admin scope; `ready` says whether the database is connected and migrated. */
export function databaseGate (ready: () => boolean, retryAfterS: number): onRequestAsyncHookHandler {
  return async (request, reply) => {
    if (ready() || !needsDatabase(request.method, request.routeOptions.url ?? request.url)) return
    void reply.header('retry-after', String(retryAfterS))
    throw new AppError(503, 'db_unavailable', 'the database is not connected and migrated yet; nothing was done, try again')
  }
}
