/**
 * Property-based bad input on every admin body (app.inject over a real PostgreSQL): partitions,
 * gateways, carriers, rules, caller groups, status groups, gateway/carrier state, the probing
 * switch and the whole-partition import. Each answer is a 2xx or a 4xx with {error, message}
 * (never a 5xx), and after a 4xx the database holds exactly what it held before (a dump of every
 * routing, state and status-group table, compared byte for byte).
 */
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createGatewayStateRepository } from '../../src/dispatcher/gateway-state.repository.js'
import { createHealthStore } from '../../src/dispatcher/health-store.js'
import { createSnapshotRepository } from '../../src/routing/snapshot/snapshot.repository.js'
import { createRouteTables } from '../../src/routing/snapshot/route-tables.js'
import { createExternalGroups } from '../../src/status/external-groups.js'
import { createStatusGroupRepository } from '../../src/status/status-group.repository.js'
import { RING_SIZES } from '../../src/status/status-registry.js'
import { fakeDeps } from '../helpers/fake-deps.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { badInputs, KindCounter, mustBeRefused, oddString, type BadInput } from './helpers/bad-input.js'
import { dumpDiff, dumpTables } from './helpers/dump.js'

const BODY_LIMIT = 64 * 1024
const RUNS = Number(process.env.RTROUTE_FUZZ_RUNS_ADMIN ?? 150)
const quiet = pino({ level: 'silent' })

let t: TestDatabase
let app: FastifyInstance
let dump: string
const found: string[] = []

const DOCUMENT = {
  partition: { default_group: 'default', description: 'fuzzed', settings: { down_after_failures: 3 } },
  gateways: [{ id: 'g1', address: 'sip:10.0.0.1:5060', attrs: { branch_flags: 8 } }, { id: 'g2', address: '10.0.0.2:5060;transport=tcp', description: 'two' }],
  carriers: [{ id: 'c1', sort: 'weighted', gateways: [{ gateway: 'g1', weight: 2 }, { gateway: 'g2' }] }],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ carrier: 'c1' }, { gateway: 'g2' }], time_window: { timezone: 'Europe/London', weekly: [{ days: ['mon', 'tue'], start: '08:00', end: '18:00' }] } }],
  caller_groups: [{ kind: 'cidr', value: '10.1.0.0/16', group: 'vip' }]
}

/** Breakages JSON Schema cannot see; each must make the import a 400 that writes nothing. */
const SEMANTIC: Array<(doc: typeof DOCUMENT) => unknown> = [
  (d) => ({ ...d, rules: [{ groups: ['default'], ...d.rules[0], targets: [{ gateway: 'nope' }] }] }),
  (d) => ({ ...d, rules: [{ ...d.rules[0], time_window: { timezone: 'Mars/Olympus_Mons' } }] }),
  (d) => ({ ...d, rules: [{ ...d.rules[0], time_window: { timezone: 'UTC', weekly: [{ days: ['mon'], start: '18:00', end: '08:00' }] } }] }),
  (d) => ({ ...d, gateways: [...d.gateways, d.gateways[0]] }),
  (d) => ({ ...d, gateways: [{ id: 'g1', address: 'sip:user@10.0.0.1' }, d.gateways[1]] }),
  (d) => ({ ...d, carriers: [{ id: 'c1', gateways: [{ gateway: 'g1' }, { gateway: 'g1' }] }] }),
  (d) => ({ ...d, caller_groups: [{ kind: 'cidr', value: '10.1.0.0/33', group: 'vip' }] }),
  (d) => ({ ...d, rules: [d.rules[0], d.rules[0]] }),
  (d) => ({ ...d, gateways: [{ ...d.gateways[0], attrs: { deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) } }, d.gateways[1]] })
]

interface Endpoint { readonly method: 'POST' | 'PUT' | 'PATCH', readonly url: string, readonly valid: Record<string, unknown>, readonly strings: string[] }

