/**
 * Concurrency: imports, admin writes and reloads racing each other and routing traffic on one
 * rtroute. Every import is a generation whose gateways, addresses and rule all carry its number,
 * so an answer mixing two generations (a torn snapshot) is seen at once. Concurrent PATCHes of
 * different fields of one gateway must all survive (no lost write), every racer must finish in
 * bounded time (no deadlock), and at the end memory must agree with the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Server } from '../../src/server.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'
import { count, describeTally, request } from './helpers/load.js'

let server: Server
let close: () => Promise<void>

const IMPORTS = 40
const RELOADS = 40
const WRITERS = 4
const CREATES_PER_WRITER = 15
const PATCHES_PER_WRITER = 15
const ROUTERS = 4
const DEADLINE_MS = 60_000

const generation = (gen: number) => ({
  partition: { description: `generation ${gen}` },
  carriers: [],
  caller_groups: [],
  gateways: [1, 2, 3].map((i) => ({ id: `g${gen}-${i}`, address: `sip:gen${gen}-${i}.example.invalid:5060`, description: `generation ${gen}`, attrs: { generation: gen } })),
  rules: [{ groups: ['default'], id: gen, prefix: '44', targets: [1, 2, 3].map((i) => ({ gateway: `g${gen}-${i}` })), description: `generation ${gen}`, attrs: { generation: gen } }]
})

const call = async (method: string, path: string, body?: unknown) => {
  const answer = await request(server.url, method, path, body)
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, any> }
}

interface Route { gateway: string, uri: string }
/** The generation every part of an answer belongs to, or a description of the tear. */
function generationOf (rtjson: { rule_id?: number, routes: Route[] }): number | string {
  const seen = new Set<number>([rtjson.rule_id ?? -1])
  for (const route of rtjson.routes) {
    seen.add(Number(/^g(\d+)-\d$/.exec(route.gateway)?.[1] ?? -2))
    seen.add(Number(/@gen(\d+)-\d\.example\.invalid/.exec(route.uri)?.[1] ?? -3))
  }
  return seen.size === 1 ? [...seen][0] ?? -1 : `rule ${String(rtjson.rule_id)} with ${rtjson.routes.map((r) => `${r.gateway} ${r.uri}`).join(', ')}`
}

beforeAll(async () => {
  ({ server, close } = await startTestServer({
    RTROUTE_RELOAD_DEBOUNCE_MS: '20',
    RTROUTE_PROBING: 'false',
    RTROUTE_DB_POOL_MAX: '10'
  }))
  await untilDatabaseReady(server)
  expect((await call('PUT', '/v1/partitions/gen/data', generation(1))).status).toBe(201)
  expect((await call('PUT', '/v1/partitions/w/data', { partition: {}, gateways: [{ id: 'shared', address: '10.9.9.9:5060' }], carriers: [], rules: [], caller_groups: [] })).status).toBe(201)
  await until(async () => await call('POST', '/kamailio/rtjson', { call_id: 'x', request_uri: 'sip:4420@sbc', partition: 'gen' }), (r) => r.body.rtjson.success === true, 10_000)
}, 60_000)
afterAll(async () => { await close?.() })

