/**
 * OpenSIPS and the status/report framework, end to end: the shipped config keeps its
 * status_report group "rtroute" in step with rtroute's /readyz (and answers OPTIONS from it), and
 * rtroute's status/report HTTP answers have the shape of the real framework's MI answers
 * (sr_get_status, sr_list_status, sr_list_reports, sr_list_identifiers over mi_http), keys in
 * snake_case as the README's MI mapping table says, with the differences that table documents.
 */
import { expect, it } from 'vitest'
import { createTcpProxy } from '../../helpers/tcp-proxy.js'
import type { OpenSips } from '../helpers/opensips.js'
import { freePort } from '../../../src/embedded-postgres.js'
import { startRtroute, type Rtroute } from '../helpers/rtroute.js'
import { describeCall } from '../helpers/sipp.js'
import type { ProxyStack } from '../helpers/stack.js'
import { sipOptions } from '../helpers/udp.js'

const NUMBER = '442071838750'

/** The README's mapping of MI keys to rtroute's keys. A key missing here fails the comparison. */
const MI_KEYS: Readonly<Record<string, string>> = {
  Readiness: 'readiness',
  Status: 'status',
  Details: 'details',
  Name: 'name',
  Identifiers: 'identifiers',
  Reports: 'reports',
  Timestamp: 'timestamp',
  Date: 'date',
  Log: 'log',
  Group: 'group'
}

/** An MI answer with its keys renamed as the README maps them. */
function snakeKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, v]) => {
    const mapped = MI_KEYS[key]
    if (mapped === undefined) throw new Error(`MI key ${key} has no rtroute name in the README's mapping`)
    return [mapped, snakeKeys(v)]
  }))
}

type Shape = string | Shape[] | { [key: string]: Shape }

/** Keys, types and nesting of a JSON value: integers apart from other numbers, arrays by their elements' shapes. */
function shapeOf (value: unknown): Shape {
  if (value === null) return 'null'
  if (Array.isArray(value)) {
    const shapes = [...new Map(value.map((v) => { const s = shapeOf(v); return [JSON.stringify(s), s] as const })).values()]
    return shapes
  }
  if (typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, shapeOf((value as Record<string, unknown>)[key])]))
  }
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** `value` without the keys rtroute adds on purpose (documented in the README's MI table). */
function omit (value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.includes(key)))
}

/** ctime(3) without its newline, as status_report dates its reports: the day of the month space-padded. */
const CTIME = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \d{4}$/

function datesOf (value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(datesOf)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, v]) => (key === 'date' && typeof v === 'string' ? [v] : datesOf(v)))
}