const ENDPOINTS: Endpoint[] = [
  { method: 'POST', url: '/v1/partitions', valid: { name: 'q', default_group: 'default', description: 'd', settings: { hold_down_ms: 1000 } }, strings: ['name', 'default_group', 'description'] },
  { method: 'PUT', url: '/v1/partitions/p', valid: { name: 'p', description: 'x', settings: {} }, strings: ['name', 'description'] },
  { method: 'PATCH', url: '/v1/partitions/p', valid: { description: 'y', settings: { up_after_probes: 2, feedback_failure_codes: '408L,500-599' } }, strings: ['description', 'default_group'] },
  { method: 'POST', url: '/v1/partitions/p/gateways', valid: { id: 'g9', address: 'sip:10.0.0.9:5060', attrs: { k: 1 }, probe_mode: 'when_down', weight: 3, socket: 'udp:10.0.0.10:5060' }, strings: ['id', 'address', 'socket', 'prefix'] },
  { method: 'PUT', url: '/v1/partitions/p/gateways/g2', valid: { id: 'g2', address: '10.0.0.2:5060', attrs: {}, description: 'put' }, strings: ['id', 'address', 'description'] },
  { method: 'PATCH', url: '/v1/partitions/p/gateways/g2', valid: { weight: 5, attrs: { x: [1, 2] }, fr_timer: 2000 }, strings: ['address', 'prefix'] },
  { method: 'POST', url: '/v1/partitions/p/carriers', valid: { id: 'c9', sort: 'hash', gateways: [{ gateway: 'g1', weight: 2 }], attrs: {} }, strings: ['id', 'description'] },
  { method: 'PATCH', url: '/v1/partitions/p/carriers/c1', valid: { gateways: [{ gateway: 'g2' }], first_only: true }, strings: ['description', 'sort'] },
  { method: 'POST', url: '/v1/partitions/p/rules', valid: { groups: ['default'], prefix: '33', targets: [{ gateway: 'g1' }], time_window: { timezone: 'Europe/Paris', weekly: [{ days: ['mon'], start: '08:00', end: '18:00' }] }, attrs: {} }, strings: ['prefix', 'description'] },
  { method: 'PATCH', url: '/v1/partitions/p/rules/1', valid: { groups: ['default'], priority: 5, targets: [{ carrier: 'c1' }], max_targets: 2 }, strings: ['prefix', 'description'] },
  { method: 'POST', url: '/v1/partitions/p/caller-groups', valid: { kind: 'from_domain', value: 'pbx.example.com', group: 'gold' }, strings: ['value', 'group', 'kind'] },
  { method: 'PUT', url: '/v1/status/ext', valid: { required: false, ring_size: 50 }, strings: [] },
  { method: 'PUT', url: '/v1/status/ext/main', valid: { status: 1, details: 'ok' }, strings: ['details'] },
  { method: 'POST', url: '/v1/reports/ext/main', valid: { log: 'hello' }, strings: ['log'] },
  { method: 'PUT', url: '/v1/partitions/p/gateways/g2/state', valid: { state: 'disabled', reason: 'maintenance' }, strings: ['state', 'reason'] },
  { method: 'PUT', url: '/v1/partitions/p/carriers/c1/state', valid: { enabled: false, reason: 'contract' }, strings: ['reason'] },
  { method: 'PUT', url: '/v1/probing', valid: { enabled: false }, strings: [] }
]

beforeAll(async () => {
  t = await createTestDatabase()
  const deps = fakeDeps()
  const db = t.db.kysely
  const group = deps.registry.createGroup('routing', { required: true, ringSize: RING_SIZES.partition })
  const tables = createRouteTables({ repository: createSnapshotRepository(db), group, log: quiet, debounceMs: 10 })
  const repository = createGatewayStateRepository(db)
  const store = createHealthStore({ repository, bus: deps.bus, log: quiet, now: Date.now, eventsOf: () => undefined, queueMax: 1000, retryMinMs: 10, retryMaxMs: 100 })
  const externalGroups = createExternalGroups(deps.registry, createStatusGroupRepository(db))
  app = await buildApp({
    registry: deps.registry,
    externalGroups,
    db,
    routing: { tables, health: store.view },
    dispatcher: { store, repository, isLeader: () => false }
  }, { bodyLimit: BODY_LIMIT, docs: false })
  expect((await app.inject({ method: 'PUT', url: '/v1/partitions/p/data', payload: DOCUMENT })).statusCode).toBe(201)
  expect((await app.inject({ method: 'PUT', url: '/v1/status/ext', payload: {} })).statusCode).toBe(201)
  await tables.sweep('start')
  dump = await dumpTables(db)
}, 60_000)

afterAll(async () => {
  await app?.close()
  await t?.drop()
  console.log(`[bad-input] admin bodies: ${found.join('; ')}`)
})

async function send (method: string, url: string, input: BadInput) {
  return await app.inject({ method: method as 'POST', url, payload: input.payload, headers: input.contentType === undefined ? {} : { 'content-type': input.contentType } })
}

