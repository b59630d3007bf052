/** One error class for expected failures and the single error handler that turns errors into answers. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503

export class AppError extends Error {
  constructor (readonly statusCode: ErrorStatus, readonly code: string, message: string) {
    super(message)
    this.name = 'AppError'
  }
}

/** The body of every error answer, and its schema for route responses. */
export interface ErrorBody {
  error: string
  message: string
}
export const ErrorSchema = Type.Object({ error: Type.String(), message: Type.String() })

/** Fastify's own client errors (bad JSON, body too large, wrong content type) keep their status and text. */
function isClientError (err: FastifyError): boolean {
  return typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500
}

function fastifyCode (err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'invalid_json'
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type'
    default:
      return 'bad_request'
  }
}

/** 4xx answers say what was wrong; a 5xx never echoes internals, it is logged instead. */
export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) {
    return reply.code(err.statusCode).send({ error: err.code, message: err.message } satisfies ErrorBody)
  }
  if (err.validation !== undefined) {
    return reply.code(400).send({ error: 'validation_error', message: err.message } satisfies ErrorBody)
  }
  if (isClientError(err)) {
    return reply.code(err.statusCode as number).send({ error: fastifyCode(err), message: err.message } satisfies ErrorBody)
  }
  request.log.error({ err }, 'unhandled error')
  return reply.code(500).send({ error: 'internal_error', message: 'internal error' } satisfies ErrorBody)
}

export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } satisfies ErrorBody)
}
