/**
 * The SIP URI grammar of the `sip` package's parseUri, for the per-call paths that read only the
 * user and host: parseUri also builds params and headers objects, and even its bare pattern's
 * match array and captures were a large share of a routing answer's garbage. The scanner below
 * accepts exactly what SIP_URI matches and finds its user (group 2) and host (group 4).
 */
// eslint-disable-next-line no-useless-escape -- the sip package's pattern, kept as it is written there
export const SIP_URI = /^(sips?):(?:([^\s>:@]+)(?::([^\s@>]+))?@)?([\w\-\.]+)(?::(\d+))?((?:;[^\s=\?>;]+(?:=[^\s?\;]+)?)*)(?:\?(([^\s&=>]+=[^\s&=>]+)(&[^\s&=>]+=[^\s&=>]+)*))?$/

/** Where a scanned URI's user and host are: [start, end) offsets; userStart is -1 without a user. */
export interface SipSpans {
  userStart: number
  userEnd: number
  hostStart: number
  hostEnd: number
}

const COLON = 58
const SEMICOLON = 59
const EQUALS = 61
const QUESTION = 63
const AMPERSAND = 38
const AT = 64

/** A set of stop characters in 33..64 (`!`…`@`, where all of the pattern's are) as a bit mask. */
const stops = (chars: string): number => {
  let mask = 0
  for (let i = 0; i < chars.length; i++) mask |= 1 << (chars.charCodeAt(i) - 33)
  return mask
}
const USER = stops('>:@')
const PASSWORD = stops('@>')
const PARAM_NAME = stops('=?>;')
const PARAM_VALUE = stops('?;')
const HEADER = stops('&=>')

/** The regex `\s`: ECMAScript white space and line terminators. */
function isSpace (c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13)
  if (c < 160) return false
  return c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/** `[\w\-\.]` */
function isHostChar (c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46
}

/** The end of the run from `from` of characters that are neither white space nor in `mask`. */
function runEnd (uri: string, from: number, mask: number): number {
  let i = from
  for (; i < uri.length; i++) {
    const c = uri.charCodeAt(i)
    if ((c >= 33 && c <= 64 && ((mask >>> (c - 33)) & 1) === 1) || isSpace(c)) break
  }
  return i
}

/** `(?:;[^\s=\?>;]+(?:=[^\s?\;]+)?)*` from `from`: where it ends, or -1 when a `;` starts no parameter. */
function paramsEnd (uri: string, from: number): number {
  let i = from
  while (uri.charCodeAt(i) === SEMICOLON) {
    const name = runEnd(uri, i + 1, PARAM_NAME)
    if (name === i + 1) return -1
    i = name
    if (uri.charCodeAt(i) === EQUALS) {
      const value = runEnd(uri, i + 1, PARAM_VALUE)
      if (value === i + 1) return -1
      i = value
    }
  }
  return i
}

/** `(?:\?(([^\s&=>]+=[^\s&=>]+)(&[^\s&=>]+=[^\s&=>]+)*))?$` from `from`. */
function headersEndTheUri (uri: string, from: number): boolean {
  if (from === uri.length) return true
  if (uri.charCodeAt(from) !== QUESTION) return false
  let i = from + 1
  for (;;) {
    const name = runEnd(uri, i, HEADER)
    if (name === i || uri.charCodeAt(name) !== EQUALS) return false
    const value = runEnd(uri, name + 1, HEADER)
    if (value === name + 1) return false
    if (value === uri.length) return true
    if (uri.charCodeAt(value) !== AMPERSAND) return false
    i = value + 1
  }
}

/** Host, port, params and headers from `from` to the end: the host's end, or -1 when they do not match. */
function hostEnd (uri: string, from: number): number {
  let i = from
  while (i < uri.length && isHostChar(uri.charCodeAt(i))) i++
  if (i === from) return -1
  const end = i
  if (uri.charCodeAt(i) === COLON) {
    const port = ++i
    while (i < uri.length && uri.charCodeAt(i) >= 48 && uri.charCodeAt(i) <= 57) i++
    if (i === port) return -1
  }
  i = paramsEnd(uri, i)
  return i >= 0 && headersEndTheUri(uri, i) ? end : -1
}

/**
 * Whether SIP_URI matches `uri`; if so, `spans` holds its user and host. Each part of the pattern
 * can match in one way only (every run is followed by a character it excludes), so the only
 * choice is the one the regex backtracks over: with a `user[:password]@`, else without.
 */
export function scanSipUri (uri: string, spans: SipSpans): boolean {
  let start: number
  if (uri.startsWith('sip:')) start = 4
  else if (uri.startsWith('sips:')) start = 5
  else return false
  const userEnd = runEnd(uri, start, USER)
  if (userEnd > start) {
    let at = -1
    if (uri.charCodeAt(userEnd) === AT) {
      at = userEnd
    } else if (uri.charCodeAt(userEnd) === COLON) {
      const password = runEnd(uri, userEnd + 1, PASSWORD)
      if (password > userEnd + 1 && uri.charCodeAt(password) === AT) at = password
    }
    const end = at < 0 ? -1 : hostEnd(uri, at + 1)
    if (end >= 0) {
      spans.userStart = start
      spans.userEnd = userEnd
      spans.hostStart = at + 1
      spans.hostEnd = end
      return true
    }
  }
  const end = hostEnd(uri, start)
  if (end < 0) return false
  spans.userStart = -1
  spans.userEnd = -1
  spans.hostStart = start
  spans.hostEnd = end
  return true
}
