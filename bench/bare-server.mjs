/**
 * The framework's ceiling, in two builds, answering each query with rtroute's own answer to it
 * (looked up by Call-ID): the same bytes in and out, on both proxy paths.
 *
 * - `MODE=plain` (the baseline): a minimal fastify 5 POST with a body schema and a response schema
 *   and nothing else: fastify's defaults (no logger, fastify's own validator and parser).
 * - `MODE=matched`: fastify built with rtroute's options (a pino logger at warn, request logging
 *   off, rtroute's validator compiler): what those options cost on their own.
 *
 * Usage: MODE=plain|matched PORT=… ANSWER_FILE=… node bench/bare-server.mjs; ANSWER_FILE holds
 * `{ rtjson: {call_id: answer}, wazo: {call_id: answer} }`.
 */
import { readFileSync } from 'node:fs'
import Fastify, { LogController } from 'fastify'
import { createLogger } from '../dist/logger.js'
import { RouteQuerySchema, WazoAnswerSchema } from '../dist/routing/decide/routing.schema.js'
import { RtjsonAnswerSchema } from '../dist/routing/decide/rtjson.js'
import { createValidatorCompiler } from '../dist/validation.js'

const file = JSON.parse(readFileSync(process.env.ANSWER_FILE, 'utf8'))
const mode = process.env.MODE ?? 'plain'
const app = mode === 'plain'
  ? Fastify()
  : Fastify({ loggerInstance: createLogger('warn', false), bodyLimit: 1_048_576, logController: new LogController({ disableRequestLogging: true }) })
if (mode !== 'plain') app.setValidatorCompiler(createValidatorCompiler())

function answering (answers) {
  const map = new Map(Object.entries(answers))
  const fallback = map.values().next().value
  return async (request) => map.get(request.body?.call_id) ?? fallback
}

app.get('/ready', async () => ({ ok: true }))
// rtroute's routes attach a validation error to the request and answer it themselves; so does the matched build.
const attach = mode === 'plain' ? {} : { attachValidation: true }
app.post('/kamailio/rtjson', { ...attach, schema: { body: RouteQuerySchema, response: { 200: RtjsonAnswerSchema } } }, answering(file.rtjson))
app.post('/1.0/kamailio/routing', { ...attach, schema: { body: RouteQuerySchema, response: { 200: WazoAnswerSchema } } }, answering(file.wazo))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
// A normal exit on a signal, so `--cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { void app.close().then(() => process.exit(0)) })
