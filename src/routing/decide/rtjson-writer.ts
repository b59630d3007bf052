// Scratch: a WeakMap of each snapshot gateway's serialised parts, filled on first use.
/**
 * The routed rtjson answer written straight to JSON: the same bytes as fast-json-stringify with
 * RtjsonAnswerSchema, without an object per route. Its rules, kept here: required keys first, then
 * the optional ones present, each group in schema order; JSON.stringify's string escaping. A
 * gateway's constant parts (dst_uri, socket, headers.extra, id, timers) are serialised once per
 * snapshot; per call only the R-URI is (no From/To: see routedAnswer in rtjson.ts). test/routing/decide/rtjson-writer.test.ts
 * holds both envelopes to the serialiser's output of rtjson.ts's object form.
 */
import type { CompiledGateway } from '../snapshot/compiled.js'
import type { Route, RouteQuery } from './decision.js'
import type { Routed } from './rtjson.js'

const q = JSON.stringify

// What JSON.stringify escapes in a string (quote, backslash, controls, lone surrogates; paired
// ones are let through to it as well). Most per-call strings hold none of these, and quoting them
// directly is cheaper than JSON.stringify's general entry.
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/

/** JSON.stringify(text) for a string. */
const quote = (text: string): string => (ESCAPED.test(text) ? q(text) : `"${text}"`)

/** fast-json-stringify's integer: integers as they are, other numbers truncated; NaN and ±Infinity throw. */
function int (n: number): string {
  if (Number.isInteger(n)) return '' + n
  const truncated = Math.trunc(n)
  if (!Number.isFinite(truncated)) throw new Error(`The value "${n}" cannot be converted to an integer.`)
  return '' + truncated
}

/** One gateway's route, around what varies per call: `{"uri":…` + head + From/To + tail. */
interface GatewayJson {
  /**
   * `{"uri":"` and the R-URI's constant part before the number (scheme, gateway prefix), when
   * neither constant part needs escaping; undefined otherwise (the whole R-URI is quoted per call).
   */
  readonly uriHead: string | undefined
  /** The R-URI's constant part after the number (`@host…`), its closing quote, and head. */
  readonly uriTail: string
  readonly head: string
  readonly tail: string
  /** The tail of the first route: branch_flags goes on route 0 only. */
  readonly firstTail: string
}

// Keyed by the snapshot's gateway object: a reload brings new objects and the old entries go with the old snapshot.
const prepared = new WeakMap<CompiledGateway, GatewayJson>()

function prepare (gw: CompiledGateway): GatewayJson {
  const timers = (gw.frTimer === null ? '' : `,"fr_timer":${int(gw.frTimer)}`) +
    (gw.frInvTimer === null ? '' : `,"fr_inv_timer":${int(gw.frInvTimer)}`)
  const gateway = `},"gateway":${q(gw.id)}`
  const flags = gw.branchFlags
  const before = gw.uriScheme + gw.prefix
  const head = `,"dst_uri":${q(gw.dstUri)},"path":"","socket":${q(gw.socket)},"headers":{"extra":${q(`X-Rtroute-Gw: ${gw.id}\r\n`)}`
  const plain = !ESCAPED.test(before) && !ESCAPED.test(gw.uriSuffix)
  return {
    uriHead: plain ? `{"uri":"${before}` : undefined,
    uriTail: `${gw.uriSuffix}"${head}`,
    head,
    tail: `${gateway}${timers}}`,
    firstTail: `${gateway}${flags === undefined ? '' : `,"branch_flags":${int(flags)}`}${timers}}`
  }
}

/** The prepared parts of a route's gateway (a route's constant fields are its gateway's). */
function partsOf (route: Route): GatewayJson {
  let parts = prepared.get(route.gateway)
  if (parts === undefined) prepared.set(route.gateway, parts = prepare(route.gateway))
  return parts
}

/**
 * `{"uri":"…"` and head of one route. A route's R-URI is its gateway's scheme and prefix, the number
 * after the gateway's strip, and its suffix (decide-routes.ts, offer): written from the prepared
 * parts when the number needs no escaping either, so only the number is checked per call; any
 * other R-URI (one whose length says it was not built that way included) is quoted whole.
 */
function uriAndHead (route: Route, parts: GatewayJson, number: string, plainNumber: boolean): string {
  if (parts.uriHead !== undefined && plainNumber) {
    const strip = route.gateway.strip
    const rest = strip > 0 ? number.slice(strip) : number
    if (route.uri.length === route.gateway.uriScheme.length + route.gateway.prefix.length + rest.length + route.gateway.uriSuffix.length) return parts.uriHead + rest + parts.uriTail
  }
  return `{"uri":${quote(route.uri)}${parts.head}`
}

/** The rtjson object of a routed answer, after `opening` (which opens the envelope up to it). */
function writeRouted (opening: string, decision: Routed, partition: string): string {
  const routes = decision.routes
  const number = decision.number
  const plainNumber = !ESCAPED.test(number)
  let out = `${opening}"rtjson":{"success":true,"routing":"serial","routes":[`
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i] as Route
    const parts = partsOf(route)
    out += `${i === 0 ? '' : ','}${uriAndHead(route, parts, number, plainNumber)}${i === 0 ? parts.firstTail : parts.tail}`
  }
  return `${out}],"version":"1.0","partition":${quote(partition)},"rule_id":${int(decision.ruleId)},"prefix":${quote(decision.prefix)}}}`
}

/** `routedAnswer(decision, query, partition)` as JSON (see the file header). */
export function writeRoutedRtjson (decision: Routed, _query: RouteQuery, partition: string): string {
  return writeRouted('{', decision, partition)
}

/**
 * The Wazo envelope of the same answer: `{"success":true,"rtjson":{…}}`, the rtjson object as
 * writeRoutedRtjson writes it; written in one pass (a slice of the rtjson answer would be one
 * more copy of the whole string).
 */
export function writeRoutedWazo (decision: Routed, _query: RouteQuery, partition: string): string {
  return writeRouted('{"success":true,', decision, partition)
}
