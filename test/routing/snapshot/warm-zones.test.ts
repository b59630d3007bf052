import { describe, expect, it } from 'vitest'
import { createRuleContext, newInterned } from '../../../src/routing/snapshot/compile-rows.js'
import { zonesNamed } from '../../../src/routing/snapshot/compile-rule.js'
import type { RuleTuple } from '../../../src/routing/snapshot/compiled.js'
import { warmZones, zoneTable } from '../../../src/routing/snapshot/timerec-zones.js'

const tuple = (id: number, timeWindow: string | null, timerec: string | null): RuleTuple =>
  [id, '{default}', '1', 0, timeWindow, 'ordered', null, false, '{}', true, '', null, timerec, 0]

describe('warming the time zones of a page', () => {
  it('names the zones of the windows and timerecs it has not compiled yet, and nothing else', () => {
    const ctx = createRuleContext(new Map(), new Map(), '', newInterned())
    const page = {
      names: { gateways: new Map(), carriers: new Map() },
      hashes: new Float64Array(4),
      tuples: [
        tuple(1, '{"timezone": "America/Argentina/Ushuaia", "weekly": []}', null),
        tuple(2, null, 'Asia/Kolkata|20260101T080000|20260101T180000||weekly'),
        tuple(3, null, '20260101T080000|20260101T180000||weekly'),
        tuple(4, null, null)
      ]
    }
    expect([...zonesNamed(page, ctx)].sort()).toEqual(['America/Argentina/Ushuaia', 'Asia/Kolkata'])
    ctx.texts.windows.set('\nAsia/Kolkata|20260101T080000|20260101T180000||weekly', 0)
    expect([...zonesNamed(page, ctx)]).toEqual(['America/Argentina/Ushuaia'])
  })

  it('builds a table in steps, once, and passes over what is no zone', () => {
    let steps = 0
    const warm = warmZones(['Pacific/Chatham', 'Not/AZone', 'UTC'])
    while (warm.next().done !== true) steps++
    expect(steps).toBeGreaterThan(10)
    const table = zoneTable('Pacific/Chatham')
    expect(table.name).toBe('Pacific/Chatham')
    expect(table.offsets.length).toBeGreaterThan(10)
    let again = 0
    const rewarm = warmZones(['Pacific/Chatham'])
    while (rewarm.next().done !== true) again++
    expect(again).toBe(0)
    expect(zoneTable('Pacific/Chatham')).toBe(table)
  })
})
