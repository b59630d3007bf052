/**
 * The shipped proxy configs, read as text: every HTTP request each one makes to rtroute carries
 * X-Rtroute-Secret when a secret is configured, and goes to an instance picked from the URL list
 * (never to the raw setting). The end-to-end suites run both configs against a real rtroute that
 * requires the secret (test/e2e/scenarios/proxy-secret.ts); this catches a request added later
 * without the header, in a branch those scenarios do not reach.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from '../src/paths.js'

const read = (...parts: string[]): string => readFileSync(path.join(PACKAGE_ROOT, ...parts), 'utf8')
const kamailio = read('deploy', 'kamailio', 'kamailio.cfg')
const opensips = read('deploy', 'opensips', 'opensips.cfg')

/** Each `route[NAME] {…}` (and the other route kinds) of a config: its name and body, in file order. */
function routes (cfg: string): Array<{ name: string, body: string }> {
  const found: Array<{ name: string, body: string }> = []
  const head = /^(?:route|failure_route|onreply_route|branch_route|timer_route|startup_route|request_route)(?:\[([^\],]+)[^\]]*\])?\s*\{/gm
  for (const match of cfg.matchAll(head)) {
    let depth = 0
    let end = match.index
    for (let i = match.index; i < cfg.length; i++) {
      if (cfg[i] === '{') depth++
      else if (cfg[i] === '}' && --depth === 0) { end = i; break }
    }
    found.push({ name: match[1] ?? match[0].split(/[\s{[]/)[0] ?? '', body: cfg.slice(match.index, end + 1) })
  }
  return found
}

/** The `#!ifdef NAME` … `#!endif` block of a body that contains `needle`. */
const underDefine = (body: string, define: string, needle: string): boolean =>
  [...body.matchAll(new RegExp(`#!ifdef ${define}\\n([\\s\\S]*?)#!endif`, 'g'))].some((m) => (m[1] ?? '').includes(needle))

describe('deploy/kamailio/kamailio.cfg', () => {
  const all = routes(kamailio)
  const byName = new Map(all.map((r) => [r.name, r.body]))
  /** Routes that call `route(NAME)`. */
  const callers = (name: string): string[] => all.filter((r) => r.body.includes(`route(${name});`)).map((r) => r.name)
  /** Whether `setup` runs in `route` before its first `call`, or in every caller before it calls `route`. */
  const before = (name: string, setup: string, call: string, seen = new Set<string>()): boolean => {
    const body = byName.get(name) ?? ''
    const at = body.indexOf(call)
    const set = body.indexOf(setup)
    if (set !== -1 && set < at) return true
    if (seen.has(name)) return false
    seen.add(name)
    const up = callers(name)
    return up.length > 0 && up.every((caller) => before(caller, setup, `route(${name});`, seen))
  }

  it('has one RTROUTE_SECRET define that puts X-Rtroute-Secret on both modules\' requests', () => {
    expect(kamailio).toMatch(/^#\s+RTROUTE_SECRET\s+sent as X-Rtroute-Secret/m)
    expect(underDefine(byName.get('RTROUTE_HEADERS') ?? '', 'RTROUTE_SECRET', '"\\r\\nX-Rtroute-Secret: " + RTROUTE_SECRET')).toBe(true)
    expect(underDefine(byName.get('RTROUTE_HTTP_REQUEST') ?? '', 'RTROUTE_SECRET', '$http_req(hdr) = "X-Rtroute-Secret: " + RTROUTE_SECRET')).toBe(true)
  })

  it('sends every http_client request with those headers', () => {
    const users = all.filter((r) => r.body.includes('http_client_query('))
    expect(users.map((r) => r.name).sort()).toEqual(['RTROUTE_POST_ONE', 'RTROUTE_QUERY'])
    for (const { name, body } of users) {
      for (const call of body.matchAll(/http_client_query\((.*)\);$/gm)) expect(call[1], name).toMatch(/, "\$var\(hdrs\)", /)
      expect(before(name, 'route(RTROUTE_HEADERS);', 'http_client_query('), name).toBe(true)
    }
  })

  it('builds every http_async_client request in RTROUTE_HTTP_REQUEST (headers, secret, per-try timeout)', () => {
    const users = all.filter((r) => r.body.includes('http_async_query('))
    expect(users.map((r) => r.name).sort()).toEqual(['RTROUTE_ASK', 'RTROUTE_CALL_EVENT', 'RTROUTE_FEEDBACK'])
    for (const { name } of users) expect(before(name, 'route(RTROUTE_HTTP_REQUEST);', 'http_async_query('), name).toBe(true)
    // Nobody starts a request of their own, without the header.
    expect(all.filter((r) => r.body.includes('$http_req(all) = $null')).map((r) => r.name)).toEqual(['RTROUTE_HTTP_REQUEST'])
  })

  it('sends every request to a URL picked from the RTROUTE_URL list', () => {
    expect(kamailio).not.toMatch(/RTROUTE_URL \+/)
    for (const call of kamailio.matchAll(/http_(?:client|async)_query\("([^"]*)"/g)) expect(call[1]).toMatch(/^\$var\(url\)/)
    expect(kamailio.match(/= RTROUTE_URL;/g)).toHaveLength(1)
  })
})

describe('deploy/opensips/opensips.cfg', () => {
  const all = routes(opensips)

  it('appends X-Rtroute-Secret (when $shv(rtroute_secret) is set) right before every rest_client request', () => {
    expect(opensips).toMatch(/^modparam\("cfgutils", "shvset", "rtroute_secret=s:"\)$/m)
    const secret = all.find((r) => r.name === 'RTROUTE_SECRET')?.body ?? ''
    expect(secret).toContain('if ($shv(rtroute_secret) != "")')
    expect(secret).toContain('rest_append_hf("X-Rtroute-Secret: $shv(rtroute_secret)")')
    let requests = 0
    for (const { name, body } of all) {
      // rest_append_hf applies to the worker's next request only: each one needs its own.
      const pieces = body.split(/(?=\brest_(?:get|post|put)\()/)
      for (const piece of pieces.slice(1)) {
        requests++
        const previous = pieces[pieces.indexOf(piece) - 1] ?? ''
        expect(previous.lastIndexOf('route(RTROUTE_SECRET);'), `${name}: ${piece.slice(0, 60)}`).toBeGreaterThan(-1)
      }
    }
    // The readiness poll, the query, feedback and call events.
    expect(requests).toBe(4)
  })

  it('sends every request to a URL picked from the rtroute_url list', () => {
    for (const call of opensips.matchAll(/rest_(?:get|post)\("([^"]*)"/g)) expect(call[1]).toMatch(/^\$var\(url\)\//)
    expect(opensips.match(/\bshv\(rtroute_url\)/g)).toHaveLength(1)
  })
})
