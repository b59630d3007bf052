/**
 * Rules of the routing data that JSON Schema cannot say, as pure functions returning every
 * problem with the field it concerns: a gateway address must parse as a SIP URI or host[:port],
 * a timezone must exist, a window must end after it starts, a CIDR must be a network. Also fills
 * defaults, so the CRUD API, imports and the snapshot loader agree on one normal form.
 */
import net from 'node:net'
import sip from 'sip'
import { parseCidr } from '../net.js'
import { prefixProblem } from './prefix-chars.js'
import { checkTimerec } from './timerec/parse-timerec.js'
import type {
  CallerGroupData, CallerGroupInput, CarrierData, CarrierInput, GatewayData, GatewayInput, RuleData, RuleInput, TimeWindowData
} from './routing-data.schema.js'

export interface Problem {
  /** Field path, e.g. `gateways[2].address` or `time_window.weekly[0]`. */
  readonly path: string
  readonly message: string
}

const at = (base: string, field: string): string => (base === '' ? field : `${base}.${field}`)

export type Transport = 'udp' | 'tcp' | 'tls' | 'sctp' | 'ws' | 'wss'
const TRANSPORTS: readonly string[] = ['udp', 'tcp', 'tls', 'sctp', 'ws', 'wss']

/** A gateway address, parsed: what dst_uri and the R-URI are built from. */
export interface GatewayAddress {
  readonly scheme: 'sip' | 'sips'
  readonly host: string
  readonly port: number | undefined
  readonly transport: Transport | undefined
  /** `sip:host[:port][;transport=…]`: the next hop (rtjson dst_uri). */
  readonly uri: string
}

/** Parses `sip:host[:port][;params]`, `sips:…` or a bare `host[:port]` with the `sip` package (IPv6 in brackets too). */
export function parseGatewayAddress (address: string): GatewayAddress | string {
  const text = address.trim()
  // The sip package accepts a lower-case scheme only.
  const withScheme = /^sips?:/i.test(text) ? text.replace(/^sips?:/i, (scheme) => scheme.toLowerCase()) : `sip:${text}`
  // The sip package does not parse IPv6 references: stand a placeholder in, check the literal here.
  const v6 = /^(sips?:)(?:[^@]*@)?\[([^\]]+)\]/i.exec(withScheme)
  if (v6 !== null && !net.isIPv6(v6[2] ?? '')) return `"${address}" has an invalid IPv6 address`
  const parsed = sip.parseUri(v6 === null ? withScheme : withScheme.replace(`[${v6[2] ?? ''}]`, 'ipv6.invalid'))
  if (parsed === undefined) return `"${address}" is not a SIP URI or host[:port]`
  if (parsed.user !== undefined && parsed.user !== '') return `"${address}" carries a user part; the dialled number goes there`
  // The sip package gives NaN, not null, for a URI without a port.
  const port = typeof parsed.port === 'number' && Number.isFinite(parsed.port) ? parsed.port : undefined
  if (port !== undefined && (port < 1 || port > 65535)) return `"${address}" has port ${port}, expected 1 to 65535`
  const transport = parsed.params.transport?.toLowerCase()
  if (transport !== undefined && !TRANSPORTS.includes(transport)) return `"${address}" has unknown transport ${transport}`
  const host = v6 === null ? parsed.host.toLowerCase() : `[${(v6[2] ?? '').toLowerCase()}]`
  const scheme = parsed.schema.toLowerCase() === 'sips' ? 'sips' : 'sip'
  const uri = `${scheme}:${host}${port === undefined ? '' : `:${port}`}${transport === undefined ? '' : `;transport=${transport}`}`
  return { scheme, host, port, transport: transport as Transport | undefined, uri }
}

const zoneCache = new Map<string, boolean>()
export function isTimeZone (zone: string): boolean {
  let known = zoneCache.get(zone)
  if (known === undefined) {
    try {
      // eslint-disable-next-line no-new
      new Intl.DateTimeFormat('en-US', { timeZone: zone })
      known = true
    } catch {
      known = false
    }
    if (zoneCache.size < 1024) zoneCache.set(zone, known)
  }
  return known
}

function isRealDate (text: string): boolean {
  const [y, m, d] = text.split('-').map(Number)
  const date = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1))
  return date.getUTCFullYear() === y && date.getUTCMonth() === (m ?? 0) - 1 && date.getUTCDate() === d
}

