/** The OpenAPI document (/openapi.json) and its interactive reference (/docs), generated from the route schemas. */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** Must be registered before the routes it documents. */
export async function registerOpenApi (app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'rtroute',
        version,
        description: 'SIP routing API for Kamailio (rtjson) and OpenSIPS: partitions, gateways, carriers, rules, caller groups; status and reports.'
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'RTROUTE_ADMIN_TOKEN; without one configured, loopback clients only' } } },
      security: [{ bearer: [] }],
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
  // Static assets ship inside the package: /docs needs no network at run time.
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
