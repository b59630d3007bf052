/** The proxy-path guard and admin rate-limit settings: their variables and parser, pure, secrets never echoed. */
import { custom, int, listVar, parseSettings, type Env, type SettingsOf } from './env-vars.js'
import { ANY_NETWORKS, LOOPBACK_NETWORKS, parseCidr } from './net.js'

const UNSET = '(unset)'

/** Canonical CIDRs of a list variable; `any` (RTROUTE_PROXY_ALLOW only) stands for every IPv4 and IPv6 source. */
function cidrList (env: Env, name: string, problems: string[], options: { fallback: readonly string[], any: boolean }): readonly string[] {
  // Unset or blank: the default, as for every variable (a compose file's `${VAR:-}` stays safe).
  const items = listVar(env, name)
  if (items.length === 0) return options.fallback
  const out: string[] = []
  for (const item of items) {
    if (options.any && item.toLowerCase() === 'any') {
      out.push(...ANY_NETWORKS)
      continue
    }
    const cidr = parseCidr(item)
    if (cidr === undefined) problems.push(`${name}: ${JSON.stringify(item)} is not an IPv4 or IPv6 network (a.b.c.d/len)${options.any ? ' nor `any`' : ''}`)
    else out.push(`${cidr.address}/${cidr.bits}`)
  }
  return Object.freeze([...new Set(out)])
}

function secrets (env: Env, problems: string[]): readonly string[] {
  const values = listVar(env, 'RTROUTE_PROXY_SECRET')
  // The value is a secret: the message names the rule, never the value.
  if (values.some((value) => value.length < 16)) {
    problems.push('RTROUTE_PROXY_SECRET: expected comma-separated secrets of at least 16 characters each')
  }
  return Object.freeze(values)
}

/** README rows after the dispatcher's, in this order. */
export const SECURITY_SETTINGS = {
  /** Source networks allowed on the proxy paths (canonical CIDRs); loopback by default, `any`: every source. */
  proxyAllow: custom({
    name: 'RTROUTE_PROXY_ALLOW',
    type: 'list',
    default: '127.0.0.0/8,::1',
    help: 'comma-separated source networks (`10.0.0.0/24`, `::1`, …) allowed on the proxy paths (every route Kamailio/OpenSIPS call: `/kamailio/rtjson`, `/1.0/kamailio/routing`, `/kamailio/feedback`, `/kamailio/calls`); others get 403 (rtjson-shaped on the rtjson path). `any` allows every source (then only `RTROUTE_PROXY_SECRET`, if set, guards them)'
  }, (env, problems) => cidrList(env, 'RTROUTE_PROXY_ALLOW', problems, { fallback: LOOPBACK_NETWORKS, any: true })),
  /** Shared secrets accepted in `X-Rtroute-Secret` on the proxy paths; empty: no header needed. */
  proxySecrets: custom({
    name: 'RTROUTE_PROXY_SECRET',
    type: 'list',
    default: UNSET,
    help: 'shared secret(s), comma-separated, 16+ characters each, that the proxy must send as `X-Rtroute-Secret` on the proxy paths (compared in constant time); unset: no header needed'
  }, secrets),
  /** Reverse proxies whose X-Forwarded-For is believed (canonical CIDRs); none by default. */
  trustProxy: custom({
    name: 'RTROUTE_TRUST_PROXY',
    type: 'list',
    default: UNSET,
    help: 'comma-separated addresses or networks of reverse proxies whose `X-Forwarded-For` names the real client (for the admin API\'s loopback rule, its rate limit, the proxy allow-list and the logs). Unset: no proxy is trusted, and a request that carries a forwarding header from an untrusted hop has an unknown client: never loopback, outside every allow-list but `any`'
  }, (env, problems) => cidrList(env, 'RTROUTE_TRUST_PROXY', problems, { fallback: [], any: false })),
  /** Failed admin authentications per client address per window; 0 turns the limit off. */
  adminRateMax: int('RTROUTE_ADMIN_RATE_MAX', 30, [0, 10_000_000],
    'failed admin authentications (wrong or missing token, 403 off loopback) per client address per window; past it, requests without a valid token get 429 with `Retry-After`. A valid token is never refused. 0 turns it off; the proxy paths are never limited'),
  adminRateWindowMs: int('RTROUTE_ADMIN_RATE_WINDOW_MS', 60_000, [100, 86_400_000], 'window of `RTROUTE_ADMIN_RATE_MAX`')
} as const

export type SecurityConfig = SettingsOf<typeof SECURITY_SETTINGS>

/** Adds what is wrong to `problems` (loadConfig reports every bad key at once). */
export function loadSecurityConfig (env: Env, problems: string[]): SecurityConfig {
  return Object.freeze(parseSettings(SECURITY_SETTINGS, env, problems))
}