export function checkTimeWindow (window: TimeWindowData, path: string): Problem[] {
  const problems: Problem[] = []
  if (!isTimeZone(window.timezone)) problems.push({ path: at(path, 'timezone'), message: `unknown timezone "${window.timezone}" (expected an IANA name such as Europe/London)` })
  window.weekly?.forEach((entry, i) => {
    if (entry.end <= entry.start) {
      problems.push({ path: `${at(path, 'weekly')}[${i}]`, message: `ends (${entry.end}) before it starts (${entry.start}); split a window that crosses midnight in two` })
    }
    if (new Set(entry.days).size !== entry.days.length) problems.push({ path: `${at(path, 'weekly')}[${i}].days`, message: 'lists a day twice' })
  })
  for (const field of ['from', 'until'] as const) {
    const value = window[field]
    if (value !== undefined && !isRealDate(value)) problems.push({ path: at(path, field), message: `"${value}" is not a calendar date` })
  }
  if (window.from !== undefined && window.until !== undefined && window.until < window.from) {
    problems.push({ path: at(path, 'until'), message: `ends (${window.until}) before it starts (${window.from})` })
  }
  return problems
}

/**
 * Opaque JSON (`attrs`) is stored as jsonb and handed back in answers: bounded, so that a document
 * cannot nest deeper than a serialiser's stack (JSON.stringify gives up near 10,000 levels, and a
 * failed write was a 500) or grow past what a route needs.
 */
export const OPAQUE_MAX_DEPTH = 16
export const OPAQUE_MAX_BYTES = 16_384

/** Iterative, so that the check itself never overflows the stack. */
function nestsDeeperThan (value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next
    if (item === null || typeof item !== 'object') continue
    if (depth >= limit) return true
    for (const child of Object.values(item)) stack.push([child, depth + 1])
  }
  return false
}

export function checkOpaque (value: Record<string, unknown> | undefined, path: string): Problem[] {
  if (value === undefined) return []
  if (nestsDeeperThan(value, OPAQUE_MAX_DEPTH)) return [{ path, message: `nests deeper than ${OPAQUE_MAX_DEPTH} levels` }]
  const bytes = Buffer.byteLength(JSON.stringify(value))
  return bytes > OPAQUE_MAX_BYTES ? [{ path, message: `is ${bytes} bytes of JSON, more than ${OPAQUE_MAX_BYTES}` }] : []
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,128}$/

/** Fills defaults and normalises `value` (lower-case domains, canonical CIDR). */
export function normaliseCallerGroup (input: CallerGroupInput, path = ''): { data: CallerGroupData, problems: Problem[] } {
  const value = input.value.trim()
  const data: CallerGroupData = { kind: input.kind, value, group: input.group, description: input.description ?? '' }
  const bad = (message: string): { data: CallerGroupData, problems: Problem[] } => ({ data, problems: [{ path: at(path, 'value'), message }] })
  switch (input.kind) {
    case 'cidr': {
      const cidr = parseCidr(value)
      if (cidr === undefined) return bad(`"${input.value}" is not an IPv4 or IPv6 network (a.b.c.d/len)`)
      return { data: { ...data, value: `${cidr.address}/${cidr.bits}` }, problems: [] }
    }
    case 'from_uri': {
      const [user = '', domain = '', ...rest] = value.replace(/^sips?:/i, '').split('@')
      if (rest.length > 0 || !USER.test(user) || !DOMAIN.test(domain.toLowerCase())) return bad(`"${input.value}" is not user@domain`)
      return { data: { ...data, value: `${user}@${domain.toLowerCase()}` }, problems: [] }
    }
    case 'from_domain':
      if (!DOMAIN.test(value.toLowerCase())) return bad(`"${input.value}" is not a domain name`)
      return { data: { ...data, value: value.toLowerCase() }, problems: [] }
  }
}

export function normaliseGateway (input: GatewayInput, path = ''): { data: GatewayData, problems: Problem[] } {
  const problems: Problem[] = []
  const parsed = parseGatewayAddress(input.address)
  if (typeof parsed === 'string') problems.push({ path: at(path, 'address'), message: parsed })
  if (input.socket !== undefined && input.socket !== '' && !/^(udp|tcp|tls|sctp|ws|wss):[^:\s]+(:\d{1,5})?$|^(udp|tcp|tls|sctp|ws|wss):\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(input.socket)) {
    problems.push({ path: at(path, 'socket'), message: `"${input.socket}" is not proto:ip:port (e.g. udp:10.0.0.10:5060)` })
  }
  problems.push(...checkOpaque(input.attrs, at(path, 'attrs')))
  const data: GatewayData = {
    id: input.id,
    address: input.address.trim(),
    strip: input.strip ?? 0,
    prefix: input.prefix ?? '',
    socket: input.socket ?? '',
    attrs: input.attrs ?? {},
    probe_mode: input.probe_mode ?? 'never',
    weight: input.weight ?? 1,
    fr_timer: input.fr_timer ?? null,
    fr_inv_timer: input.fr_inv_timer ?? null,
    max_calls: input.max_calls ?? null,
    max_cps: input.max_cps ?? null,
    enabled: input.enabled ?? true,
    description: input.description ?? ''
  }
  return { data, problems }
}

