/**
 * `rtroute import --from-drouting` against a real PostgreSQL database made by OpenSIPS's own
 * drouting-create.sql plus sample rows: the dry-run diff, the import, then the routing answers of
 * a running rtroute on the imported partition; and numbers outside the prefix alphabet through
 * the proxy endpoint.
 */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDroutingDatabase, insertDroutingRows } from '../../helpers/drouting-db.js'
import type { TestDatabase } from '../../helpers/pg.js'
import { CLI, runCli } from '../../helpers/process.js'
import { startTestServer, type TestServer } from '../../helpers/test-server.js'
import { until } from '../../helpers/until.js'

let drouting: TestDatabase
let rt: TestServer

const ROWS = {
  gateways: [
    { gwid: 'uk1', address: '10.0.1.1:5060', pri_prefix: '00', strip: 0 },
    { gwid: 'uk2', address: 'sip:10.0.1.2:5060;transport=tcp', attrs: 'tier=2' },
    { gwid: 'off', address: '10.0.1.3', state: 1 },
    { gwid: 'odd', address: '10.0.1.4', type: 7 }
  ],
  carriers: [{ carrierid: 'ukc', gwlist: 'uk2=30,uk1=10', flags: 1, sort_alg: 'W' }],
  rules: [
    { ruleid: 1, groupid: '1', prefix: '44', gwlist: 'uk1,off,uk2', priority: 1 },
    { ruleid: 2, groupid: '1,2', prefix: '4420', gwlist: '#ukc', priority: 0 },
    { ruleid: 3, groupid: '1', prefix: '', gwlist: 'odd' },
    { ruleid: 4, groupid: '2', prefix: '33', gwlist: 'uk1', routeid: 'to_france' },
    { ruleid: 5, groupid: '', prefix: '99', gwlist: 'uk1' }
  ],
  groups: [{ username: 'alice', domain: 'example.com', groupid: 2 }]
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``)
  drouting = await createDroutingDatabase()
  await insertDroutingRows(drouting.url, ROWS)
  rt = await startTestServer({ RTROUTE_PROBING: 'false' }, { migrate: true })
})
afterAll(async () => {
  await rt?.close()
  await drouting?.drop()
})

const cli = async (...args: string[]) => {
  const run = runCli(['import', '--from-drouting', drouting.url, ...args], { DATABASE_URL: rt.database.url, LOG_LEVEL: 'warn' })
  return { code: await run.exited, out: run.stdout(), all: run.output() }
}

const explain = async (number: string, group: string): Promise<{ outcome: string, rule_id?: number, prefix?: string, rtjson: { routes: Array<{ gateway: string, uri: string }> } }> =>
  await (await fetch(`${rt.server.url}/v1/partitions/dr/route?number=${encodeURIComponent(number)}&group=${group}&call_id=c1`)).json() as never

