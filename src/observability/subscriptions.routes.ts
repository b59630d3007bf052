/** Webhook subscriptions over HTTP: create, list, get, delete. The secret goes in and never comes back out. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorSchema } from '../errors.js'
import { EVENT_NAMES } from './event-stream.js'
import type { Subscription, SubscriptionRepository } from './subscription.repository.js'

export interface SubscriptionRoutesOptions {
  readonly repository: SubscriptionRepository
  readonly now?: () => number
}

const EventNameSchema = Type.Union(EVENT_NAMES.map((name) => Type.Literal(name)))

const NewSubscriptionSchema = Type.Object({
  url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://[^\\s]+$', description: 'where alert summaries are POSTed' }),
  events: Type.Array(EventNameSchema, { minItems: 1, maxItems: EVENT_NAMES.length, uniqueItems: true }),
  secret: Type.String({ minLength: 16, maxLength: 256, description: 'HMAC-SHA256 key of X-Rtroute-Signature; never returned' }),
  expires: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'no delivery after this time (the subscription is then deleted); null or absent: never' })),
  description: Type.Optional(Type.String({ maxLength: 256 }))
}, { additionalProperties: false })

/** The allow-list of what a subscription shows: no `secret` key, so it can never be serialised. */
const SubscriptionSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  expires: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' })
})

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

const out = (s: Subscription) => ({
  id: s.id,
  url: s.url,
  events: [...s.events],
  description: s.description,
  expires: s.expires === null ? null : s.expires.toISOString(),
  created_at: s.createdAt.toISOString()
})

export const subscriptionRoutes: FastifyPluginAsyncTypebox<SubscriptionRoutesOptions> = async (app, { repository, now = Date.now }) => {
  app.post('/v1/subscriptions', {
    schema: {
      tags: ['events'],
      summary: 'Subscribe a webhook to alert summaries of the named events (signed with the secret)',
      body: NewSubscriptionSchema,
      response: { 201: SubscriptionSchema, 400: ErrorSchema }
    }
  }, async (request, reply) => {
    const { url, events, secret, description } = request.body
    const expires = request.body.expires === undefined || request.body.expires === null ? null : new Date(request.body.expires)
    if (expires !== null && expires.getTime() <= now()) throw new AppError(400, 'validation_error', 'expires must be in the future')
    const created = await repository.create({ url, events, secret, description, expires })
    return await reply.code(201).send(out(created))
  })

  app.get('/v1/subscriptions', {
    schema: { tags: ['events'], summary: 'Every webhook subscription (secrets are never shown)', response: { 200: Type.Object({ items: Type.Array(SubscriptionSchema) }) } }
  }, async () => ({ items: (await repository.list()).map(out) }))

  app.get('/v1/subscriptions/:id', {
    schema: { tags: ['events'], summary: 'One webhook subscription', params: IdParams, response: { 200: SubscriptionSchema, 404: ErrorSchema } }
  }, async (request) => {
    const found = await repository.get(request.params.id)
    if (found === undefined) throw new AppError(404, 'not_found', `subscription ${request.params.id} not found`)
    return out(found)
  })

  app.delete('/v1/subscriptions/:id', {
    schema: { tags: ['events'], summary: 'Unsubscribe (queued deliveries are dropped at the next alert check)', params: IdParams, response: { 204: Type.Null(), 404: ErrorSchema } }
  }, async (request, reply) => {
    if (!await repository.remove(request.params.id)) throw new AppError(404, 'not_found', `subscription ${request.params.id} not found`)
    return await reply.code(204).send(null)
  })
}
