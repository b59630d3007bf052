/** The startup log's account of what a non-loopback listener opens, and to whom: one line, pure. */
import { isLoopback } from './client-address.js'
import { allowsAny } from './proxy-guard.js'

export interface ExposureFacts {
  readonly host: string
  /** `POST /kamailio/rtjson`, …: the guarded routes (app.routeAccess.proxy). */
  readonly proxyRoutes: readonly string[]
  readonly proxyAllow: readonly string[]
  readonly proxySecret: boolean
  readonly trustProxy: readonly string[]
  readonly adminToken: boolean
}

const LOCAL_HOSTS = new Set(['localhost', '::1'])

/** The line to log at warn when HOST is not a loopback address; undefined when it is. */
export function exposureWarning (facts: ExposureFacts): string | undefined {
  if (isLoopback(facts.host) || LOCAL_HOSTS.has(facts.host)) return undefined
  const where = facts.host === '0.0.0.0' || facts.host === '::' ? `every interface (HOST=${facts.host})` : `HOST=${facts.host}`
  const sources = allowsAny(facts.proxyAllow) ? 'ANY source (RTROUTE_PROXY_ALLOW=any)' : `sources in RTROUTE_PROXY_ALLOW=${facts.proxyAllow.join(',')} only`
  const secret = facts.proxySecret ? ', with X-Rtroute-Secret' : ', no secret (RTROUTE_PROXY_SECRET unset)'
  const admin = facts.adminToken ? 'admin API: any address with a bearer token' : 'admin API: loopback clients only (RTROUTE_ADMIN_TOKEN unset)'
  const trust = facts.trustProxy.length > 0 ? `; X-Forwarded-For believed from ${facts.trustProxy.join(',')}` : ''
  return `listening on ${where}: proxy paths (${facts.proxyRoutes.join(', ')}) answer ${sources}${secret}; ${admin}; /livez, /readyz, the status page's files and /metrics (unless RTROUTE_METRICS_AUTH) answer anyone${trust}`
}