/**
 * The invariant of every admin write: a 2xx, or a 4xx {error, message} that changed nothing. The
 * properties are stateful (accepted writes change the data), so they end at the first failure
 * instead of shrinking against a database that has moved on.
 */
async function check (label: string, res: Awaited<ReturnType<typeof send>>, input: BadInput | undefined): Promise<void> {
  // The baseline moves first, so that one failure does not make every later input fail too.
  const before = dump
  dump = await dumpTables(t.db.kysely)
  expect(res.statusCode, `${label}: ${res.body.slice(0, 300)}`).toBeLessThan(500)
  if (input !== undefined && mustBeRefused(input)) expect(res.statusCode, `${label} accepted a ${input.kind} body`).toBeGreaterThanOrEqual(400)
  if (res.statusCode >= 400) {
    expect(res.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) })
    expect(dumpDiff(before, dump), `${label} answered ${res.statusCode} but changed the database`).toBe('')
  }
}

describe('every admin body, fuzzed', () => {
  it.each(ENDPOINTS.map((e) => [`${e.method} ${e.url}`, e] as const))('%s: 2xx, or a 4xx that writes nothing', async (label, endpoint) => {
    const counter = new KindCounter()
    await fc.assert(fc.asyncProperty(badInputs(endpoint.valid, { bodyLimit: BODY_LIMIT, stringFields: endpoint.strings }), async (input) => {
      counter.add(input.kind)
      await check(label, await send(endpoint.method, endpoint.url, input), input)
    }), { numRuns: RUNS, endOnFailure: true })
    found.push(`${label} ${counter.total}`)
  }, 120_000)

  it('PUT /v1/partitions/:p/data: bad documents (structural and semantic) are refused whole', async () => {
    const counter = new KindCounter()
    const semantic = fc.tuple(fc.constantFrom(...SEMANTIC.keys()), fc.constantFrom('p', 'fresh')).map(([i, partition]) => ({
      partition, input: { kind: 'semantically invalid', payload: JSON.stringify(SEMANTIC[i]?.(DOCUMENT)), contentType: 'application/json' }
    }))
    const structural = fc.tuple(badInputs(DOCUMENT as unknown as Record<string, unknown>, { bodyLimit: BODY_LIMIT, stringFields: [] }), fc.constantFrom('p', 'fresh'))
      .map(([input, partition]) => ({ partition, input }))
    await fc.assert(fc.asyncProperty(fc.oneof(semantic, structural), async ({ partition, input }) => {
      counter.add(input.kind)
      const res = await send('PUT', `/v1/partitions/${partition}/data`, input)
      if (input.kind === 'semantically invalid') expect(res.statusCode).toBe(400)
      await check(`PUT /v1/partitions/${partition}/data`, res, input)
    }), { numRuns: RUNS * 3, endOnFailure: true })
    found.push(`import ${counter.toString()}`)
  }, 180_000)

  it('odd path parameters (partition, ids, groups) get a 4xx and write nothing', async () => {
    const counter = new KindCounter()
    const templates = ['/v1/partitions/{}', '/v1/partitions/{}/gateways/g1', '/v1/partitions/p/gateways/{}', '/v1/partitions/p/rules/{}', '/v1/partitions/p/caller-groups/{}',
      '/v1/partitions/p/carriers/{}', '/v1/status/{}', '/v1/reports/ext/{}', '/v1/partitions/{}/data', '/v1/partitions/p/gateways/{}/state']
    const segment = fc.oneof(oddString, fc.constantFrom('%', '%zz', '%c0%af'))
    await fc.assert(fc.asyncProperty(fc.constantFrom(...templates), segment, fc.constantFrom('PUT', 'PATCH', 'DELETE', 'POST'), async (template, value, method) => {
      counter.add('odd path parameter')
      // Every UTF-8 byte percent-encoded (a lone surrogate becomes U+FFFD), plus raw broken escapes.
      const encoded = value === '%' || value === '%zz' || value === '%c0%af' ? value : [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
      const url = template.replace('{}', encoded)
      const res = await app.inject({ method: method as 'PUT', url, payload: method === 'DELETE' ? undefined : { description: 'x' } })
      await check(`${method} ${url}`, res, undefined)
    }), { numRuns: RUNS * 2, endOnFailure: true })
    found.push(`path parameters ${counter.total}`)
  }, 120_000)
})
