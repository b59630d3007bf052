/** The OpenAPI document (/openapi.json) and its interactive reference (/docs), generated from the route schemas. */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { isAdminAuth } from './admin-auth.js'
import { isProxyRoute, SECRET_HEADER } from './proxy-guard.js'

type SecurityRequirement = Record<string, string[]>

const ADMIN_SECURITY: readonly SecurityRequirement[] = [{ bearer: [] }]
const PROXY_SECURITY: readonly SecurityRequirement[] = [{ proxySecret: [] }]

export interface OpenApiOptions {
  /** RTROUTE_PROXY_SECRET is set: the proxy paths need the X-Rtroute-Secret header. */
  readonly proxySecret?: boolean
}

/** A route's own `schema.security` wins; the schema object may be shared, so it is replaced, not changed. */
function document (route: RouteOptions, security: readonly SecurityRequirement[]): void {
  if (route.schema?.security !== undefined) return
  route.schema = { ...route.schema, security: [...security] }
}

/**
 * onRoute hook of a plugin scope that authenticates every route with `adminAuth` at scope level
 * (app.ts's admin scope): such a hook is not visible on the route itself, so the scope says so.
 */
export function documentAdminScope (route: RouteOptions): void {
  document(route, ADMIN_SECURITY)
}

/**
 * Must be registered before the routes it documents. No global `security`: each operation says
 * what it needs, from the hooks that enforce it (see documentAdminScope and the onRoute hook below).
 */
export async function registerOpenApi (app: FastifyInstance, version: string, options: OpenApiOptions = {}): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'rtroute',
        version,
        description: 'SIP routing API for Kamailio (rtjson) and OpenSIPS: partitions, gateways, carriers, rules, caller groups; status and reports. ' +
          'The probes and the proxy paths (tag proxy) take no bearer token; the proxy paths answer the source networks of RTROUTE_PROXY_ALLOW only (loopback by default)' +
          (options.proxySecret === true ? `, and they need the ${SECRET_HEADER} header (scheme proxySecret).` : '.')
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'RTROUTE_ADMIN_TOKEN (one of its comma-separated tokens); while it is unset, no token is checked and only loopback clients are answered' },
          ...(options.proxySecret === true
            ? { proxySecret: { type: 'apiKey', in: 'header', name: SECRET_HEADER, description: 'one of RTROUTE_PROXY_SECRET\'s comma-separated secrets' } }
            : {})
        }
      },
      tags: [
        { name: 'probes', description: 'liveness and readiness' },
        { name: 'status', description: 'status/report framework (OpenSIPS status_report)' },
        { name: 'partitions', description: 'routing partitions' },
        { name: 'gateways' },
        { name: 'carriers' },
        { name: 'rules' },
        { name: 'caller-groups' },
        { name: 'data', description: 'whole-partition import and export' }
      ]
    }
  })
  // A route-level adminAuth hook (GET /metrics with RTROUTE_METRICS_AUTH) is on the route when it is added.
  app.addHook('onRoute', (route) => {
    const hooks = [route.onRequest ?? []].flat()
    if (hooks.some(isAdminAuth)) document(route, ADMIN_SECURITY)
    else if (options.proxySecret === true && isProxyRoute(route)) document(route, PROXY_SECURITY)
  })
  // Static assets ship inside the package: /docs needs no network at run time.
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
