/**
 * The proxy paths answer the queries of one turn of the event loop together at its end
 * (routing.routes.ts answerQueued): every query gets its own answer, in its own envelope, and a
 * decision that throws is that query's 500, not the end of the others queued with it.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { routingRoutes } from '../../../src/routing/decide/routing.routes.js'
import type { PartitionData } from '../../../src/routing/routing-data.schema.js'
import { memoryTables } from '../../helpers/memory-snapshot.js'
import { gateway, rule } from '../fixtures.js'

const DATA: PartitionData = {
  partition: { default_group: 'default', description: '', settings: {} },
  gateways: [gateway('a', '10.0.0.1:5060'), gateway('b', '10.0.0.2:5060')],
  carriers: [],
  rules: [rule(1, '44', ['a']), rule(2, '33', ['b'])],
  caller_groups: []
}

let apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.map(async (app) => { await app.close() }))
  apps = []
})

/** The routing path on DATA; the health view calls `during` at each decision. */
async function routingApp (during: () => void): Promise<FastifyInstance> {
  const tables = await memoryTables(DATA)
  const app = Fastify()
  await app.register(routingRoutes, {
    tables,
    health: () => { during(); return { stateOf: () => undefined } },
    defaultPartition: 'p',
    retryAfterS: 5
  })
  apps.push(app)
  return app
}

const ask = (app: FastifyInstance, path: string, callId: string, number: string) =>
  app.inject({ method: 'POST', url: path, payload: { call_id: callId, request_uri: `sip:${number}@sbc` } })

describe('answers queued for the end of the turn', () => {
  it('gives every query of one turn its own answer in its own envelope', async () => {
    const app = await routingApp(() => {})
    const answers = await Promise.all([
      ask(app, '/kamailio/rtjson', 'c1', '4420'),
      ask(app, '/1.0/kamailio/routing', 'c2', '3310'),
      ask(app, '/kamailio/rtjson', 'c3', '9999'),
      ask(app, '/kamailio/rtjson', 'c4', '3399')
    ])
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200])
    expect(answers[0]?.json().rtjson.routes[0].gateway).toBe('a')
    expect(answers[1]?.json()).toMatchObject({ success: true, rtjson: { routes: [{ gateway: 'b' }] } })
    expect(answers[2]?.json().rtjson).toMatchObject({ success: false, reason: 'no_route', sip_code: 404 })
    expect(answers[3]?.json().rtjson.routes[0].gateway).toBe('b')
  })

  it('answers a decision that throws with a 500 and still answers the others', async () => {
    let decisions = 0
    const app = await routingApp(() => {
      decisions++
      if (decisions === 2) throw new Error('health view failed')
    })
    const answers = await Promise.all(['c1', 'c2', 'c3'].map(async (callId) => await ask(app, '/kamailio/rtjson', callId, '4420')))
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 500])
    expect(answers.find((a) => a.statusCode === 500)?.json()).toEqual({ error: 'internal_error', message: 'internal error' })
    // The next turn's queries are answered as usual.
    expect((await ask(app, '/kamailio/rtjson', 'c5', '4420')).statusCode).toBe(200)
  })
})
