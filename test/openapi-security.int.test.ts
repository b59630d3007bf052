/**
 * The OpenAPI document says what the server enforces. Every route of a real server (startServer on
 * a test database) is asked without credentials: an operation documented with a security scheme
 * must be refused (401 for the bearer token, 403 naming X-Rtroute-Secret for the proxy secret), an
 * operation documented without one must not be; a route left out of the document must be one of
 * the known public pages. The documented credentials must then get the request past the refusal.
 * So a new admin route documented as open, or an open route documented as secured, fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Env } from '../src/env-vars.js'
import { startTestServer, type TestServer } from './helpers/test-server.js'

const TOKEN = 'openapi-security-test-token-0123456789'
const SECRET = 'openapi-security-test-secret-9876543210'

/** Routes the document leaves out on purpose: the status page, the reference and the document itself. */
const UNDOCUMENTED = new Set(['/', '/status/status.js', '/status/status.css', '/openapi.json', '/docs', '/docs/', '/docs/*',
  '/docs/json', '/docs/yaml', '/docs/static/index.html', '/docs/static/swagger-initializer.js'])

/** `url` as printed; `variants` the URLs it may stand for (the router prints `:id|:carrier` for one node with two parameter names). */
interface Route { method: string, url: string, variants: string[] }

function variantsOf (url: string): string[] {
  let out = ['']
  for (const segment of url.split('/').slice(1)) out = out.flatMap((prefix) => segment.split('|').map((alternative) => `${prefix}/${alternative}`))
  return out
}

/** Reads `printRoutes({ commonPrefix: false })`: one node per line, its depth from the indent, its path relative to its parent's. */
function routesOf (tree: string): Route[] {
  const routes: Route[] = []
  const parents: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (match === null) continue
    const depth = (match[1] ?? '').length / 4
    const url = (parents[depth - 1] ?? '') + (match[2] ?? '')
    parents[depth] = url
    parents.length = depth + 1
    for (const method of (match[3] ?? '').split(', ').filter((m) => m !== '' && m !== 'HEAD')) routes.push({ method, url, variants: variantsOf(url) })
  }
  return routes
}

/** `/v1/partitions/:partition` as the document writes it: `/v1/partitions/{partition}`. */
const openapiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}')
/** A concrete URL: parameters filled in; the values do not matter, refusals come before validation. */
const concrete = (url: string): string => url.replace(/:partition\b/g, 'default').replace(/:\w+(\|:\w+)*/g, 'x').replace('*', 'x')

type Scheme = 'bearer' | 'proxySecret'

interface Answer { status: number, refusedBy: Scheme | undefined }

async function ask (base: string, route: Route, headers: Record<string, string> = {}): Promise<Answer> {
  const controller = new AbortController()
  const res = await fetch(`${base}${concrete(route.url)}`, { method: route.method, headers, signal: controller.signal })
  // The event stream never ends: its status is enough.
  const text = res.headers.get('content-type')?.startsWith('text/event-stream') === true ? '' : await res.text()
  controller.abort()
  let refusedBy: Scheme | undefined
  if (res.status === 401 && text.includes('"unauthorized"')) refusedBy = 'bearer'
  else if (res.status === 403 && text.includes('x-rtroute-secret')) refusedBy = 'proxySecret'
  return { status: res.status, refusedBy }
}

const credentials: Record<Scheme, Record<string, string>> = {
  bearer: { authorization: `Bearer ${TOKEN}` },
  proxySecret: { 'x-rtroute-secret': SECRET }
}

interface Operation { security?: Array<Record<string, string[]>> }
type Document = { security?: unknown, paths: Record<string, Record<string, Operation>>, components: { securitySchemes: Record<string, unknown> } }

describe.each<[string, Env, Record<string, Scheme | undefined>]>([
  ['a token, a proxy secret and RTROUTE_METRICS_AUTH', { RTROUTE_ADMIN_TOKEN: TOKEN, RTROUTE_PROXY_SECRET: SECRET, RTROUTE_METRICS_AUTH: 'true' },
    { '/metrics': 'bearer', '/kamailio/rtjson': 'proxySecret', '/kamailio/calls': 'proxySecret', '/livez': undefined }],
  ['a token only', { RTROUTE_ADMIN_TOKEN: TOKEN },
    { '/metrics': undefined, '/kamailio/rtjson': undefined, '/livez': undefined }]
])('with %s', (_name, env, spotChecks) => {
  let server: TestServer
  let doc: Document
  let routes: Route[]
  beforeAll(async () => {
    // Every route is asked without credentials, from one address: the failed-login limit (30 a minute) would answer 429 instead of 401.
    server = await startTestServer({ RTROUTE_PROBING: 'false', RTROUTE_ADMIN_RATE_MAX: '0', ...env })
    doc = await (await fetch(`${server.server.url}/openapi.json`)).json() as Document
    routes = routesOf(server.server.app.printRoutes({ commonPrefix: false }))
  })
  afterAll(async () => { await server?.close() })

  const documented = (route: Route): Scheme[] | undefined => {
    const operation = route.variants.map((url) => doc.paths[openapiPath(url)]?.[route.method.toLowerCase()]).find((op) => op !== undefined)
    if (operation === undefined) return undefined
    // An operation without its own `security` has the document's global one.
    const security = operation.security ?? (doc.security as Operation['security']) ?? []
    return security.flatMap((requirement) => Object.keys(requirement) as Scheme[]).sort()
  }

  it('has no global security, and declares only the schemes in use', () => {
    expect(doc.security).toBeUndefined()
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(env.RTROUTE_PROXY_SECRET === undefined ? ['bearer'] : ['bearer', 'proxySecret'])
  })

  it('documents each operation with the security the server enforces', async () => {
    expect(routes.length).toBeGreaterThan(50)
    const base = server.server.url
    const mismatches: string[] = []
    for (const route of routes) {
      const said = documented(route)
      const { status, refusedBy } = await ask(base, route)
      const name = `${route.method} ${route.url}`
      if (said === undefined) {
        if (!UNDOCUMENTED.has(route.url)) mismatches.push(`${name}: not in the document`)
        if (refusedBy !== undefined) mismatches.push(`${name}: undocumented, yet refused without ${refusedBy} (${status})`)
        continue
      }
      const enforced = refusedBy === undefined ? [] : [refusedBy]
      if (said.join() !== enforced.join()) mismatches.push(`${name}: documented [${said.join()}], enforced [${enforced.join()}] (${status})`)
      if (refusedBy !== undefined && said.length > 0) {
        const again = await ask(base, route, Object.assign({}, ...said.map((scheme) => credentials[scheme])))
        if (again.refusedBy !== undefined) mismatches.push(`${name}: refused (${again.status}) even with the documented [${said.join()}]`)
      }
    }
    expect(mismatches).toEqual([])
  })

  it('documents only routes that exist', () => {
    const known = new Set(routes.flatMap((r) => r.variants.map((url) => `${r.method.toLowerCase()} ${openapiPath(url)}`)))
    const extra = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).filter((op) => !known.has(op))
    expect(extra).toEqual([])
  })

  it.each(Object.entries(spotChecks))('says %s needs %s', (url, scheme) => {
    const methods = Object.values(doc.paths[url] ?? {})
    expect(methods.length).toBeGreaterThan(0)
    for (const operation of methods) expect((operation.security ?? []).flatMap(Object.keys)).toEqual(scheme === undefined ? [] : [scheme])
  })
})
