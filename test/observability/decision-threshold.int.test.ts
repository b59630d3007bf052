/**
 * The slow-decision threshold's default (RTROUTE_ROUTING_THRESHOLD_US, 2000 µs) on the real server
 * with the demo data: no decision raises E_CORE_THRESHOLD, from the very first one after the data
 * loaded (cold code) on.
 */
import { describe, expect, it } from 'vitest'
import type { ThresholdEvent } from '../../src/events.js'
import { DEMO_DATA } from '../../src/routing/admin/demo.js'
import { startTestServer, untilDatabaseReady } from '../helpers/test-server.js'
import { until } from '../helpers/until.js'
import { request } from '../reliability/helpers/load.js'

const NUMBERS = ['+442071234567', '+441612345678', '+33123456789', '+12125550100', '+4420', '999']

describe('the slow-decision threshold default', () => {
  it('fires for no decision with the demo data on a quiet box', async () => {
    const { server, close } = await startTestServer({ RTROUTE_PROBING: 'false', RTROUTE_RELOAD_DEBOUNCE_MS: '20' })
    const events: ThresholdEvent[] = []
    server.bus.on('E_CORE_THRESHOLD', (event) => { if (event.source === 'routing_decision') events.push(event) })
    try {
      await untilDatabaseReady(server)
      expect((await request(server.url, 'PUT', '/v1/partitions/default/data', DEMO_DATA)).status).toBe(201)
      let answers = 0
      await until(async () => (await request(server.url, 'POST', '/kamailio/rtjson', { call_id: 'first', request_uri: 'sip:+442071234567@sbc' })).body,
        (body) => body.includes('"success":true'), 10_000)
      for (let i = 0; i < 600; i++) {
        const number = NUMBERS[i % NUMBERS.length] ?? ''
        const answer = await request(server.url, 'POST', '/kamailio/rtjson', { call_id: `demo-${i}`, request_uri: `sip:${number}@sbc`, from_uri: 'sip:alice@example.com' })
        expect(answer.status).toBe(200)
        answers++
      }
      const metrics = (await request(server.url, 'GET', '/metrics')).body
      const exceeded = Number(/^rtroute_threshold_exceeded_total\{source="routing_decision"\} (\d+)/m.exec(metrics)?.[1] ?? '0')
      console.log(`[threshold] ${answers + 1} demo decisions (the first one cold) at the 2000 µs default: ${events.length} E_CORE_THRESHOLD, rtroute_threshold_exceeded_total{source="routing_decision"} ${exceeded}`)
      expect(events).toEqual([])
      expect(exceeded).toBe(0)
    } finally {
      await close()
    }
  }, 60_000)
})
