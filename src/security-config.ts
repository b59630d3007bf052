/** The proxy-path guard and admin rate-limit settings: parsed from the environment, pure, secrets never echoed. */
import { intVar, listVar, type Env, type VarSpec } from './env-vars.js'
import { parseCidr } from './net.js'

export interface SecurityConfig {
  /** Source networks allowed on the proxy paths (canonical CIDRs); empty: any source. */
  readonly proxyAllow: readonly string[]
  /** Shared secrets accepted in `X-Rtroute-Secret` on the proxy paths; empty: no header needed. */
  readonly proxySecrets: readonly string[]
  /** Admin requests per client address per window; 0 turns the limit off. */
  readonly adminRateMax: number
  readonly adminRateWindowMs: number
}


/** README rows (test/docs.test.ts checks each has one), spread into CONFIG_VARS. */
export const SECURITY_VARS: readonly VarSpec[] = [
  { name: 'RTROUTE_PROXY_ALLOW', default: '(unset)', meaning: 'comma-separated source networks (CIDR, or a bare address) allowed on `/kamailio/rtjson`, `/1.0/kamailio/routing` and `/kamailio/feedback`; others get 403. Unset: any source' },
  { name: 'RTROUTE_PROXY_SECRET', default: '(unset)', meaning: 'shared secret(s), comma-separated, 16+ characters each, that the proxy must send in `X-Rtroute-Secret` on the same paths (compared in constant time); unset: no header needed' },
  { name: 'RTROUTE_ADMIN_RATE_MAX', default: '6000', meaning: 'admin API requests (`/v1/...`) per client address per window, failed logins included; past it 429 with `Retry-After`. 0 turns the limit off; the proxy paths are never limited' },
  { name: 'RTROUTE_ADMIN_RATE_WINDOW_MS', default: '60000', meaning: 'window of `RTROUTE_ADMIN_RATE_MAX`' }
]




function networks (env: Env, problems: string[]): string[] {
  const out: string[] = []
  for (const item of listVar(env, 'RTROUTE_PROXY_ALLOW')) {
    const cidr = parseCidr(item)
    if (cidr === undefined) problems.push(`RTROUTE_PROXY_ALLOW: ${JSON.stringify(item)} is not an IPv4 or IPv6 network (a.b.c.d/len)`)
    else out.push(`${cidr.address}/${cidr.bits}`)
  }
  return out
}

function secrets (env: Env, problems: string[]): string[] {
  const values = listVar(env, 'RTROUTE_PROXY_SECRET')
  // The value is a secret: the message names the rule, never the value.
  if (values.some((value) => value.length < 16)) {
    problems.push('RTROUTE_PROXY_SECRET: expected comma-separated secrets of at least 16 characters each')
  }
  return values
}

/** Adds what is wrong to `problems` (loadConfig reports every bad key at once). */
export function loadSecurityConfig (env: Env, problems: string[]): SecurityConfig {
  return Object.freeze({
    proxyAllow: Object.freeze(networks(env, problems)),
    proxySecrets: Object.freeze(secrets(env, problems)),
    adminRateMax: intVar(env, 'RTROUTE_ADMIN_RATE_MAX', 6000, 0, 10_000_000, problems),
    adminRateWindowMs: intVar(env, 'RTROUTE_ADMIN_RATE_WINDOW_MS', 60_000, 100, 86_400_000, problems)
  })
}
