/** Probes: /livez (the process works) and /readyz (every required status group is ready). Memory only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ReadinessSchema } from './status.schema.js'
import type { StatusRegistry } from './status-registry.js'

export interface HealthRoutesOptions {
  readonly registry: StatusRegistry
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { registry }) => {
  app.get('/livez', {
    schema: { tags: ['probes'], summary: 'Liveness: 200 while the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      tags: ['probes'],
      summary: 'Readiness: 200 when every required status group is ready, else 503 naming what is not',
      response: { 200: ReadinessSchema, 503: ReadinessSchema }
    }
  }, async (_request, reply) => {
    const { ready, notReady } = registry.readiness()
    const body = {
      ready,
      not_ready: notReady.map(({ group, identifier, status, details }) => ({ group, identifier, status, details }))
    }
    return await reply.code(ready ? 200 : 503).send(body)
  })
}