/** Registers the scenarios in the calling describe block, against its OpenSIPS stack. */
export function statusReportScenarios (s: ProxyStack<OpenSips>): void {
  const PARTITION = s.partition
  const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${s.rtroute.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text === '' ? undefined : JSON.parse(text)
  }

  it('keeps its readiness in step with rtroute\'s /readyz: MI sr_get_status and OPTIONS say not ready while rtroute is away or has not loaded the partition, then ready', async () => {
    const gw = await s.gateway('ready-gw', { kind: 'answer' })
    await s.rtroute.load(PARTITION, {
      gateways: [{ id: 'uk', address: gw.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'uk' }] }]
    })
    // An OpenSIPS whose rtroute is not there yet.
    const port = await freePort()
    const proxy = await s.extraProxy('proxy-late', { rtrouteUrl: `http://127.0.0.1:${port}`, partition: PARTITION, waitReady: false })
    // eslint-disable-next-line prefer-const -- the failure dump reads it before it is started
    let late: Rtroute | undefined
    s.dumpOnFailure(() => `--- late OpenSIPS output (tail) ---\n${proxy.output().slice(-6000)}\n--- late rtroute ---\n${late?.cli.output().slice(-3000) ?? ''}`)
    const status = async (): Promise<unknown> => await proxy.mi('sr_get_status', { group: 'rtroute' })
    // Polled once a second: "not polled yet" (-2) turns into "not ready" (-1).
    await expect.poll(status, { timeout: 5000, interval: 200 }).toEqual({ Readiness: false, Status: -1, Details: 'rtroute not ready (not answering)' })
    expect(await sipOptions(proxy.port)).toBe(503)

    // rtroute comes up on that port, on the same database, which it cannot reach yet (a closed
    // forwarder in front): it answers, but is not ready and does not route the partition.
    const target = new URL(s.db.url)
    const pgGate = await createTcpProxy(target.hostname, Number(target.port))
    s.track({ stop: pgGate.close })
    const gated = new URL(s.db.url)
    gated.hostname = '127.0.0.1'
    gated.port = String(pgGate.port)
    late = await startRtroute({ DATABASE_URL: gated.toString(), RTROUTE_PARTITION: PARTITION, RTROUTE_DB_RETRY_MIN_MS: '100', RTROUTE_DB_RETRY_MAX_MS: '300' }, port)
    s.track(late)
    const readyz = async (): Promise<{ status: number, body: any }> => {
      const res = await fetch(`${late?.url ?? ''}/readyz`)
      return { status: res.status, body: await res.json() }
    }
    const before = await readyz()
    expect(before.status).toBe(503)
    // The shape the config reads (ready), in full: a change here must show up.
    expect(shapeOf(before.body)).toEqual({ not_ready: [{ details: 'string', group: 'string', identifier: 'string', status: 'integer' }], ready: 'boolean' })
    expect(before.body.ready).toBe(false)
    const query = { call_id: 'readiness', request_uri: `sip:${NUMBER}@rtroute.invalid`, partition: PARTITION }
    expect((await late.route(query)).body.rtjson).toMatchObject({ success: false, reason: 'not_ready', sip_code: 503 })
    await expect.poll(status, { timeout: 5000, interval: 200 }).toEqual({ Readiness: false, Status: -1, Details: 'rtroute not ready (GET /readyz answered 503)' })
    expect(await sipOptions(proxy.port)).toBe(503)

    await pgGate.open()
    await expect.poll(async () => (await readyz()).status, { timeout: 15_000, interval: 100 }).toBe(200)
    expect((await readyz()).body).toEqual({ ready: true, not_ready: [] })
    await expect.poll(status, { timeout: 5000, interval: 200 }).toEqual({ Readiness: true, Status: 1, Details: 'rtroute ready' })
    expect(await sipOptions(proxy.port)).toBe(200)
    const call = await s.call(NUMBER, {}, proxy)
    expect(call.exitCode, describeCall(call)).toBe(0)

    // Each change left a report, oldest first.
    const reports = await proxy.mi('sr_list_reports', { group: 'rtroute', identifier: 'main' }) as Array<{ Log: string }>
    expect(reports.map((r) => r.Log.replace(/\{.*\}$/, '{...}'))).toEqual([
      'rtroute not ready: GET /readyz failed (no connection)',
      'rtroute not ready: GET /readyz answered 503 {...}',
      'rtroute ready: GET /readyz answered 200'
    ])
  })

  it('answers status and reports in the shape of OpenSIPS\'s status_report MI (sr_get_status, sr_list_status, sr_list_reports, sr_list_identifiers)', async () => {
    s.dumpOnFailure()
    const mi = async (method: string, params?: Record<string, unknown>): Promise<any> => await s.proxy.mi(method, params)
    // OpenSIPS: the script group "rtroute" (identifier main), ready with a report by now.
    await expect.poll(async () => await mi('sr_get_status', { group: 'rtroute' }), { timeout: 5000 }).toMatchObject({ Status: 1 })
    // rtroute: an external group, the same kind of identifier (fed from outside, status, details, reports).
    const group = 'proxy-parity'
    await admin('PUT', `/v1/status/${group}`, { required: false })
    await admin('PUT', `/v1/status/${group}/main`, { status: 1, details: 'fed by a script' })
    await admin('POST', `/v1/reports/${group}/main`, { log: 'first report' })
    await admin('POST', `/v1/reports/${group}/main`, { log: 'second report' })
    try {
      const same = (miAnswer: unknown, rtrouteAnswer: unknown, what: string): void => {
        expect(shapeOf(rtrouteAnswer), what).toEqual(shapeOf(snakeKeys(miAnswer)))
      }
      const byName = (list: any[], key: string, name: string): any => {
        const found = list.find((item) => item[key] === name)
        if (found === undefined) throw new Error(`no ${key} ${name} in ${JSON.stringify(list)}`)
        return found
      }

      // sr_get_status group [identifier] = GET /v1/status/:group/:identifier, identically shaped.
      same(await mi('sr_get_status', { group: 'rtroute' }), await admin('GET', `/v1/status/${group}/main`), 'sr_get_status group')
      same(await mi('sr_get_status', { group: 'rtroute', identifier: 'main' }), await admin('GET', `/v1/status/${group}/main`), 'sr_get_status group identifier')
      // The aggregate: the same values too.
      expect(await admin('GET', `/v1/status/${group}/all`)).toEqual(snakeKeys(await mi('sr_get_status', { group: 'rtroute', identifier: 'all' })))
      expect(await admin('GET', `/v1/status/${group}/all`)).toEqual({ readiness: true, status: 1, details: 'aggregated' })

      // sr_list_status: rtroute's group elements add readiness, required and external.
      const miGroups = await mi('sr_list_status') as any[]
      const rtGroups = await admin('GET', '/v1/status') as any[]
      same(byName(miGroups, 'Name', 'rtroute'), omit(byName(rtGroups, 'name', group), ['readiness', 'required', 'external']), 'sr_list_status')
      expect(Object.keys(byName(rtGroups, 'name', group)).sort()).toEqual(['external', 'identifiers', 'name', 'readiness', 'required'])
      // sr_list_status group: MI answers the identifiers array, rtroute the group element holding it.
      same(await mi('sr_list_status', { group: 'rtroute' }), (await admin('GET', `/v1/status/${group}`)).identifiers, 'sr_list_status group')

      // sr_list_reports: identical nesting for every group; for one group (one identifier) rtroute
      // wraps MI's array in {name, identifiers} ({name, reports}).
      const miReports = await mi('sr_list_reports')
      const rtReports = await admin('GET', '/v1/reports')
      same(byName(miReports, 'Name', 'rtroute'), byName(rtReports, 'name', group), 'sr_list_reports')
      same(await mi('sr_list_reports', { group: 'rtroute' }), (await admin('GET', `/v1/reports/${group}`)).identifiers, 'sr_list_reports group')
      same(await mi('sr_list_reports', { group: 'rtroute', identifier: 'main' }), (await admin('GET', `/v1/reports/${group}/main`)).reports, 'sr_list_reports group identifier')
      expect(Object.keys(await admin('GET', `/v1/reports/${group}`)).sort()).toEqual(['identifiers', 'name'])
      expect(Object.keys(await admin('GET', `/v1/reports/${group}/main`)).sort()).toEqual(['name', 'reports'])
      // Dates in ctime format on both sides (rtroute's in UTC), timestamps in unix seconds.
      const dates = [...datesOf(snakeKeys(miReports)), ...datesOf(rtReports)]
      expect(dates.length).toBeGreaterThan(3)
      for (const date of dates) expect(date).toMatch(CTIME)
      const now = Date.now() / 1000
      for (const r of (await admin('GET', `/v1/reports/${group}/main`)).reports) expect(Math.abs(r.timestamp - now)).toBeLessThan(120)
      for (const r of await mi('sr_list_reports', { group: 'rtroute', identifier: 'main' })) expect(Math.abs(r.Timestamp - now)).toBeLessThan(120)

      // sr_list_identifiers [group] = GET /v1/identifiers[/:group], identically shaped.
      same(byName(await mi('sr_list_identifiers'), 'Group', 'rtroute'), byName(await admin('GET', '/v1/identifiers'), 'group', group), 'sr_list_identifiers')
      same(await mi('sr_list_identifiers', { group: 'rtroute' }), await admin('GET', `/v1/identifiers/${group}`), 'sr_list_identifiers group')
      expect(await admin('GET', `/v1/identifiers/${group}`)).toEqual({ group, identifiers: ['main'] })
      expect(await mi('sr_list_identifiers', { group: 'rtroute' })).toEqual({ Group: 'rtroute', Identifiers: ['main'] })
    } finally {
      await admin('DELETE', `/v1/status/${group}`)
    }
  })
}
