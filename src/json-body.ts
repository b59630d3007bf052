/**
 * JSON bodies must be UTF-8 (RFC 8259 §8.1). Fastify's own parser decodes invalid bytes to U+FFFD
 * and carries on, so a Latin-1 import would be stored with its accents silently replaced; this one
 * answers 400 instead, then parses exactly as Fastify does (prototype poisoning refused).
 */
import { isUtf8 } from 'node:buffer'
import type { FastifyInstance } from 'fastify'
import { AppError } from './errors.js'

export const NOT_UTF8 = 'body is not valid UTF-8 (JSON text must be UTF-8)'

/** JSON.parse of a body that must be UTF-8; a 400 AppError (invalid_json) otherwise. */
export function parseUtf8Json (body: Buffer): unknown {
  if (!isUtf8(body)) throw new AppError(400, 'invalid_json', NOT_UTF8)
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new AppError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`)
  }
}

export function registerStrictJsonParser (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    // isUtf8 is a SIMD scan: a few tens of nanoseconds for a routing query.
    if (!isUtf8(bytes)) {
      done(new AppError(400, 'invalid_json', NOT_UTF8), undefined)
      return
    }
    parse(request, bytes.toString('utf8'), done)
  })
}
