import net from 'node:net'
import sip from 'sip'
import { describe, expect, it } from 'vitest'
import { parseIpv4 } from '../../src/routing/caller-index.js'
import { findCallerGroup } from '../../src/routing/decide-routes.js'
import { compileCallerIndex } from '../../src/routing/caller-index.js'
import { sipUserHost } from '../../src/routing/sip-uri.js'
import { callerGroup } from './fixtures.js'

/** The former parseIpv4: net.isIPv4, then split. */
function referenceIpv4 (text: string): number | undefined {
  if (!net.isIPv4(text)) return undefined
  let value = 0
  for (const part of text.split('.')) value = value * 256 + Number(part)
  return value
}

function * ipLike (): Generator<string> {
  const parts = ['0', '1', '9', '10', '01', '00', '99', '100', '199', '200', '249', '250', '255', '256', '300', '999', '1000', '', ' 1', '1 ', 'a', '+1', '-1', '1e1', '0x1']
  for (const a of parts) for (const b of ['0', '255', '01', '']) yield `${a}.${b}.1.2`
  for (const d of parts) yield `10.0.0.${d}`
  yield * ['1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4\n', '', '::1', '::ffff:1.2.3.4', '１.2.3.4', '192.168.001.1', '127.0.0.1']
}

describe('parseIpv4', () => {
  it('agrees with net.isIPv4 and the former parse on every case', () => {
    for (const text of ipLike()) expect([text, parseIpv4(text)]).toEqual([text, referenceIpv4(text)])
  })

  it('agrees on random strings of digits and dots', () => {
    let seed = 7
    const next = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    for (let i = 0; i < 20_000; i++) {
      let text = ''
      const length = 1 + next(16)
      for (let j = 0; j < length; j++) text += '0123456789..'[next(12)]
      expect([text, parseIpv4(text)]).toEqual([text, referenceIpv4(text)])
    }
  })
})

describe('the caller lookup reads From URIs as sip.parseUri does', () => {
  const callers = compileCallerIndex([
    callerGroup('from_uri', 'alice@example.com', 'vip'),
    callerGroup('from_domain', 'example.com', 'retail'),
    callerGroup('from_domain', 'gw.example.org', 'carrier')
  ], () => {})

  it.each([
    'sip:alice@example.com', 'sip:alice@EXAMPLE.com:5060;transport=tcp', '<sip:alice@example.com>;tag=1', '  sips:bob@example.com ',
    'sip:bob:secret@example.com?subject=x', 'sip:example.com', 'sip:gw.example.org;lr', 'tel:+4420', 'sip:alice@[::1]', 'Alice <sip:alice@example.com>',
    'sip:al ice@example.com', 'sip:alice@example.com;a=b;c', 'sip:alice@exa_mple.com', ''
  ])('%s', (fromUri) => {
    const uri = fromUri.trim().replace(/^<([^>]*)>.*$/, '$1')
    const parsed = sip.parseUri(uri)
    const expected = parsed === undefined
      ? undefined
      : ((parsed.user === undefined ? undefined : callers.fromUri.get(`${parsed.user}@${parsed.host.toLowerCase()}`)) ?? callers.fromDomain.get(parsed.host.toLowerCase()))
    expect(findCallerGroup(callers, fromUri, undefined)?.group).toBe(expected)
  })
})

describe('sipUserHost reads user and host as sip.parseUri does', () => {
  it.each([
    'sip:+442071838750@sbc.example.com:5060', 'sip:alice@example.com;transport=tcp?subject=x', 'sips:bob:pw@h', 'sip:h.example', 'sip:@h', 'sip:a b@h',
    'sip:alice@ipv6.invalid', 'SIP:alice@h', 'tel:+1', 'sip:%2B44@h', 'sip:a@h;lr;x=y', 'sip:a@h:notaport', ''
  ])('%s', (uri) => {
    const parsed = sip.parseUri(uri)
    expect(sipUserHost(uri)).toEqual(parsed === undefined ? undefined : { user: parsed.user, host: parsed.host })
  })
})
