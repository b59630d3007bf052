/**
 * The alphabet of a partition's prefixes, as drouting's prefix tree has it: the digits, the
 * partition's `extra_prefix_chars`, and (rtroute's own, kept from before) a leading `+`. Pure; the
 * table is built once per snapshot so the per-call check allocates nothing.
 */

/** Characters 0-127: 1 where a prefix or number may hold it. */
export type PrefixAlphabet = Uint8Array

export function prefixAlphabet (extraPrefixChars: string): PrefixAlphabet {
  const table = new Uint8Array(128)
  for (let c = 48; c <= 57; c++) table[c] = 1
  for (let i = 0; i < extraPrefixChars.length; i++) {
    const c = extraPrefixChars.charCodeAt(i)
    if (c < 128) table[c] = 1
  }
  return table
}

const PLUS = 43

/**
 * What a SIP URI user part carries unescaped (RFC 3261 unreserved and user-unreserved but `;`,
 * plus `#`, which dial strings use): the only characters extra_prefix_chars may add, and the only
 * ones a number outside the alphabet may hold, since the number goes back into the R-URI.
 */
export const USER_PART_MARKS = "-_.!~*'()&=+$,?/#"

/** Letters, digits and USER_PART_MARKS. */
export const USER_PART_CHARS: PrefixAlphabet = prefixAlphabet(`abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ${USER_PART_MARKS}`)

/** The index of the first character outside the alphabet (a `+` is allowed first), or -1 when there is none. */
export function outsideAlphabet (text: string, alphabet: PrefixAlphabet): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 128 && alphabet[c] === 1) continue
    if (i === 0 && c === PLUS) continue
    return i
  }
  return -1
}

/** Why a rule prefix cannot be matched in a partition with these extra characters, or undefined when it can. */
export function prefixProblem (prefix: string, extraPrefixChars: string): string | undefined {
  const at = outsideAlphabet(prefix, prefixAlphabet(extraPrefixChars))
  if (at < 0) return undefined
  const allowed = extraPrefixChars === '' ? 'digits after an optional +' : `digits (after an optional +) and the partition's extra_prefix_chars ${JSON.stringify(extraPrefixChars)}`
  return `prefix ${JSON.stringify(prefix)} holds ${JSON.stringify(prefix[at])} at position ${at + 1}: a prefix holds only ${allowed}`
}
