import net from 'node:net'
import sip from 'sip'
import { describe, expect, it } from 'vitest'
import { parseIpv4 } from '../../../src/routing/snapshot/caller-index.js'
import { compileCallerIndex, findCallerGroup } from '../compile.js'
import { scanSipUri, SIP_URI, type SipSpans } from '../../../src/routing/decide/sip-uri.js'
import { callerGroup } from '../fixtures.js'

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
    callerGroup('from_uri', 'bob@gw.example.org', 'bob'),
    callerGroup('from_domain', 'example.com', 'retail'),
    callerGroup('from_domain', 'gw.example.org', 'carrier')
  ], () => {})

  it.each([
    'sip:alice@example.com', 'sip:alice@EXAMPLE.com:5060;transport=tcp', '<sip:alice@example.com>;tag=1', '  sips:bob@example.com ',
    'sip:bob:secret@example.com?subject=x', 'sip:example.com', 'sip:gw.example.org;lr', 'tel:+4420', 'sip:alice@[::1]', 'Alice <sip:alice@example.com>',
    'sip:al ice@example.com', 'sip:alice@example.com;a=b;c', 'sip:alice@exa_mple.com', '',
    'sip:bob@GW.Example.org', 'sip:bob:pw@gw.example.org', 'sip:BOB@gw.example.org', 'sip:bob@gw.example.org:5060', 'sip:h;p=a:b@'
  ])('%s', (fromUri) => {
    const uri = fromUri.trim().replace(/^<([^>]*)>.*$/, '$1')
    const parsed = sip.parseUri(uri)
    const expected = parsed === undefined
      ? undefined
      : ((parsed.user === undefined ? undefined : callers.fromUri.get(`${parsed.user}@${parsed.host.toLowerCase()}`)) ?? callers.fromDomain.get(parsed.host.toLowerCase()))
    expect(findCallerGroup(callers, fromUri, undefined)?.group).toBe(expected)
  })
})

const spans: SipSpans = { userStart: -1, userEnd: -1, hostStart: 0, hostEnd: 0 }

/** The user and host the scanner finds, in sip.parseUri's shape. */
function sipUserHost (uri: string): { user: string | undefined, host: string } | undefined {
  if (!scanSipUri(uri, spans)) return undefined
  return { user: spans.userStart < 0 ? undefined : uri.slice(spans.userStart, spans.userEnd), host: uri.slice(spans.hostStart, spans.hostEnd) }
}

describe('scanSipUri reads user and host as sip.parseUri does', () => {
  it.each([
    'sip:+442071838750@sbc.example.com:5060', 'sip:alice@example.com;transport=tcp?subject=x', 'sips:bob:pw@h', 'sip:h.example', 'sip:@h', 'sip:a b@h',
    'sip:alice@ipv6.invalid', 'SIP:alice@h', 'tel:+1', 'sip:%2B44@h', 'sip:a@h;lr;x=y', 'sip:a@h:notaport', ''
  ])('%s', (uri) => {
    const parsed = sip.parseUri(uri)
    expect(sipUserHost(uri)).toEqual(parsed === undefined ? undefined : { user: parsed.user, host: parsed.host })
  })
})

/** What SIP_URI itself captures: the former sipUserHost. */
function referenceUserHost (uri: string): { user: string | undefined, host: string } | undefined {
  const match = SIP_URI.exec(uri)
  return match === null ? undefined : { user: match[2], host: match[4] as string }
}

describe('scanSipUri accepts exactly what SIP_URI matches, with the same user and host', () => {
  it.each([
    'sip:h;p=a:b@', 'sip:a:b:c@h', 'sip:a@b@c', 'sip:a@h;x=y@z', 'sip:a@h?x=1&y=2', 'sip:a@h?x=1&', 'sip:a@h?x', 'sip:a@h;', 'sip:a@h;=v',
    'sip:a@h;x=', 'sip:a@h:', 'sip:a@h:5060x', 'sip:a>@h', 'sip:a@h\n', 'sip:a@h\u00a0', 'sips:+44@h;user=phone?Subject=x', 'sip:a:@h', 'sip::p@h',
    'sip:a@h;x=>', 'sip:a@h;x=a=b', 'sip:a@h;x?', 'sip:a@h?=1', 'sip:a@h?x==1'
  ])('%s', (uri) => {
    expect(sipUserHost(uri)).toEqual(referenceUserHost(uri))
  })

  it('agrees on every UTF-16 code unit in each part (the classes \\s, \\w and the stop characters)', () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c)
      for (const uri of [`sip:a${ch}@h`, `sip:${ch}@h`, `sip:a:${ch}@h`, `sip:a@h${ch}`, `sip:a@h;x${ch}`, `sip:a@h;x=${ch}`, `sip:a@h?x=${ch}`]) {
        const expected = referenceUserHost(uri)
        const actual = sipUserHost(uri)
        if (actual?.user !== expected?.user || actual?.host !== expected?.host) expect([uri, actual]).toEqual([uri, expected])
      }
    }
  })

  it('agrees on random strings over the characters the pattern cares about', () => {
    const alphabet = ['s', 'i', 'p', ':', '@', ';', '=', '?', '&', '>', '<', '.', '-', '_', 'a', 'Z', '4', '0', ' ', '\t', '\u2028', '\u00e9', '%', '+', '[', ']']
    let seed = 11
    const next = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n }
    for (let i = 0; i < 50_000; i++) {
      let uri = ['sip:', 'sips:', 'sip:a@', 'sip:+44@h', ''][next(5)] as string
      const length = next(14)
      for (let j = 0; j < length; j++) uri += alphabet[next(alphabet.length)] as string
      expect([uri, sipUserHost(uri)]).toEqual([uri, referenceUserHost(uri)])
    }
  })
})
