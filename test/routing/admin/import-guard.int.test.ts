import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app.js'
import { DEMO_DATA } from '../../../src/routing/admin/demo.js'
import { createAdminApp, type AdminTestApp } from '../../helpers/admin-app.js'
import { fakeDeps } from '../../helpers/fake-deps.js'

/** No silent wipe: an import replaces the whole partition, so what it leaves out or drops is checked first. */
let a: AdminTestApp
const url = '/v1/partitions/demo/data'
const EMPTY = { partition: {}, gateways: [], carriers: [], rules: [], caller_groups: [] }

const put = async (payload: unknown, query = '') => await a.call('PUT', `${url}${query}`, payload)
const exported = async (): Promise<string> => (await a.call('GET', url)).body

beforeAll(async () => { a = await createAdminApp() })
afterAll(async () => { await a.close() })
beforeEach(async () => {
  const res = await put(DEMO_DATA, '?allow_empty=true')
  expect(res.statusCode, res.body).toBeLessThan(300)
})

describe('a whole-partition import that would wipe', () => {
  it.each([
    ['{}', {}, '"partition", "gateways", "carriers", "rules", "caller_groups"'],
    ['{"gateways": []}', { gateways: [] }, '"partition", "carriers", "rules", "caller_groups"'],
    ['a document without caller_groups', { ...DEMO_DATA, caller_groups: undefined }, '"caller_groups"']
  ])('%s is refused with 400 would_wipe naming the missing sections, and nothing is written', async (_, doc, named) => {
    const before = await exported()
    const versionBefore = await a.version('demo')
    const res = await put(JSON.parse(JSON.stringify(doc)))
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'would_wipe', message: expect.stringContaining(`no ${named} section`) })
    expect(await exported()).toBe(before)
    expect(await a.version('demo')).toBe(versionBefore)
  })

  it('every section given but empty: refused as emptying the partition, unless ?allow_empty=true', async () => {
    const before = await exported()
    const res = await put(EMPTY)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({
      error: 'would_wipe',
      message: 'would empty partition "demo" (3 gateways, 1 carrier, 4 rules, 0 caller groups → nothing); nothing was written; send ?allow_empty=true (rtroute import --allow-empty) to import it anyway'
    })
    expect(await exported()).toBe(before)

    const allowed = await put(EMPTY, '?allow_empty=true')
    expect(allowed.statusCode).toBe(200)
    expect(allowed.json().summary).toBe('gateways +0 ~0 -3, carriers +0 ~0 -1, rules +0 ~0 -4, caller_groups +0 ~0 -0')
    expect(JSON.parse(await exported())).toMatchObject({ gateways: [], carriers: [], rules: [], caller_groups: [] })
  })

  it('dropping every rule is refused: the partition would route nothing', async () => {
    const res = await put({ ...DEMO_DATA, rules: [] })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/^would leave partition "demo" without rules \(4 → 0\)/)
  })

  it('dropping more than the configured share is refused, naming the share', async () => {
    const small = { ...EMPTY, gateways: [DEMO_DATA.gateways?.[2]], rules: [DEMO_DATA.rules?.[3]] }
    const res = await put(small)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/^would drop 6 of the 8 rows of partition "demo" \(75 %, more than the 50 % an import may drop\): gateways 3 → 1, carriers 1 → 0, rules 4 → 1; nothing was written/)
    // A smaller change passes: one rule less is 1 row of 8.
    const doc = JSON.parse(await exported())
    doc.rules = doc.rules.filter((r: { id: number }) => r.id !== 3)
    expect((await put(doc)).statusCode).toBe(200)
  })

  it('a dry run reports the same refusal and writes nothing', async () => {
    const before = await exported()
    const res = await put({}, '?dry_run=true')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ dry_run: true, valid: true, refused: { error: 'would_wipe', message: expect.stringContaining('no "partition", "gateways"') } })
    const empty = await put(EMPTY, '?dry_run=true')
    expect(empty.json().refused).toEqual({ error: 'would_wipe', message: expect.stringMatching(/^would empty partition "demo"/) })
    expect((await put(EMPTY, '?dry_run=true&allow_empty=true')).json().refused).toBeUndefined()
    expect(await exported()).toBe(before)
  })

  it('refuses an allow_empty flag it cannot read, rather than wiping', async () => {
    const before = await exported()
    expect((await put(EMPTY, '?allow_empty=maybe')).statusCode).toBe(400)
    expect(await exported()).toBe(before)
  })

  it('a new partition takes a complete document, and is refused an incomplete one', async () => {
    expect((await a.call('PUT', '/v1/partitions/fresh/data', { ...EMPTY, gateways: [{ id: 'g', address: '10.0.0.1' }] })).statusCode).toBe(201)
    const incomplete = await a.call('PUT', '/v1/partitions/fresh2/data', { gateways: [{ id: 'g', address: '10.0.0.1' }] })
    expect(incomplete.statusCode).toBe(400)
    expect(incomplete.json().error).toBe('would_wipe')
    expect((await a.call('GET', '/v1/partitions/fresh2')).statusCode).toBe(404)
  })

  it('the share is a setting: with 90 % allowed, dropping 75 % passes', async () => {
    const deps = fakeDeps()
    const app: FastifyInstance = await buildApp({ registry: deps.registry, externalGroups: deps.externalGroups, db: a.db }, { importMaxDropPercent: 90 })
    try {
      const small = { ...EMPTY, gateways: [DEMO_DATA.gateways?.[2]], rules: [DEMO_DATA.rules?.[3]] }
      const res = await app.inject({ method: 'PUT', url, payload: small })
      expect(res.statusCode, res.body).toBe(200)
      const none = await app.inject({ method: 'PUT', url, payload: EMPTY })
      expect(none.json().error).toBe('would_wipe')
    } finally {
      await app.close()
    }
  })
})
