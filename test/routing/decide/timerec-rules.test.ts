/** Rules valid by an OpenSIPS time recurrence (issue 18): the decision, the compile, and explain. */
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { describe, expect, it } from 'vitest'
import { decideRoutes } from '../../../src/routing/decide/decide-routes.js'
import { explainRoutes } from '../../../src/routing/decide/explain.routes.js'
import type { CompiledPartition } from '../../../src/routing/snapshot/compiled.js'
import { compileRouteTable } from '../compile.js'
import { ALL_ACTIVE, gateways, partitionData, query, rule, table } from '../fixtures.js'

const CHRISTMAS = 'Europe/Bucharest|20201225T000000|20201226T000000||yearly||||25|||12'
const OFFICE = { timezone: 'Europe/Bucharest', weekly: [{ days: ['mon' as const, 'tue' as const, 'wed' as const, 'thu' as const, 'fri' as const], start: '08:00', end: '18:00' }] }

const routed = (t: CompiledPartition, iso: string): string[] => {
  const d = decideRoutes(t, ALL_ACTIVE, query(), Date.parse(iso))
  return d.outcome === 'routed' ? d.routes.map((r) => r.gatewayId) : [d.outcome]
}

describe('a rule with a timerec', () => {
  const t = table({
    gateways: gateways(3),
    rules: [
      rule(1, '44', ['gw1'], { priority: 9, timerec: CHRISTMAS }),
      rule(2, '44', ['gw2'], { priority: 5, time_window: OFFICE, timerec: '20240101T000000||p1d|daily & !Europe/Bucharest|20240101T120000||pt1h|daily' }),
      rule(3, '44', ['gw3'], { timerec: '' })
    ]
  })

  it.each<[string, string, string[]]>([
    ['Christmas Day in Bucharest', '2025-12-25T10:00:00Z', ['gw1']],
    ['a Wednesday morning: the office rule (time window and timerec both hold)', '2026-01-14T08:00:00Z', ['gw2']],
    ['the lunch hour the timerec takes out of the window', '2026-01-14T10:30:00Z', ['gw3']],
    ['a Saturday: only the rule with an empty timerec (always)', '2026-01-17T10:00:00Z', ['gw3']]
  ])('routes %s', (_, iso, ids) => {
    expect(routed(t, iso)).toEqual(ids)
  })

  it('discards a stored rule whose timerec does not parse, saying why', () => {
    const { table: compiled, problems } = compileRouteTable(partitionData({ gateways: gateways(1), rules: [rule(1, '44', ['gw1'], { timerec: '20240101T000000||pt8h|weekly|||MO,XX' })] }), { partition: 'p', version: 1 })
    expect(compiled.rules.size).toBe(0)
    expect(problems.map((p) => p.message).join('\n')).toContain('timerec: field byday, position 2: "XX" is not a weekday')
  })

  it('explain shows which recurrence matched or why none did', async () => {
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>()
    await app.register(explainRoutes, { tables: { lookup: () => ({ state: 'ready', table: t }) }, health: () => ALL_ACTIVE } as never)
    const res = await app.inject({ url: '/v1/partitions/default/route?number=4420&at=2026-01-14T10:30:00Z' })
    expect(res.statusCode).toBe(200)
    const rules = res.json().trace.rules as Array<{ rule_id: number, verdict: string, time?: { open: boolean, recurrences: Array<{ index: number, holds: boolean, negated: boolean, reason: string }> } }>
    expect(rules.map((r) => [r.rule_id, r.verdict, r.time?.open])).toEqual([[1, 'window_closed', false], [2, 'window_closed', false], [3, 'taken', undefined]])
    expect(rules[0]?.time?.recurrences).toMatchObject([{ index: 1, holds: false, negated: false, reason: 'not in a month of bymonth' }])
    expect(rules[1]?.time?.recurrences).toMatchObject([
      { index: 0, holds: true, negated: false },
      { index: 1, holds: true, negated: false },
      { index: 2, holds: true, negated: true, reason: 'holds' }
    ])
    await app.close()
  })
})
