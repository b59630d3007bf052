/**
 * The proxy-facing hot path: POST /kamailio/rtjson (and the Wazo C4 router's /1.0/kamailio/routing).
 * Memory only: a Map lookup, the pure decision, the answer written once. No database, no log line
 * per call. One pipe for both envelopes: the handler holds the Answer, tells the observer, and asks
 * the envelope for the bytes. The queries read in one turn of the event loop are answered together
 * at its end (see `answerQueued`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { performance } from 'node:perf_hooks'
import { parseUtf8Json } from '../../json-body.js'
import type { RouteTables } from '../snapshot/route-tables.js'
import { decideRoutes } from './decide-routes.js'
import type { Answer, GatewayHealthView, Route, RouteQuery, RoutingObserver } from './decision.js'
import { RouteQuerySchema, WazoAnswerSchema, type RouteQueryBody } from './routing.schema.js'
import { negativeAnswer, RtjsonAnswerSchema, wazoNegative, type NegativeAnswer, type Routed } from './rtjson.js'
import { writeRoutedRtjson, writeRoutedWazo } from './rtjson-writer.js'

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
  /** The app's logger: request.log of these routes (absent: fastify's, a no-op without a logger). */
  readonly log?: FastifyBaseLogger
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

/** How one proxy path writes its answers: the routed bytes, and the body of a negative answer. */
interface Envelope {
  readonly routed: (decision: Routed, query: RouteQuery, partition: string) => string
  readonly negative: (answer: NegativeAnswer) => unknown
}

const RTJSON: Envelope = { routed: writeRoutedRtjson, negative: (answer) => answer.body }
const WAZO: Envelope = { routed: writeRoutedWazo, negative: wazoNegative }

