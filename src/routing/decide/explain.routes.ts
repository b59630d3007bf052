/** Explain a decision: where a number would go and why, with the trace and the rtjson answer (an admin view). */
import { type DecisionTrace, type GatewayHealthView } from './decision.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorSchema } from '../../errors.js'
import { decideRoutes } from './decide-routes.js'
import { requireTable, type RouteTables } from '../snapshot/route-tables.js'
import type { CompiledPartition } from '../snapshot/compiled.js'
import { explainTimerec } from '../snapshot/timerec-explain.js'
import { windowOf } from '../snapshot/rule-store.js'
import { ExplainQuerySchema, ExplainSchema } from './routing.schema.js'
import { PartitionParamsSchema } from '../routing-data.schema.js'
import { rtjsonOf } from './rtjson.js'

export interface ExplainRoutesOptions {
  readonly tables: RouteTables
  /** Gateway health of a partition, as the decision reads it. */
  readonly health: (partition: string) => GatewayHealthView
  readonly now?: () => number
}

/** The trace in wire form (snake_case keys); a rule valid only at some times says which recurrence holds or why none does. */
function traceOut (trace: DecisionTrace, table: CompiledPartition, at: number) {
  const timeOf = (ruleId: number) => {
    const slot = table.rules.get(ruleId)
    const window = slot === undefined ? null : windowOf(table.store, slot)
    return window === null ? {} : { time: explainTimerec(window, at) }
  }
  return {
    seed: trace.seed,
    number: trace.number,
    group: trace.group,
    group_source: trace.groupSource,
    prefixes: trace.prefixes,
    rules: trace.rules.map((r) => ({ rule_id: r.ruleId, prefix: r.prefix, priority: r.priority, verdict: r.verdict, ...timeOf(r.ruleId) })),
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
    const { rtjson } = rtjsonOf(decision, query, partition)
    const ruled = decision.outcome === 'routed' || decision.outcome === 'no_destination' || decision.outcome === 'no_capacity'
    return {
      partition,
      data_version: table.version,
      checksum: table.checksum,
      at: new Date(at).toISOString(),
      outcome: decision.outcome,
      ...(ruled ? { rule_id: decision.ruleId, prefix: decision.prefix } : {}),
      trace: traceOut(decision.trace ?? { seed: 0, prefixes: [], rules: [], targets: [] }, table, at),
      rtjson
    }
  })
}