describe('imports, admin writes and reloads racing routing traffic', () => {
  it('never tears a snapshot, loses no write, deadlocks nothing, and ends where the database is', async () => {
    const started = Date.now()
    const statuses: Record<string, number> = {}
    const generations = new Set<number>()
    const torn: string[] = []
    let answers = 0
    let nextGen = 2
    let racing = true

    const importer = async (): Promise<void> => {
      while (nextGen <= IMPORTS + 1) {
        const res = await call('PUT', '/v1/partitions/gen/data', generation(nextGen++))
        count(statuses, `import ${res.status}`)
      }
    }
    const reloader = async (): Promise<void> => {
      for (let i = 0; i < RELOADS; i++) count(statuses, `reload ${(await call('POST', '/v1/partitions/gen/reload')).status}`)
    }
    // Each writer creates its own gateways and patches its own field of one shared gateway.
    const FIELDS = [
      (n: number) => ({ weight: n }),
      (n: number) => ({ description: `d-${n}` }),
      (n: number) => ({ fr_timer: 100 + n }),
      (n: number) => ({ prefix: String(n) })
    ]
    const writer = async (k: number): Promise<void> => {
      for (let i = 0; i < Math.max(CREATES_PER_WRITER, PATCHES_PER_WRITER); i++) {
        if (i < CREATES_PER_WRITER) count(statuses, `create ${(await call('POST', '/v1/partitions/w/gateways', { id: `w-${k}-${i}`, address: `10.8.${k}.${i + 1}:5060` })).status}`)
        if (i < PATCHES_PER_WRITER) count(statuses, `patch ${(await call('PATCH', '/v1/partitions/w/gateways/shared', FIELDS[k % FIELDS.length]?.(i + 1))).status}`)
      }
    }
    const router = async (r: number): Promise<void> => {
      for (let n = 0; racing; n++) {
        const res = await call('POST', '/kamailio/rtjson', { call_id: `race-${r}-${n}`, request_uri: 'sip:4420718@sbc', partition: 'gen' })
        answers++
        count(statuses, `route ${res.status}`)
        const gen = generationOf(res.body.rtjson as { rule_id?: number, routes: Route[] })
        if (typeof gen === 'number') generations.add(gen)
        else torn.push(gen)
      }
    }

    const routers = Array.from({ length: ROUTERS }, async (_, r) => { await router(r) })
    const racers = Promise.all([importer(), importer(), reloader(), ...Array.from({ length: WRITERS }, async (_, k) => { await writer(k) })])
    const outcome = await Promise.race([racers.then(() => 'done'), new Promise((resolve) => setTimeout(() => { resolve('deadline') }, DEADLINE_MS))])
    racing = false
    await Promise.all(routers)
    const elapsed = Date.now() - started
    console.log(`[concurrency] ${outcome} in ${elapsed} ms: ${describeTally(statuses)}; ${answers} routing answers from ${generations.size} generations, ${torn.length} torn`)

    expect(outcome).toBe('done')
    expect(torn).toEqual([])
    expect(Object.keys(statuses).filter((key) => / 5\d\d$/.test(key))).toEqual([])
    expect(statuses['import 200']).toBe(IMPORTS)
    expect(statuses['reload 200']).toBe(RELOADS)
    expect(statuses['create 201']).toBe(WRITERS * CREATES_PER_WRITER)
    expect(statuses['patch 200']).toBe(WRITERS * PATCHES_PER_WRITER)
    expect(generations.size).toBeGreaterThan(1)

    // No lost write: every created gateway is there, every writer's last patch survived the others.
    const list = await call('GET', '/v1/partitions/w/gateways?limit=1000')
    expect(list.body.total).toBe(1 + WRITERS * CREATES_PER_WRITER)
    expect((await call('GET', '/v1/partitions/w/gateways/shared')).body).toMatchObject({
      weight: PATCHES_PER_WRITER, description: `d-${PATCHES_PER_WRITER}`, fr_timer: 100 + PATCHES_PER_WRITER, prefix: String(PATCHES_PER_WRITER)
    })

    // Memory converges on the database: the generation and the data version it holds.
    const stored = (await call('GET', '/v1/partitions/gen/data')).body as { rules: Array<{ id: number }> }
    const last = stored.rules[0]?.id
    const version = (await call('GET', '/v1/partitions/gen')).body.data_version as number
    const routed = await until(async () => (await call('POST', '/kamailio/rtjson', { call_id: 'final', request_uri: 'sip:4420@sbc', partition: 'gen' })).body.rtjson, (r) => r.rule_id === last, 10_000)
    expect(routed.rule_id).toBe(last)
    const explained = await until(async () => (await call('GET', '/v1/partitions/gen/route?number=4420')).body, (e) => e.data_version === version, 10_000)
    expect(explained.data_version).toBe(version)
  }, 120_000)
})
