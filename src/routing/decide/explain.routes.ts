/** Admin views of the routing engine: explain a decision with its trace, and reload a partition by hand. */
import { type DecisionTrace, type GatewayHealthView } from './decision.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorSchema } from '../../errors.js'
import { decideRoutes } from './decide-routes.js'
import { requireTable, type RouteTables } from '../snapshot/route-tables.js'
import { ExplainQuerySchema, ExplainSchema, PartitionParamsSchema, ReloadSchema } from './routing.schema.js'
import { toRtjson } from './rtjson.js'

export interface ExplainRoutesOptions {
  readonly tables: RouteTables
  /** Gateway health of a partition, as the decision reads it. */
  readonly health: (partition: string) => GatewayHealthView
  readonly now?: () => number
}


/** The trace in wire form (snake_case keys). */
function traceOut (trace: DecisionTrace) {
  return {
    seed: trace.seed,
    number: trace.number,
    group: trace.group,
    group_source: trace.groupSource,
    prefixes: trace.prefixes,
    rules: trace.rules.map((r) => ({ rule_id: r.ruleId, prefix: r.prefix, priority: r.priority, verdict: r.verdict })),
    targets: trace.targets.map((t) => ({ rule_id: t.ruleId, gateway: t.gateway, carrier: t.carrier, state: t.state, verdict: t.verdict }))
  }
}

export const explainRoutes: FastifyPluginAsyncTypebox<ExplainRoutesOptions> = async (app, { tables, health, now = Date.now }) => {
  app.get('/v1/partitions/:partition/route', {
    schema: {
      tags: ['routing'],
      summary: 'Where would this number go, and why: the decision, its trace and the rtjson answer (live gateway health included)',
      params: PartitionParamsSchema,
      querystring: ExplainQuerySchema,
      response: { 200: ExplainSchema, 404: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request) => {
    const { partition } = request.params
    const table = requireTable(tables, partition)
    const q = request.query
    const at = q.at === undefined ? now() : Date.parse(q.at)
    const query = {
      callId: q.call_id ?? `explain-${q.number}`,
      requestUri: `sip:${q.number}@rtroute.invalid`,
      fromUri: q.from,
      sourceIp: q.source_ip,
      group: q.group
    }
    const decision = decideRoutes(table, health(partition), query, at, { trace: true })
    const rtjson = toRtjson(decision, query, partition).body.rtjson
    const ruled = decision.outcome === 'routed' || decision.outcome === 'no_destination' || decision.outcome === 'no_capacity'
    return {
      partition,
      data_version: table.version,
      checksum: table.checksum,
      at: new Date(at).toISOString(),
      outcome: decision.outcome,
      ...(ruled ? { rule_id: decision.ruleId, prefix: decision.prefix } : {}),
      trace: traceOut(decision.trace ?? { seed: 0, prefixes: [], rules: [], targets: [] }),
      rtjson
    }
  })

  app.post('/v1/partitions/:partition/reload', {
    schema: {
      tags: ['routing'],
      summary: 'Reload a partition now (drouting:reload); a failed reload keeps serving the previous snapshot',
      params: PartitionParamsSchema,
      response: { 200: ReloadSchema, 404: ErrorSchema, 503: ReloadSchema }
    }
  }, async (request, reply) => {
    const outcome = await tables.reload(request.params.partition)
    if (outcome.removed === true) throw new AppError(404, 'not_found', `partition "${request.params.partition}" not found`)
    const body = {
      partition: outcome.partition,
      ok: outcome.ok,
      data_version: outcome.version,
      checksum: outcome.checksum,
      duration_ms: outcome.durationMs,
      counts: outcome.counts,
      error: outcome.error
    }
    return await reply.code(outcome.ok ? 200 : 503).send(body)
  })
}
