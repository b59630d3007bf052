// Scratch: the dialled URI's spans, overwritten by each decision.
/**
 * Extracts the number to route from the query's request_uri (else to_uri): its user part. A user
 * part outside the partition's alphabet (digits, a leading +, extra_prefix_chars) is still routed,
 * as drouting does, but matches no prefix: `matchable` false sends it to the prefixless rules.
 */
import { outsideAlphabet, USER_PART_CHARS, USER_PART_MARKS, type PrefixAlphabet } from '../prefix-chars.js'
import { scanSipUri, type SipSpans } from './sip-uri.js'

export type NumberField = 'request_uri' | 'to_uri'

export type DialledNumber =
  | { readonly ok: true, readonly number: string, readonly field: NumberField, readonly matchable: boolean }
  | { readonly ok: false, readonly field: NumberField, readonly message: string }

/** Longer than any E.164 number with a national prefix; a cap keeps the prefix walk short. */
export const MAX_NUMBER_LENGTH = 64

// Visual separators of RFC 3966 and common habit; anything else is not a number.
const SEPARATORS = /[-.() ]/g
const SEPARATOR = /[-.() ]/
const SCHEME = /^\s*(sips?|tel):/i

const spans: SipSpans = { userStart: -1, userEnd: -1, hostStart: 0, hostEnd: 0 }

/**
 * The user part of a sip:/sips: URI. The sip package rejects spaces and IPv6 references, so
 * those are stood in for: the host does not matter here.
 */
function sipUser (uri: string): string | undefined {
  // Replaced only when present: most URIs have neither, and a replace is a regex run on every call.
  const spaced = uri.includes(' ') ? uri.replace(/ /g, '%20') : uri
  const safe = spaced.includes('@[') ? spaced.replace(/@\[[^\]]*\]/, '@ipv6.invalid') : spaced
  return scanSipUri(safe, spans) && spans.userStart >= 0 ? safe.slice(spans.userStart, spans.userEnd) : undefined
}

/** The user (or tel) part before its parameters, percent-decoded; undefined when there is none. */
function userPart (text: string): string | undefined {
  let user: string | undefined
  if (/^sips?:/i.test(text)) user = sipUser(text)
  else if (/^tel:/i.test(text)) user = text.slice(4)
  else user = text
  if (user === undefined) return undefined
  // `;phone-context=…`, `;isub=…` and other parameters are not part of the number.
  const semi = user.indexOf(';')
  if (semi >= 0) user = user.slice(0, semi)
  if (!user.includes('%')) return user
  try {
    return decodeURIComponent(user)
  } catch {
    return undefined
  }
}

function numberFrom (text: string, field: NumberField, alphabet: PrefixAlphabet): DialledNumber {
  const user = userPart(text.trim())
  if (user === undefined || user === '') return { ok: false, field, message: `${field} has no number to route` }
  // The visual separators go only from what is a number once they are gone (`+44 20-7946`): a
  // user part such as `alice.smith` stays as it is, and a separator the partition lists is kept.
  const stripped = SEPARATOR.test(user) ? user.replace(SEPARATORS, '') : user
  const number = stripped !== '' && stripped !== user && outsideAlphabet(stripped, alphabet) < 0 && outsideAlphabet(user, alphabet) >= 0 ? stripped : user
  if (number.length > MAX_NUMBER_LENGTH) return { ok: false, field, message: `${field} number is longer than ${MAX_NUMBER_LENGTH} characters` }
  const matchable = outsideAlphabet(number, alphabet) < 0
  // Without a sip:, sips: or tel: scheme the text must be the number itself: anything else is no URI.
  if (!matchable && !SCHEME.test(text)) return { ok: false, field, message: `${field} "${text.trim()}" is neither a sip:, sips: or tel: URI nor a number` }
  // The number goes back into the R-URI: what a user part cannot carry unescaped is refused, not echoed.
  if (!matchable && outsideAlphabet(number, USER_PART_CHARS) >= 0) return { ok: false, field, message: `${field} user part holds a character a route cannot carry (letters, digits and ${USER_PART_MARKS} only)` }
  return { ok: true, number, field, matchable }
}

/**
 * `request_uri` when present (even when it carries no number: the proxy routes the R-URI, so a
 * numberless R-URI is the caller's error, not a reason to look elsewhere), else `to_uri`.
 */
export function dialledNumber (requestUri: string | undefined, toUri: string | undefined, alphabet: PrefixAlphabet): DialledNumber {
  if (requestUri !== undefined && requestUri !== '') return numberFrom(requestUri, 'request_uri', alphabet)
  if (toUri !== undefined && toUri !== '') return numberFrom(toUri, 'to_uri', alphabet)
  return { ok: false, field: 'request_uri', message: 'request_uri or to_uri is required' }
}
