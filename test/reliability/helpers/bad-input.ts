/**
 * fast-check arbitraries of bad request bodies built around a valid example: random JSON and text,
 * wrong-typed, missing and extra fields, truncated, oversized, deeply nested, non-UTF-8 bytes,
 * odd strings (SIP URIs with control characters, quotes, NULs, lone surrogates) and wrong
 * content types. Each input says its kind, so a run can tell how many of each it tried.
 */
import fc from 'fast-check'

export interface BadInput {
  readonly kind: string
  readonly payload: string | Buffer
  readonly contentType: string | undefined
}

type Body = Record<string, unknown>

const json = (kind: string, value: unknown, contentType: string | undefined = 'application/json'): BadInput =>
  ({ kind, payload: JSON.stringify(value), contentType })

/** Strings a SIP URI, a name or an id should never be: control characters, quoting, NUL, huge, non-BMP, lone surrogates. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', ' ', 'sip:', 'sip:@', 'sip:+44@', 'sip:44@[::1', 'sip:44@host:99999', 'sip:44@host;transport=carrier-pigeon',
    'sip:44\r\nVia: evil@x', 'sip:4420\u0000@x', '<sip:44@x>', '"Alice" <sip:alice@x>', 'sip:%00%0d%0a@x', 'sips:;;;@@@',
    'tel:+44', 'sip:' + '9'.repeat(5000) + '@x', '\ud800', '\udfff\ud800', '\u202e\u0000', '💥'.repeat(300), "'; DROP TABLE gateway; --",
    // eslint-disable-next-line no-template-curly-in-string -- a log4j-style probe, as a plain string
    '../../etc/passwd', '${jndi:ldap://x}', '__proto__', 'constructor', '\\u0000', '\t\v\f'
  ),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => `sip:${s}@${s}:${s.length}`)
)

/** Nested arrays or objects `depth` deep, as JSON text (building the value would overflow the stack first). */
export function deepJson (depth: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth)
}

function withField (valid: Body, key: string, rawJson: string): string {
  const marker = '\u0001__raw__'
  return JSON.stringify({ ...valid, [key]: marker }).replace(JSON.stringify(marker), rawJson)
}

/** Invalid UTF-8: lone continuation bytes, overlong forms, surrogates encoded as UTF-8, truncated sequences. */
const invalidUtf8: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom([0x80], [0xff], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xfe, 0xff]).map((b) => Buffer.from(b)),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => Buffer.concat([Buffer.from([0xc3]), Buffer.from(b.map((x) => x & 0x3f))]))
)

export interface BadInputOptions {
  /** The app's body limit: oversized inputs go past it. */
  readonly bodyLimit: number
  /** Keys whose values are strings (odd strings and invalid bytes go there). */
  readonly stringFields: readonly string[]
}

export function badInputs (valid: Body, options: BadInputOptions): fc.Arbitrary<BadInput> {
  const keys = Object.keys(valid)
  const key = fc.constantFrom(...(keys.length > 0 ? keys : ['x']))
  const stringKey = fc.constantFrom(...(options.stringFields.length > 0 ? options.stringFields : keys))
  const text = JSON.stringify(valid)
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((value) => json('random JSON', value)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((payload) => ({ kind: 'random text', payload, contentType: 'application/json' })),
    fc.tuple(key, fc.jsonValue({ maxDepth: 2 })).map(([k, value]) => json('wrong-typed field', { ...valid, [k]: value })),
    key.map((k) => {
      const copy: Body = { ...valid }
      delete copy[k]
      return json('missing field', copy)
    }),
    fc.tuple(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })).map(([k, value]) => json('extra field', { ...valid, [k]: value })),
    fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((at) => ({ kind: 'truncated', payload: text.slice(0, at), contentType: 'application/json' })),
    fc.tuple(stringKey, fc.integer({ min: 1, max: options.bodyLimit })).map(([k, extra]) => json('oversized', { ...valid, [k]: 'x'.repeat(options.bodyLimit + extra) })),
    fc.tuple(key, fc.integer({ min: 32, max: Math.floor(options.bodyLimit / 6) }), fc.boolean()).map(([k, depth, objects]) =>
      ({ kind: 'deeply nested', payload: withField(valid, k, deepJson(depth, objects)), contentType: 'application/json' })),
    fc.tuple(fc.integer({ min: 32, max: Math.floor(options.bodyLimit / 2) - 8 })).map(([depth]) =>
      ({ kind: 'deeply nested', payload: deepJson(depth, false), contentType: 'application/json' })),
    fc.tuple(stringKey, invalidUtf8, fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain')).map(([k, bytes, contentType]) => {
      const [before = '', after = ''] = withField(valid, k, '"\u0002"').split('\u0002')
      return { kind: 'non-UTF-8 bytes', payload: Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]), contentType }
    }),
    fc.tuple(stringKey, oddString).map(([k, value]) => json('odd string', { ...valid, [k]: value })),
    fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', undefined)
      .map((contentType) => json('other content type', valid, contentType))
  )
}

/**
 * Kinds no endpoint may accept, whatever the schema: broken or oversized JSON, invalid UTF-8,
 * nesting deeper than any field allows. (`random text` that happens to be JSON is skipped.)
 */
export function mustBeRefused (input: BadInput): boolean {
  if (input.kind === 'random text') {
    try {
      JSON.parse(input.payload.toString())
      return false
    } catch {
      return true
    }
  }
  return ['truncated', 'oversized', 'non-UTF-8 bytes', 'deeply nested'].includes(input.kind)
}

/** Counts per kind, printed by the tests: `412 inputs: 40 truncated, 38 odd string, …`. */
export class KindCounter {
  readonly counts = new Map<string, number>()
  add (kind: string): void { this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1) }
  get total (): number { return [...this.counts.values()].reduce((a, b) => a + b, 0) }
  toString (): string {
    return `${this.total} inputs (${[...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join(', ')})`
  }
}
