/**
 * The status page in headless Chromium (Debian's `chromium`, driven by playwright-core) against a
 * real rtroute: the gateway table, capacity in use against the limits of gateways and carriers
 * (calls routed and started through /kamailio/rtjson and /kamailio/calls), status integers with
 * their names, times in UTC, answers per second, a gateway marked down through the API showing up
 * live, the "where would this number go" box, and a screenshot in test-results/. Skipped, with a
 * message, when chromium is not installed.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from '../../src/paths.js'
import type { Server } from '../../src/server.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'

const CHROMIUM = process.env.RTROUTE_CHROMIUM ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) {
  console.log(`[status page] ${CHROMIUM} not found: the browser test is skipped (install it with apt-get install -y --no-install-recommends chromium)`)
}
const SCREENSHOT = path.join(PACKAGE_ROOT, 'test-results', 'status-page.png')
const TOKEN = 'status-page-token-0123'

let server: Server
let close: () => Promise<void>
let profile: string
let context: BrowserContext
let page: Page

const post = async (url: string, body: unknown, method = 'POST') =>
  await fetch(`${server.url}${url}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) })

/** A proxy's routing query, then (for a routed one) its call start event, as Kamailio sends them. */
const routeAndStart = async (callId: string, number: string): Promise<string | undefined> => {
  const res = await post('/kamailio/rtjson', { call_id: callId, request_uri: `sip:${number}@sbc.example.com`, partition: 'p' })
  const gateway = ((await res.json()) as { rtjson: { routes: Array<{ gateway: string }> } }).rtjson.routes[0]?.gateway
  if (gateway !== undefined) expect((await post('/kamailio/calls', { event: 'start', call_id: callId, partition: 'p', gateway, code: 200 })).status).toBe(202)
  return gateway
}

/** The text of the cell `selector` in the row `row`, once it reads `expected` (the page refreshes every few seconds). */
const cellReads = async (row: string, selector: string, expected: RegExp): Promise<string> => {
  await expect.poll(async () => await page.textContent(`${row} ${selector}`), { timeout: 15_000, interval: 100 }).toMatch(expected)
  return await page.textContent(`${row} ${selector}`) ?? ''
}

const UTC_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/

/** The gateway table as the page shows it: [partition/gateway, state, reason]. */
const gatewayTable = async (): Promise<string[][]> => await page.$$eval('#gateways tbody tr', (rows) => rows.map((row) => [
  row.getAttribute('data-gateway') ?? '',
  row.querySelector('.state')?.textContent ?? '',
  row.querySelector('.reason')?.textContent ?? ''
]))