describe('rtroute import --from-drouting', () => {
  it('dry run: reports drouting-style counts, every row it cannot carry, and the diff; writes nothing', async () => {
    const { code, out } = await cli('--partition', 'dr', '--dry-run')
    expect(code).toBe(0)
    expect(out).toContain('partition "dr" (dr_gateways, dr_carriers, dr_rules, dr_groups): 4 gateways loaded (0 discarded), 1 carriers loaded (0 discarded), 4 rules loaded (1 discarded), 1 groups loaded (0 discarded)')
    expect(out).toContain('dr_rules ruleid 4: routeid: not_carried: routeid "to_france" names an OpenSIPS script route')
    expect(out).toContain('dr_rules ruleid 5: groupid: discarded: no group id in groupid (drouting: "no id in grp list"): drouting discards it too [as drouting]')
    expect(out).toContain('dr_gateways gwid odd: type: adapted: type 7 has no meaning in rtroute')
    const diff = JSON.parse(out.slice(out.indexOf('{'))) as { valid: boolean, summary: string, diff: { rules: { added: string[] } } }
    expect(diff).toMatchObject({ valid: true, summary: 'gateways +4 ~0 -0, carriers +1 ~0 -0, rules +4 ~0 -0, caller_groups +1 ~0 -0' })
    expect(diff.diff.rules.added).toEqual(['1', '2', '3', '4'])
    expect((await fetch(`${rt.server.url}/v1/partitions/dr`)).status).toBe(404)
  })

  it('--strict refuses the whole import when a row would route differently', async () => {
    const { code, all } = await cli('--partition', 'dr', '--strict')
    expect(code).toBe(1)
    expect(all).toContain('--strict: 2 row(s) would route differently or lose a value (listed above); nothing was written')
    expect((await fetch(`${rt.server.url}/v1/partitions/dr`)).status).toBe(404)
  })

  it('imports, and the imported partition routes where drouting would', async () => {
    const { code, out } = await cli('--partition', 'dr')
    expect(code, out).toBe(0)
    expect(out).toMatch(/created partition "dr" \(data version \d+\): gateways \+4/)
    await until(async () => (await fetch(`${rt.server.url}/v1/partitions/dr/route?number=1`)).status, (s) => s === 200)
    // Longest prefix first; the disabled gateway is skipped; uk1's pri_prefix is added.
    expect(await explain('441234', '1')).toMatchObject({ outcome: 'routed', rule_id: 1, prefix: '44', rtjson: { routes: [{ gateway: 'uk1', uri: 'sip:00441234@10.0.1.1:5060' }, { gateway: 'uk2' }] } })
    // The carrier is first-only: one of its gateways.
    const london = await explain('44201234', '2')
    expect(london).toMatchObject({ outcome: 'routed', rule_id: 2, prefix: '4420' })
    expect(london.rtjson.routes).toHaveLength(1)
    // Group 1 has a prefixless rule, group 2 none.
    expect(await explain('3312', '1')).toMatchObject({ outcome: 'routed', rule_id: 3, prefix: '' })
    expect(await explain('99', '2')).toMatchObject({ outcome: 'no_route' })
    const data = await (await fetch(`${rt.server.url}/v1/partitions/dr/data`)).json() as { caller_groups: unknown[], partition: unknown }
    expect(data.caller_groups).toEqual([{ kind: 'from_uri', value: 'alice@example.com', group: '2', description: '' }])
  })

  it('a second run changes nothing, and an export imports back to the same document', async () => {
    const again = await cli('--partition', 'dr', '--dry-run')
    expect(again.out).toContain('"summary": "gateways +0 ~0 -0, carriers +0 ~0 -0, rules +0 ~0 -0, caller_groups +0 ~0 -0"')
    const url = `${rt.server.url}/v1/partitions/dr/data`
    const before = await (await fetch(url)).text()
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: before })
    expect(put.status).toBe(200)
    expect(await (await fetch(url)).text()).toBe(before)
  })
})

describe('extra_prefix_chars', () => {
  it('comes from --extra-prefix-chars, is exported, and an export imports back to the same document', async () => {
    expect((await cli('--partition', 'dx', '--extra-prefix-chars', '*#')).code).toBe(0)
    const url = `${rt.server.url}/v1/partitions/dx/data`
    const before = await (await fetch(url)).text()
    expect(JSON.parse(before)).toMatchObject({ partition: { extra_prefix_chars: '*#', default_group: 'default' } })
    expect((await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: before })).status).toBe(200)
    expect(await (await fetch(url)).text()).toBe(before)
    const refused = await cli('--partition', 'dy', '--extra-prefix-chars', '<')
    expect(refused.code).toBe(64)
    expect(refused.all).toContain('extra_prefix_chars "<": "<" is not a character a SIP user part carries unescaped')
  })
})

describe('a user part outside the prefix alphabet, through the proxy endpoint', () => {
  const rtjson = async (requestUri: string): Promise<{ status: number, body: { rtjson: { success: boolean, reason?: string, sip_code?: number, routes: Array<{ gateway: string }> } } }> => {
    const res = await fetch(`${rt.server.url}/kamailio/rtjson`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call_id: 'a1', request_uri: requestUri, partition: 'dr', group: '1' })
    })
    return { status: res.status, body: await res.json() as never }
  }

  it('sip:alice@… routes by the prefixless rule; without one, no_route (SIP 404); no URI stays a 400', async () => {
    expect(await rtjson('sip:alice@example.com')).toMatchObject({ status: 200, body: { rtjson: { success: true, routes: [{ gateway: 'odd' }] } } })
    const res = await fetch(`${rt.server.url}/kamailio/rtjson`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call_id: 'a2', request_uri: 'sip:alice@example.com', partition: 'dr', group: '2' })
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ rtjson: { success: false, reason: 'no_route', sip_code: 404 } })
    expect(await rtjson('sip:example.com')).toMatchObject({ status: 400, body: { rtjson: { success: false, reason: 'bad_request', sip_code: 500 } } })
  })
})
