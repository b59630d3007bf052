/** The proxy-path guard and admin rate-limit settings: their variables and parser, pure, secrets never echoed. */
import { custom, int, listVar, parseSettings, type Env, type SettingsOf } from './env-vars.js'
import { parseCidr } from './net.js'

const UNSET = '(unset)'

function networks (env: Env, problems: string[]): readonly string[] {
  const out: string[] = []
  for (const item of listVar(env, 'RTROUTE_PROXY_ALLOW')) {
    const cidr = parseCidr(item)
    if (cidr === undefined) problems.push(`RTROUTE_PROXY_ALLOW: ${JSON.stringify(item)} is not an IPv4 or IPv6 network (a.b.c.d/len)`)
    else out.push(`${cidr.address}/${cidr.bits}`)
  }
  return Object.freeze(out)
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
  /** Source networks allowed on the proxy paths (canonical CIDRs); empty: any source. */
  proxyAllow: custom({
    name: 'RTROUTE_PROXY_ALLOW',
    type: 'list',
    default: UNSET,
    help: 'comma-separated source networks (`10.0.0.0/24`, `::1`, …) allowed on the proxy paths (`/kamailio/rtjson`, `/1.0/kamailio/routing`, `/kamailio/feedback`, `/kamailio/calls`); others get 403 (rtjson-shaped on the rtjson path). Unset: any source'
  }, networks),
  /** Shared secrets accepted in `X-Rtroute-Secret` on the proxy paths; empty: no header needed. */
  proxySecrets: custom({
    name: 'RTROUTE_PROXY_SECRET',
    type: 'list',
    default: UNSET,
    help: 'shared secret(s), comma-separated, 16+ characters each, that the proxy must send as `X-Rtroute-Secret` on the proxy paths (compared in constant time); unset: no header needed'
  }, secrets),
  /** Admin requests per client address per window; 0 turns the limit off. */
  adminRateMax: int('RTROUTE_ADMIN_RATE_MAX', 6000, [0, 10_000_000],
    'admin API requests per client address per window, failed logins included; past it 429 with `Retry-After`. 0 turns it off; the proxy paths are never limited'),
  adminRateWindowMs: int('RTROUTE_ADMIN_RATE_WINDOW_MS', 60_000, [100, 86_400_000], 'window of `RTROUTE_ADMIN_RATE_MAX`')
} as const

export type SecurityConfig = SettingsOf<typeof SECURITY_SETTINGS>

/** Adds what is wrong to `problems` (loadConfig reports every bad key at once). */
export function loadSecurityConfig (env: Env, problems: string[]): SecurityConfig {
  return Object.freeze(parseSettings(SECURITY_SETTINGS, env, problems))
}