/** `gateways` is the set of gateway ids the carrier may name (its partition's). */
export function normaliseCarrier (input: CarrierInput, gateways: ReadonlySet<string>, path = ''): { data: CarrierData, problems: Problem[] } {
  const problems: Problem[] = [...checkOpaque(input.attrs, at(path, 'attrs'))]
  const seen = new Set<string>()
  const members = input.gateways ?? []
  members.forEach((member, i) => {
    const where = `${at(path, 'gateways')}[${i}].gateway`
    if (!gateways.has(member.gateway)) problems.push({ path: where, message: `unknown gateway "${member.gateway}"` })
    if (seen.has(member.gateway)) problems.push({ path: where, message: `gateway "${member.gateway}" is listed twice` })
    seen.add(member.gateway)
  })
  const data: CarrierData = {
    id: input.id,
    sort: input.sort ?? 'ordered',
    first_only: input.first_only ?? false,
    max_calls: input.max_calls ?? null,
    max_cps: input.max_cps ?? null,
    enabled: input.enabled ?? true,
    attrs: input.attrs ?? {},
    description: input.description ?? '',
    gateways: members.map((member) => ({ gateway: member.gateway, weight: member.weight ?? 1 }))
  }
  return { data, problems }
}

export interface RuleRefs {
  readonly gateways: ReadonlySet<string>
  readonly carriers: ReadonlySet<string>
}

/**
 * Fills defaults; `id` stays undefined until the database gives one. `groups` has no default: a
 * rule without groups is refused (drouting discards one too, "no id in grp list"), rather than
 * tied to the partition's default group of the day behind the writer's back. The prefix may hold
 * only the partition's alphabet (prefix-chars.ts).
 */
export function normaliseRule (input: RuleInput, refs: RuleRefs, extraPrefixChars: string, path = ''): { data: Omit<RuleData, 'id'> & { id: number | undefined }, problems: Problem[] } {
  const problems: Problem[] = [...checkOpaque(input.attrs, at(path, 'attrs'))]
  const named = input.id === undefined ? '' : ` (rule ${input.id})`
  if (input.groups === undefined) {
    problems.push({ path: at(path, 'groups'), message: `required${named}: name the caller groups the rule serves, e.g. ["default"] (a rule without groups is never tied to the default group behind your back)` })
  }
  const prefixIssue = prefixProblem(input.prefix ?? '', extraPrefixChars)
  if (prefixIssue !== undefined) problems.push({ path: at(path, 'prefix'), message: `${prefixIssue}${named}` })
  if (input.time_window !== undefined && input.time_window !== null) problems.push(...checkTimeWindow(input.time_window, at(path, 'time_window')))
  const timerecProblem = typeof input.timerec === 'string' ? checkTimerec(input.timerec) : undefined
  if (timerecProblem !== undefined) problems.push({ path: at(path, 'timerec'), message: timerecProblem })
  input.targets.forEach((target, i) => {
    const where = `${at(path, 'targets')}[${i}]`
    if ('gateway' in target && !refs.gateways.has(target.gateway)) problems.push({ path: `${where}.gateway`, message: `unknown gateway "${target.gateway}"` })
    if ('carrier' in target && !refs.carriers.has(target.carrier)) problems.push({ path: `${where}.carrier`, message: `unknown carrier "${target.carrier}"` })
  })
  const groups = input.groups ?? []
  if (new Set(groups).size !== groups.length) problems.push({ path: at(path, 'groups'), message: 'lists a group twice' })
  const data = {
    id: input.id,
    groups,
    prefix: input.prefix ?? '',
    priority: input.priority ?? 0,
    time_window: input.time_window ?? null,
    ...(input.timerec === undefined || input.timerec === null ? {} : { timerec: input.timerec }),
    targets: input.targets.map((target) => ('gateway' in target
      ? { gateway: target.gateway, weight: target.weight ?? 1 }
      : { carrier: target.carrier, weight: target.weight ?? 1 })),
    sort: input.sort ?? 'ordered',
    max_targets: input.max_targets ?? null,
    fallback: input.fallback ?? false,
    attrs: input.attrs ?? {},
    enabled: input.enabled ?? true,
    description: input.description ?? ''
  }
  return { data, problems }
}
