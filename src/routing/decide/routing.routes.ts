/**
 * The proxy-facing hot path: POST /kamailio/rtjson (and the Wazo C4 router's /1.0/kamailio/routing).
 * Memory only: a Map lookup, the pure decision, a schema-compiled serialiser. No database, no log
 * line per call.
 */
import type { GatewayHealthView, Route, RouteQuery } from './decision.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyError, FastifyReply } from 'fastify'
import { parseUtf8Json } from '../../json-body.js'
import { decideRoutes } from './decide-routes.js'
import type { RouteTables } from '../snapshot/route-tables.js'
import { RouteQuerySchema, WazoAnswerSchema, type RouteQueryBody } from './routing.schema.js'
import { badRequestAnswer, notReadyAnswer, RtjsonAnswerSchema, toRtjson, unknownPartitionAnswer, type RtjsonReply } from './rtjson.js'

export interface RoutingRoutesOptions {
  readonly tables: RouteTables
  /** Gateway health of a partition, as the decision reads it. */
  readonly health: (partition: string) => GatewayHealthView
  /** The partition of a query that names none. */
  readonly defaultPartition: string
  /** Seconds in Retry-After of a not_ready answer. */
  readonly retryAfterS: number
  readonly now?: () => number
  /** Metrics, slow-decision events and debug lines (src/observability); absent, the path pays nothing. */
  readonly observer?: RoutingObserver
  /** Told of every routed answer before it is sent (capacity accounting takes its lease here). */
  readonly onRouted?: (partition: string, callId: string, routes: readonly Route[]) => void
}

/** Told of every answer; `started` is performance.now() taken before the partition lookup. */
export interface RoutingObserver {
  answered: (body: RouteQueryBody | undefined, result: RtjsonReply, started: number, log: FastifyBaseLogger) => void
}

/** What Fastify sets for a serialised object; a string sent with it skips the serialiser. */
const JSON_TYPE = 'application/json; charset=utf-8'

const opt = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value)

export function toRouteQuery (body: RouteQueryBody): RouteQuery {
  const port = body.source_port === undefined ? undefined : Number(body.source_port)
  return {
    callId: body.call_id,
    requestUri: opt(body.request_uri),
    toUri: opt(body.to_uri),
    fromUri: opt(body.from_uri),
    fromName: opt(body.from_name),
    fromTag: opt(body.from_tag),
    toName: opt(body.to_name),
    toTag: opt(body.to_tag),
    sourceIp: opt(body.source_ip),
    sourcePort: port,
    group: opt(body.group)
  }
}

type ValidationError = Error & { validation?: FastifyError['validation'] }

/** Fastify's validation error as the field it concerns: `/call_id` → call_id, a missing property → its name. */
function invalidField (error: ValidationError): string {
  const first = error.validation?.[0]
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty
  return missing ?? first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? 'body'
}

export const routingRoutes: FastifyPluginAsyncTypebox<RoutingRoutesOptions> = async (app, options) => {
  const { tables, health, defaultPartition, retryAfterS } = options
  const now = options.now ?? Date.now

  // Not every proxy script sets Content-Type: a JSON body is accepted whatever it says it is.
  // UTF-8 only, as for application/json (src/json-body.ts): invalid bytes are a 400, never U+FFFD.
  app.addContentTypeParser(['text/plain', 'application/x-www-form-urlencoded'], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseUtf8Json(body as Buffer))
    } catch (err) {
      done(err as FastifyError, undefined)
    }
  })

  const observer = options.observer
  const onRouted = options.onRouted
  function answer (body: RouteQueryBody | undefined, error: ValidationError | undefined, log: FastifyBaseLogger): RtjsonReply {
    if (observer === undefined) return decide(body, error)
    const started = performance.now()
    const result = decide(body, error)
    observer.answered(body, result, started, log)
    return result
  }

  function decide (body: RouteQueryBody | undefined, error: ValidationError | undefined): RtjsonReply {
    if (error !== undefined || body === undefined) {
      return badRequestAnswer(error === undefined ? 'body' : invalidField(error), error?.message ?? 'no query')
    }
    const partition = body.partition ?? defaultPartition
    const found = tables.lookup(partition)
    if (found.state === 'not_ready') return notReadyAnswer()
    if (found.state === 'unknown') return unknownPartitionAnswer(partition)
    const query = toRouteQuery(body)
    const decision = decideRoutes(found.table, health(partition), query, now())
    if (onRouted !== undefined && decision.outcome === 'routed') onRouted(partition, query.callId, decision.routes)
    return toRtjson(decision, query, partition)
  }

  const send = async (reply: FastifyReply, result: RtjsonReply, payload: unknown): Promise<FastifyReply> => {
    if (result.statusCode === 503) void reply.header('retry-after', String(retryAfterS))
    return await reply.code(result.statusCode).send(payload)
  }

  const sendJson = async (reply: FastifyReply, json: string): Promise<FastifyReply> => await reply.code(200).header('content-type', JSON_TYPE).send(json)

  // Broken JSON or an oversized body still gets an answer the proxy script can parse.
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error.statusCode === undefined || error.statusCode >= 500) {
      request.log.error({ err: error, callId: (request.body as { call_id?: unknown } | undefined)?.call_id }, 'routing query failed')
      return await reply.code(500).send({ error: 'internal_error', message: 'internal error' })
    }
    const { body } = badRequestAnswer('body', error.message)
    const payload = request.url.startsWith('/1.0/')
      ? { success: false, rtjson: null, reason: body.rtjson.reason, sip_code: body.rtjson.sip_code, sip_reason: body.rtjson.sip_reason }
      : body
    return await reply.code(400).send(payload)
  })

  const rtjsonResponse = { 200: RtjsonAnswerSchema, 400: RtjsonAnswerSchema, 404: RtjsonAnswerSchema, 503: RtjsonAnswerSchema }

  app.post('/kamailio/rtjson', {
    attachValidation: true,
    schema: {
      tags: ['proxy'],
      summary: 'Where to send a new call: an rtjson serial route list, or a negative answer with a suggested SIP code',
      body: RouteQuerySchema,
      response: rtjsonResponse
    }
  }, async (request, reply) => {
    const result = answer(request.body, request.validationError, request.log)
    // A routed answer comes already written (rtjson-writer.ts): a JSON string is sent as it is.
    if (result.json !== undefined) return await sendJson(reply, result.json)
    return await send(reply, result, result.body)
  })

  app.post('/1.0/kamailio/routing', {
    attachValidation: true,
    schema: {
      tags: ['proxy'],
      summary: 'The same decision in the Wazo C4 router\'s envelope ({success, rtjson}), so its Kamailio config works unchanged',
      body: RouteQuerySchema,
      response: { 200: WazoAnswerSchema, 400: WazoAnswerSchema, 404: WazoAnswerSchema, 503: WazoAnswerSchema }
    }
  }, async (request, reply) => {
    const result = answer(request.body, request.validationError, request.log)
    const { rtjson } = result.body
    const payload = rtjson.success
      ? { success: true, rtjson }
      : { success: false, rtjson: null, reason: rtjson.reason, sip_code: rtjson.sip_code, sip_reason: rtjson.sip_reason }
    return await send(reply, result, payload)
  })
}
