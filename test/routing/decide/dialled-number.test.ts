import { describe, expect, it } from 'vitest'
import { dialledNumber } from '../../../src/routing/decide/dialled-number.js'
import { prefixAlphabet } from '../../../src/routing/prefix-chars.js'

const DIGITS = prefixAlphabet('')

describe('dialledNumber', () => {
  it.each([
    ['sip:442071838750@sbc.example.com', '442071838750'],
    ['sip:+442071838750@sbc.example.com', '+442071838750'],
    ['sips:+442071838750@sbc.example.com:5061;transport=tls', '+442071838750'],
    ['sip:+44-20-7183-8750@sbc.example.com;user=phone', '+442071838750'],
    ['sip:+44(20)7183.8750@sbc.example.com', '+442071838750'],
    ['sip:+44 20 7183 8750@sbc.example.com', '+442071838750'],
    ['sip:%2B442071838750@sbc.example.com', '+442071838750'],
    ['sip:+442071838750;phone-context=example.com@sbc.example.com', '+442071838750'],
    ['sip:0044201234@[2001:db8::1]:5060', '0044201234'],
    ['tel:+44-20-7183-8750', '+442071838750'],
    ['tel:+442071838750;phone-context=+44', '+442071838750'],
    ['TEL:020 7183 8750', '02071838750'],
    ['+44 20 7183 8750', '+442071838750'],
    ['  0044201234  ', '0044201234'],
    ['sip:+4420:secret@sbc', '+4420'],
    ['sip:4420@sbc;maddr=a@b', '4420'],
    ['sip:44 20@[2001:db8::1];transport=tcp', '4420'],
    ['sip:4420;isub=1@sbc', '4420'],
    ['sip:4420@sbc\n', '4420']
  ])('%s → %s', (uri, number) => {
    expect(dialledNumber(uri, undefined, DIGITS)).toEqual({ ok: true, number, field: 'request_uri', matchable: true })
  })

  it.each([
    ['sip:sbc.example.com', /request_uri has no number to route/],
    ['tel:', /no number/],
    ['not a uri', /is neither a sip:, sips: or tel: URI nor a number/],
    ['alice', /is neither/],
    ['sip:%zz@sbc', /no number/],
    ['sip:@@@', /no number/],
    [`sip:${'1'.repeat(65)}@sbc`, /longer than 64/],
    ['SIPS:4420@sbc', /no number/],
    ['sip:4420@@sbc', /no number/],
    ['sip:4420@sbc?subject', /no number/]
  ])('%s is not routable: the answer names request_uri', (uri, message) => {
    const result = dialledNumber(uri, undefined, DIGITS)
    expect(result.ok).toBe(false)
    expect(result).toMatchObject({ field: 'request_uri', message: expect.stringMatching(message) })
  })

  // drouting's prefix tree holds only digits and extra_prefix_chars: any other user part is routed
  // by the prefixless rules (matchable false), not refused.
  it.each([
    ['sip:alice@example.com', 'alice', '', false],
    ['sip:44a20@sbc', '44a20', '', false],
    ['sip:44+20@sbc', '44+20', '', false],
    ['sip:alice.smith@sbc', 'alice.smith', '', false],
    ['sip:*100#@sbc', '*100#', '', false],
    ['sip:*100#@sbc', '*100#', '*#', true],
    ['sip:%2A100%23@sbc', '*100#', '*#', true],
    ['sip:44-20@sbc', '4420', '', true],
    ['sip:44-20@sbc', '44-20', '-', true],
    ['sip:+@sbc', '+', '', true],
    ['sip:ab12@sbc', 'ab12', 'ab', true]
  ])('%s is routed as %s (extra_prefix_chars %j): matchable %s', (uri, number, extra, matchable) => {
    expect(dialledNumber(uri, undefined, prefixAlphabet(extra))).toEqual({ ok: true, number, field: 'request_uri', matchable })
  })

  it('uses to_uri only when request_uri is absent, and names it when it is bad', () => {
    expect(dialledNumber(undefined, 'sip:+3312345@peer', DIGITS)).toEqual({ ok: true, number: '+3312345', field: 'to_uri', matchable: true })
    expect(dialledNumber('', 'sip:+3312345@peer', DIGITS)).toEqual({ ok: true, number: '+3312345', field: 'to_uri', matchable: true })
    expect(dialledNumber(undefined, 'sip:peer', DIGITS)).toMatchObject({ ok: false, field: 'to_uri' })
    expect(dialledNumber('sip:4420@sbc', 'sip:bob@peer', DIGITS)).toEqual({ ok: true, number: '4420', field: 'request_uri', matchable: true })
  })

  it('does not fall back to to_uri when request_uri is present but numberless', () => {
    expect(dialledNumber('sip:sbc', 'sip:+3312345@peer', DIGITS)).toMatchObject({ ok: false, field: 'request_uri' })
    expect(dialledNumber('sip:alice@sbc', 'sip:+3312345@peer', DIGITS)).toMatchObject({ ok: true, number: 'alice', field: 'request_uri', matchable: false })
  })

  it('asks for a number when neither URI is given', () => {
    expect(dialledNumber(undefined, undefined, DIGITS)).toEqual({ ok: false, field: 'request_uri', message: 'request_uri or to_uri is required' })
  })
})
