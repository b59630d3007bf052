/** Prototype keys in a JSON body: a 400 that names the key, on the admin API and on the proxy paths, and nothing parsed on. */
import { describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { decodedWhole, forbiddenKey, parseUtf8Json } from '../src/json-body.js'
import { fakeDeps } from './helpers/fake-deps.js'

describe('a JSON body with __proto__', () => {
  it('is refused with a 400 that says which key is not allowed, not "not valid JSON"', async () => {
    const deps = fakeDeps()
    const app = await buildApp(deps, { docs: false })
    try {
      app.post('/v1/echo-test', async (request) => request.body)
      for (const payload of ['{"gateways":[{"id":"a","__proto__":{"admin":true}}]}', '{"\\u005f_proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}']) {
        const res = await app.inject({ method: 'POST', url: '/v1/echo-test', payload, headers: { 'content-type': 'application/json' } })
        expect(res.statusCode, payload).toBe(400)
        expect(res.json<{ error: string }>().error).toBe('forbidden_key')
        expect(res.json<{ message: string }>().message).not.toMatch(/not valid JSON/)
      }
      const nested = await app.inject({ method: 'POST', url: '/v1/echo-test', payload: '{"gateways":[{"id":"a","__proto__":{}}]}', headers: { 'content-type': 'application/json' } })
      expect(nested.json()).toEqual({ error: 'forbidden_key', message: 'key __proto__ is not allowed (in body.gateways[0]): JSON keys that could change object prototypes are refused' })
      // Broken JSON is still broken JSON.
      const broken = await app.inject({ method: 'POST', url: '/v1/echo-test', payload: '{"a":', headers: { 'content-type': 'application/json' } })
      expect(broken.json<{ error: string }>().error).toBe('invalid_json')
      // A harmless key that merely mentions the words passes.
      const fine = await app.inject({ method: 'POST', url: '/v1/echo-test', payload: '{"description":"the constructor of __proto__","constructor":"x"}', headers: { 'content-type': 'application/json' } })
      expect(fine.statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('is refused on the proxy paths\' lenient parser (any content type) too', () => {
    expect(() => parseUtf8Json(Buffer.from('{"call_id":"c","__proto__":{"x":1}}'))).toThrow(/key __proto__ is not allowed \(in body\)/)
    expect(parseUtf8Json(Buffer.from('{"call_id":"__proto__"}'))).toEqual({ call_id: '__proto__' })
    expect(forbiddenKey(JSON.parse('[[{"a":{"__proto__":1}}]]'))).toEqual({ key: '__proto__', at: 'body[0][0].a' })
  })
})

describe('decodedWhole', () => {
  const check = (bytes: Buffer): boolean => decodedWhole(bytes, bytes.toString('utf8'))

  it('takes ASCII without the scan, and valid multi-byte UTF-8 (an encoded U+FFFD too) with it', () => {
    expect(check(Buffer.from('{"call_id":"abc"}'))).toBe(true)
    expect(check(Buffer.from('{"from_name":"Zoë 😀"}'))).toBe(true)
    expect(check(Buffer.from('{"x":"\uFFFD"}'))).toBe(true)
    expect(check(Buffer.alloc(0))).toBe(true)
  })

  it('refuses a bad byte, even one that decodes to as many units as it has bytes', () => {
    expect(check(Buffer.from([0x41, 0xff]))).toBe(false) // "A\uFFFD": two units for two bytes
    expect(check(Buffer.from([0x7b, 0xe9, 0x7d]))).toBe(false) // Latin-1 é
    expect(check(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false) // a UTF-16 surrogate, encoded
  })
})