export const routingRoutes: FastifyPluginAsyncTypebox<RoutingRoutesOptions> = async (app, options) => {
  const { tables, health, defaultPartition, retryAfterS, observer, onRouted, log } = options
  const now = options.now ?? Date.now
  /**
   * The proxy paths log through the app's logger itself, not a per-request child: a pino child
   * (its bindings serialised through the redaction) is a measurable share of a routing answer, and
   * request logging is off, so no line would carry a request id anyway. What these routes log (a
   * refused source, a failed query, a debug answer line) names the Call-ID or the source instead.
   */
  const logger = log === undefined ? {} : { childLoggerFactory: () => log }

  // Not every proxy script sets Content-Type: a JSON body is accepted whatever it says it is.
  // UTF-8 only, as for application/json (src/json-body.ts): invalid bytes are a 400, never U+FFFD.
  app.addContentTypeParser(['text/plain', 'application/x-www-form-urlencoded'], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseUtf8Json(body as Buffer))
    } catch (err) {
      done(err as FastifyError, undefined)
    }
  })

  function decide (partition: string, query: RouteQuery, at: number): Answer {
    const found = tables.lookup(partition)
    if (found.state === 'not_ready') return { outcome: 'not_ready' }
    if (found.state === 'unknown') return { outcome: 'unknown_partition', partition }
    return decideRoutes(found.table, health(partition), query, at)
  }
  // A decision that looked slow is run again and timed by itself (src/observability/routing-observer.ts).
  observer?.decideWith?.(decide)

  const sendNegative = (reply: FastifyReply, answer: NegativeAnswer, envelope: Envelope): FastifyReply => {
    if (answer.statusCode === 503) void reply.header('retry-after', String(retryAfterS))
    return reply.code(answer.statusCode).send(envelope.negative(answer))
  }

  /**
   * Synchronous, start to end: the answer is sent before it returns (no promise for fastify to
   * wait on, no await of the reply).
   */
  function answerOne (request: FastifyRequest, reply: FastifyReply, envelope: Envelope): void {
    const started = observer === undefined ? 0 : performance.now()
    const body = request.body as RouteQueryBody | undefined
    const error = request.validationError
    const partition = body?.partition ?? defaultPartition
    const query = error === undefined && body !== undefined ? toRouteQuery(body) : undefined
    const at = now()
    const answer: Answer = query === undefined
      ? { outcome: 'bad_request', field: error === undefined ? 'body' : invalidField(error), message: error?.message ?? 'no query' }
      : decide(partition, query, at)
    if (answer.outcome === 'routed' && query !== undefined) {
      onRouted?.(partition, query.callId, answer.routes)
      observer?.answered(partition, query.callId, answer, started, request.log, query, at)
      // A routed answer comes already written (rtjson-writer.ts): a JSON string is sent as it is.
      void reply.code(200).header('content-type', JSON_TYPE).send(envelope.routed(answer, query, partition))
      return
    }
    observer?.answered(partition, body?.call_id, answer, started, request.log, query, at)
    void sendNegative(reply, negativeAnswer(answer as Exclude<Answer, { outcome: 'routed' }>), envelope)
  }

  /**
   * The queries of this turn of the event loop, answered together once it has read them all
   * (setImmediate runs after the loop's I/O phase). Under load a turn reads many requests; answered
   * one by one inside the read, each answer was written while the loop still had sockets to read,
   * and the server went back to waiting on them more often, for fewer requests each time. Answered
   * at the end of the turn, the writes go out together, the clients' next requests arrive together,
   * and the decisions run one after the other while their code and tables are in the cache: at 50
   * connections 30.5 → 25.4 µs of CPU per request against the code before, plain fastify 23.7
   * (bench/compare-builds.mjs, docs/benchmarks.md); at one connection no difference. A request
   * waits no longer than the rest of the turn it was read in.
   */
  const queued: Array<{ readonly request: FastifyRequest, readonly reply: FastifyReply, readonly envelope: Envelope }> = []
  function answerQueued (): void {
    for (let i = 0; i < queued.length; i++) {
      const { request, reply, envelope } = queued[i] as typeof queued[number]
      try {
        answerOne(request, reply, envelope)
      } catch (err) {
        // To the route's error handler, as a throw inside the handler would go.
        if (!reply.sent) void reply.send(err)
      }
    }
    queued.length = 0
  }
  function handle (request: FastifyRequest, reply: FastifyReply, envelope: Envelope): void {
    if (queued.push({ request, reply, envelope }) === 1) setImmediate(answerQueued)
  }

  /** Broken JSON or an oversized body still gets an answer the proxy script can parse, in the path's envelope. */
  const errorHandlerOf = (envelope: Envelope) => async (error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (error.statusCode === undefined || error.statusCode >= 500) {
      request.log.error({ err: error, callId: (request.body as { call_id?: unknown } | undefined)?.call_id }, 'routing query failed')
      return await reply.code(500).send({ error: 'internal_error', message: 'internal error' })
    }
    return sendNegative(reply, negativeAnswer({ outcome: 'bad_request', field: 'body', message: error.message }), envelope)
  }

  app.post('/kamailio/rtjson', {
    config: { proxy: true },
    attachValidation: true,
    ...logger,
    errorHandler: errorHandlerOf(RTJSON),
    schema: {
      tags: ['proxy'],
      summary: 'Where to send a new call: an rtjson serial route list, or a negative answer with a suggested SIP code',
      body: RouteQuerySchema,
      response: { 200: RtjsonAnswerSchema, 400: RtjsonAnswerSchema, 404: RtjsonAnswerSchema, 503: RtjsonAnswerSchema }
    }
  }, (request, reply) => { handle(request, reply, RTJSON) })

  app.post('/1.0/kamailio/routing', {
    config: { proxy: true },
    attachValidation: true,
    ...logger,
    errorHandler: errorHandlerOf(WAZO),
    schema: {
      tags: ['proxy'],
      summary: 'The same decision in the Wazo C4 router\'s envelope ({success, rtjson}), so its Kamailio config works unchanged',
      body: RouteQuerySchema,
      response: { 200: WazoAnswerSchema, 400: WazoAnswerSchema, 404: WazoAnswerSchema, 503: WazoAnswerSchema }
    }
  }, (request, reply) => { handle(request, reply, WAZO) })
}
