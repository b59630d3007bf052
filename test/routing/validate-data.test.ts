import { describe, expect, it } from 'vitest'
import { parseCidr } from '../../src/net.js'
import { checkTimeWindow, isTimeZone, parseGatewayAddress } from '../../src/routing/validate-data.js'

describe('parseGatewayAddress', () => {
  it.each([
    ['10.0.0.1', 'sip:10.0.0.1'],
    ['10.0.0.1:5060', 'sip:10.0.0.1:5060'],
    ['GW.Example.com:5080', 'sip:gw.example.com:5080'],
    ['sip:10.0.0.1;transport=TCP', 'sip:10.0.0.1;transport=tcp'],
    ['sips:gw.example.com', 'sips:gw.example.com'],
    ['SIP:GW.example.com:5060', 'sip:gw.example.com:5060'],
    ['[2001:db8::1]:5060', 'sip:[2001:db8::1]:5060'],
    ['sip:[2001:DB8::2]', 'sip:[2001:db8::2]']
  ])('%s → %s', (address, uri) => {
    const parsed = parseGatewayAddress(address)
    expect(typeof parsed === 'string' ? parsed : parsed.uri).toBe(uri)
  })

  it('has no port, rather than NaN, when the address names none', () => {
    expect(parseGatewayAddress('10.0.0.1')).toMatchObject({ port: undefined, host: '10.0.0.1' })
  })

  it.each([
    ['sip:bad host', 'is not a SIP URI or host[:port]'],
    ['10.0.0.1:99999', 'has port 99999, expected 1 to 65535'],
    ['sip:trunk@10.0.0.1', 'carries a user part'],
    ['sip:10.0.0.1;transport=carrier-pigeon', 'has unknown transport carrier-pigeon'],
    ['[2001:db8::zz]:5060', 'has an invalid IPv6 address'],
    ['tel:+4420', 'is not a SIP URI or host[:port]']
  ])('refuses %s', (address, message) => {
    expect(parseGatewayAddress(address)).toContain(message)
  })
})

describe('time windows, timezones, networks', () => {
  it('knows IANA timezones', () => {
    expect(isTimeZone('Europe/London')).toBe(true)
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })

  it('refuses a window that ends when it starts and a date that does not exist', () => {
    expect(checkTimeWindow({ timezone: 'UTC', weekly: [{ days: ['mon', 'mon'], start: '09:00', end: '09:00' }], from: '2026-02-30' }, 'w')).toEqual([
      { path: 'w.weekly[0]', message: 'ends (09:00) before it starts (09:00); split a window that crosses midnight in two' },
      { path: 'w.weekly[0].days', message: 'lists a day twice' },
      { path: 'w.from', message: '"2026-02-30" is not a calendar date' }
    ])
    expect(checkTimeWindow({ timezone: 'UTC', weekly: [{ days: ['sat'], start: '00:00', end: '24:00' }] }, 'w')).toEqual([])
  })

  it('parses CIDRs, a bare address being a host route', () => {
    expect(parseCidr('10.1.0.0/16')).toEqual({ address: '10.1.0.0', bits: 16, family: 4 })
    expect(parseCidr('2001:DB8::/32')).toEqual({ address: '2001:db8::', bits: 32, family: 6 })
    expect(parseCidr('10.0.0.1')).toMatchObject({ bits: 32 })
    expect(parseCidr('10.0.0.0/33')).toBeUndefined()
    expect(parseCidr('10.0.0.0/8/1')).toBeUndefined()
  })
})
