/**
 * The framework's ceiling: a bare fastify endpoint built like rtroute's (same fastify, same logger
 * and request-logging setting, same validator compiler, the same body and response schemas) that
 * answers a constant rtjson document of the same size. Usage: PORT=… ANSWER_FILE=… node bench/bare-server.mjs
 */
import { readFileSync } from 'node:fs'
import Fastify, { LogController } from 'fastify'
import { createLogger } from '../dist/logger.js'
import { RouteQuerySchema } from '../dist/routing/decide/routing.schema.js'
import { RtjsonAnswerSchema } from '../dist/routing/decide/rtjson.js'
import { createValidatorCompiler } from '../dist/validation.js'

const answers = new Map(Object.entries(JSON.parse(readFileSync(process.env.ANSWER_FILE, 'utf8'))))
const fallback = answers.values().next().value
const app = Fastify({
  loggerInstance: createLogger('warn', false),
  bodyLimit: 1_048_576,
  logController: new LogController({ disableRequestLogging: true })
})
app.setValidatorCompiler(createValidatorCompiler())
app.get('/ready', async () => ({ ok: true }))
app.post('/kamailio/rtjson', {
  attachValidation: true,
  schema: { body: RouteQuerySchema, response: { 200: RtjsonAnswerSchema } }
}, async (request) => answers.get(request.body?.call_id) ?? fallback)
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
// A normal exit on a signal, so `--cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { void app.close().then(() => process.exit(0)) })
