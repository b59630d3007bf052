/**
 * JSON bodies must be UTF-8 (RFC 8259 §8.1). Fastify's own parser decodes invalid bytes to U+FFFD
 * and carries on, so a Latin-1 import would be stored with its accents silently replaced; this one
 * answers 400 instead, then parses exactly as Fastify does (prototype poisoning refused).
 */
import { isUtf8 } from 'node:buffer'
import type { FastifyInstance } from 'fastify'
import { AppError } from './errors.js'

export const NOT_UTF8 = 'body is not valid UTF-8 (JSON text must be UTF-8)'

/** `__proto__` (any spelling JSON allows) or `constructor` near a colon: only then is the parsed value walked. */
const SUSPECT = /(?:_|\\u005[Ff]){2}(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff]){2}"|constructor/

/**
 * Where a parsed value holds a key that would poison prototypes once merged somewhere: an own
 * `__proto__`, or a `constructor` object with a `prototype` (what secure-json-parse refuses).
 */
export function forbiddenKey (value: unknown): { readonly key: string, readonly at: string } | undefined {
  let next: Array<[unknown, string]> = [[value, 'body']]
  while (next.length > 0) {
    const nodes = next
    next = []
    for (const [node, at] of nodes) {
      if (node === null || typeof node !== 'object') continue
      if (Object.prototype.hasOwnProperty.call(node, '__proto__')) return { key: '__proto__', at }
      const ctor = (node as Record<string, unknown>).constructor
      if (Object.prototype.hasOwnProperty.call(node, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) {
        return { key: 'constructor.prototype', at }
      }
      for (const [key, child] of Object.entries(node)) next.push([child, Array.isArray(node) ? `${at}[${key}]` : `${at}.${key}`])
    }
  }
  return undefined
}

function forbidden (found: { key: string, at: string }): AppError {
  return new AppError(400, 'forbidden_key', `key ${found.key} is not allowed (in ${found.at}): JSON keys that could change object prototypes are refused`)
}

/**
 * Whether `text`, `bytes` decoded, is what the bytes say: they are UTF-8. A text of one unit per
 * byte and no U+FFFD can only come from ASCII (a longer sequence gives fewer units, a bad byte
 * U+FFFD), which is what a routing query is: then the scan is skipped, else isUtf8 decides.
 */
export const decodedWhole = (bytes: Buffer, text: string): boolean =>
  (text.length === bytes.length && !text.includes('\uFFFD')) || isUtf8(bytes)

/** JSON.parse of a body that must be UTF-8; a 400 AppError (invalid_json, forbidden_key) otherwise. */
export function parseUtf8Json (body: Buffer): unknown {
  const text = body.toString('utf8')
  if (!decodedWhole(body, text)) throw new AppError(400, 'invalid_json', NOT_UTF8)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new AppError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`)
  }
  const found = SUSPECT.test(text) ? forbiddenKey(value) : undefined
  if (found !== undefined) throw forbidden(found)
  return value
}

export function registerStrictJsonParser (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    const text = bytes.toString('utf8')
    if (!decodedWhole(bytes, text)) {
      done(new AppError(400, 'invalid_json', NOT_UTF8), undefined)
      return
    }
    parse(request, text, (err, value) => {
      if (err === null) {
        done(null, value)
        return
      }
      // Fastify says "not valid JSON" for a refused prototype key too: tell the two apart, on the error path only.
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        done(err, undefined)
        return
      }
      const found = forbiddenKey(parsed)
      done(found === undefined ? err : forbidden(found), undefined)
    })
  })
}
