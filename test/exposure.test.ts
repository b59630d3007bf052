/** The startup warn line of a non-loopback listener: what is open, and to whom. */
import { describe, expect, it } from 'vitest'
import { matcher } from '../src/client-address.js'
import { exposureWarning } from '../src/exposure.js'
import { loadSecurityConfig } from '../src/security-config.js'

const ROUTES = ['POST /kamailio/rtjson', 'POST /kamailio/feedback']
const facts = { host: '0.0.0.0', proxyRoutes: ROUTES, proxyAllow: ['127.0.0.0/8', '::1/128'], proxySecret: false, trustProxy: [], adminToken: false }

describe('the exposure warning', () => {
  it('is one line naming the proxy paths, their sources and the admin API, for a non-loopback HOST only', () => {
    expect(exposureWarning(facts)).toBe('listening on every interface (HOST=0.0.0.0): proxy paths (POST /kamailio/rtjson, POST /kamailio/feedback) answer sources in RTROUTE_PROXY_ALLOW=127.0.0.0/8,::1/128 only, ' +
      'no secret (RTROUTE_PROXY_SECRET unset); admin API: loopback clients only (RTROUTE_ADMIN_TOKEN unset); /livez, /readyz, the status page\'s files and /metrics (unless RTROUTE_METRICS_AUTH) answer anyone')
    const open = exposureWarning({ ...facts, host: '192.0.2.2', proxyAllow: ['0.0.0.0/0', '::/0'], proxySecret: true, adminToken: true, trustProxy: ['127.0.0.1/32'] })
    expect(open).toMatch(/^listening on HOST=192\.0\.2\.2: proxy paths .* answer ANY source \(RTROUTE_PROXY_ALLOW=any\), with X-Rtroute-Secret; admin API: any address with a bearer token; .*X-Forwarded-For believed from 127\.0\.0\.1\/32$/)
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.1.1']) expect(exposureWarning({ ...facts, host })).toBeUndefined()
  })
})

describe('RTROUTE_TRUST_PROXY', () => {
  it('is none by default, takes addresses and networks, refuses anything else by name', () => {
    expect(loadSecurityConfig({}, []).trustProxy).toEqual([])
    expect(loadSecurityConfig({ RTROUTE_TRUST_PROXY: '127.0.0.1, 10.1.0.0/16,::1' }, []).trustProxy).toEqual(['127.0.0.1/32', '10.1.0.0/16', '::1/128'])
    const problems: string[] = []
    loadSecurityConfig({ RTROUTE_TRUST_PROXY: 'any,nginx' }, problems)
    expect(problems).toEqual(['RTROUTE_TRUST_PROXY: "any" is not an IPv4 or IPv6 network (a.b.c.d/len)', 'RTROUTE_TRUST_PROXY: "nginx" is not an IPv4 or IPv6 network (a.b.c.d/len)'])
  })

  it('matches IPv4-mapped addresses as IPv4, and keeps answering the same after its cache starts over', () => {
    const trusted = matcher(['10.0.0.0/8'])
    expect(trusted('::ffff:10.2.3.4')).toBe(true)
    for (let i = 0; i < 5000; i++) trusted(`192.0.2.${i % 250}`)
    for (let i = 0; i < 5000; i++) expect(trusted(`10.${(i >> 8) & 255}.${i & 255}.1`)).toBe(true)
    expect(trusted('192.0.2.1')).toBe(false)
    expect(trusted(undefined)).toBe(false)
  })
})