describe.skipIf(!hasChromium)('status page in headless Chromium', () => {
  beforeAll(async () => {
    ({ server, close } = await startTestServer({ RTROUTE_PROBING: 'false', RTROUTE_RELOAD_DEBOUNCE_MS: '10', RTROUTE_SSE_HEARTBEAT_MS: '1000', RTROUTE_ADMIN_TOKEN: TOKEN, RTROUTE_PARTITION: 'p' }))
    await untilDatabaseReady(server)
    const put = await post('/v1/partitions/p/data', {
      partition: { settings: { down_after_failures: 2, hold_down_ms: 600_000 } },
      gateways: [{ id: 'uk-a', address: '192.0.2.10:5060', max_calls: 2, max_cps: 5 }, { id: 'uk-b', address: '192.0.2.11:5060' }],
      carriers: [{ id: 'intl', gateways: [{ gateway: 'uk-b' }], max_calls: 4, max_cps: 10 }, { id: 'spare', gateways: [{ gateway: 'uk-a' }] }],
      rules: [{ groups: ['default'], id: 1, prefix: '+44', targets: [{ gateway: 'uk-a' }, { gateway: 'uk-b' }] }, { groups: ['default'], id: 2, prefix: '+33', targets: [{ carrier: 'intl' }] }],
      caller_groups: []
    }, 'PUT')
    expect(put.status).toBe(201)
    await until(async () => server.registry.readiness().ready && (await (await fetch(`${server.url}/v1/partitions/p/gateways/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).status) === 200, (ok) => ok)
    profile = await mkdtemp(path.join(os.tmpdir(), 'rtroute-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 1000 }
    })
    page = context.pages()[0] ?? await context.newPage()
  }, 90_000)

  afterAll(async () => {
    await context?.close()
    if (profile !== undefined) await rm(profile, { recursive: true, force: true })
    await close?.()
  })

  it('asks for the admin token, then shows partitions and gateways, follows a gateway going down live, explains a number', async () => {
    const failed: string[] = []
    page.on('requestfailed', (request) => { if (!request.url().endsWith('/v1/events')) failed.push(request.url()) })
    page.on('pageerror', (err) => { failed.push(err.message) })
    await page.goto(`${server.url}/`)
    // RTROUTE_ADMIN_TOKEN is set: the page asks for it (kept in sessionStorage, sent as a bearer token).
    await page.waitForSelector('#token-form', { state: 'visible' })
    expect(await page.textContent('#token-message')).toMatch(/missing bearer token/)
    await page.fill('#token', TOKEN)
    await page.click('#token-form button')
    await page.waitForSelector('#gateways tbody tr[data-gateway="p/uk-a"]')
    expect(await page.textContent('#partitions tbody tr[data-partition="p"]')).toMatch(/ready/)
    expect(await gatewayTable()).toEqual([['p/uk-a', 'active', 'initial'], ['p/uk-b', 'active', 'initial']])
    await page.waitForSelector('#live.ok')
    expect(await page.isVisible('#token-form')).toBe(false)

    // Status integers with their names; times in UTC, saying so.
    expect(await page.textContent('#partitions tbody tr[data-partition="p"] .status')).toBe('1 ready')
    expect(await page.textContent('#statuses tbody tr[data-identifier="core/main"] .status')).toBe('1 running')
    expect(await page.textContent('#statuses tbody tr[data-identifier="db/main"] .status')).toBe('1 connected')
    expect(await page.textContent('#statuses tbody tr[data-identifier="routing/p;events"] .status')).toBe('1 ready')
    expect(await page.$$eval('#gateways tbody tr td.when', (cells) => cells.map((c) => c.textContent))).toEqual([expect.stringMatching(UTC_TIME), expect.stringMatching(UTC_TIME)])
    const reportDates = await page.$$eval('#reports tbody tr td:first-child', (cells) => cells.map((c) => c.textContent ?? ''))
    expect(reportDates.length).toBeGreaterThan(0)
    for (const date of reportDates) expect(date).toMatch(UTC_TIME)

    // Capacity: calls routed and started as the proxy reports them; unlimited ones say so.
    expect(await routeAndStart('cap-1', '+442071838750')).toBe('uk-a')
    expect(await routeAndStart('cap-2', '+33142685300')).toBe('uk-b')
    // Answers the page counts (no_route: neither leased nor counted against any limit).
    for (let i = 0; i < 20; i++) expect((await post('/kamailio/rtjson', { call_id: `none-${i}`, request_uri: 'sip:+15551234@sbc.example.com', partition: 'p' })).status).toBe(200)
    const ukA = '#gateways tbody tr[data-gateway="p/uk-a"]'
    expect(await cellReads(ukA, '.capacity-calls', /^1 \/ 2$/)).toBe('1 / 2')
    expect(await page.textContent(`${ukA} .capacity-cps`)).toMatch(/^[01] \/ 5$/)
    expect(await page.textContent('#gateways tbody tr[data-gateway="p/uk-b"] .capacity-calls')).toBe('no limit')
    const intl = '#carriers tbody tr[data-carrier="p/intl"]'
    expect(await cellReads(intl, '.capacity-calls', /^1 \/ 4$/)).toBe('1 / 4')
    expect(await page.textContent(`${intl} .capacity-cps`)).toMatch(/^[01] \/ 10$/)
    expect(await page.textContent('#carriers tbody tr[data-carrier="p/spare"] .capacity-calls')).toBe('no limit')
    // What the page shows is what the state endpoint counts.
    const state = await (await fetch(`${server.url}/v1/partitions/p/gateways/uk-a/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { capacity: { calls: number, started: number, max_calls: number } }
    expect(state.capacity).toMatchObject({ calls: 1, started: 1, max_calls: 2 })

    // Answers per second: 22 answers between reads of the count at least a second apart.
    await expect.poll(async () => Number(await page.getAttribute('#rate', 'data-rate') ?? '0'), { timeout: 15_000, interval: 100 }).toBeGreaterThan(0)
    expect(await page.textContent('#rate')).toMatch(/^\d+(\.\d)? answers\/s$/)
    expect(Number(await page.getAttribute('#rate', 'data-total'))).toBeGreaterThanOrEqual(22)

    // Down through the API (the proxy's failover feedback): the page updates from the event stream.
    for (const callId of ['c1', 'c2']) expect((await post('/kamailio/feedback', { call_id: callId, partition: 'p', gateway: 'uk-a', code: 503, reason: 'Service Unavailable' })).status).toBe(202)
    await page.waitForSelector('#gateways tbody tr[data-gateway="p/uk-a"][data-state="down"]', { timeout: 5000 })
    const [a] = await gatewayTable()
    expect(a?.slice(0, 2)).toEqual(['p/uk-a', 'down'])
    expect(a?.[2]).toMatch(/failover feedback 503 Service Unavailable/)
    expect(await page.textContent('#gateways tbody tr[data-gateway="p/uk-a"] .history')).toMatch(/switched to \[down\]/)
    expect(await page.textContent('#events')).toMatch(/E_GATEWAY_STATUS\s*p\/uk-a: suspect → down/)

    await page.fill('#explain-number', '+442071838750')
    await page.click('#explain-form button')
    await page.waitForSelector('#explain-routes li')
    expect(await page.$$eval('#explain-routes .gateway', (els) => els.map((e) => e.textContent))).toEqual(['uk-b'])
    expect(await page.textContent('#explain-result')).toMatch(/gateway uk-a \[down\]: down/)

    await mkdir(path.dirname(SCREENSHOT), { recursive: true })
    expect(await page.$$eval('#events li > span.muted', (spans) => spans.map((e) => e.textContent?.trim()))).toEqual(expect.arrayContaining([expect.stringMatching(/^\d\d:\d\d:\d\d UTC$/)]))
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    console.log(`[status page] screenshot: ${SCREENSHOT}`)
    expect(failed).toEqual([])
  })
})
