/** Rate limit of the admin API (@fastify/rate-limit), per client address; the proxy paths never pass through it. */
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { AppError } from './errors.js'

export interface AdminRateLimitOptions {
  /** Requests per client address per window; 0 turns the limit off. */
  readonly max: number
  readonly windowMs: number
}

/**
 * Registers the limiter in the admin plugin's own context and runs it as that context's first
 * onRequest hook, so it sees requests before authentication: failed token guesses count too.
 * Call it before the authentication hook is added.
 */
export async function registerAdminRateLimit (admin: FastifyInstance, options: AdminRateLimitOptions): Promise<void> {
  if (options.max <= 0) return
  await admin.register(rateLimit, {
    global: false,
    max: options.max,
    timeWindow: options.windowMs,
    // One AppError: the app's error handler answers {error, message}; the plugin adds Retry-After.
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'rate_limited', `too many admin requests: at most ${context.max} per ${options.windowMs} ms from one address; retry in ${context.after}`)
  })
  admin.addHook('onRequest', admin.rateLimit())
}
