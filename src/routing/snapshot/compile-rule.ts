// Scratch: the columns of the stored rule compileTuple is writing, which addRule copies out at once.
/**
 * A rule compiled into the table's rule store (rule-store.ts), from either of its two forms: a
 * RuleData (a document, a test), its parts interned by value (targets through a trie, windows by
 * their JSON, groups joined); or the tuple the database stores (rule-pages.ts), each of its texts
 * resolved once per read to what it interns to, so that a million rules are a million lookups by
 * text and no RuleData, no per-rule arrays of targets or groups to build and throw away.
 */
import type { CompiledTarget, RulePage, RuleTuple, TargetNames } from './compiled.js'
import { fmix32, hashString } from './hash.js'
import type { RuleData, TimeWindowData } from '../routing-data.schema.js'
import { compileTimeWindow, type CompiledWindow } from './time-window.js'
import { outsideAlphabet, prefixProblem } from '../prefix-chars.js'
import { withTimerec } from './timerec-compile.js'
import { addRule, addTargetList, ALWAYS, listAt, slotOf, type RuleColumns } from './rule-store.js'
import { attrsFromJson, attrsOf, countOf, problem, weightOf, type Collector, type RuleContext } from './compile-rows.js'
import { parseTextArray, targetsFromText } from './rule-pages.js'

function newTarget (target: RuleData['targets'][number], ctx: RuleContext): CompiledTarget {
  const weight = weightOf(target.weight)
  if ('gateway' in target) {
    const gateway = ctx.gateways.get(target.gateway)
    return Object.freeze(gateway === undefined
      ? { kind: 'unknown', id: target.gateway, weight, hashKey: hashString(target.gateway), of: 'gateway' }
      : { kind: 'gateway', id: target.gateway, weight, hashKey: gateway.hashKey, gateway })
  }
  const carrier = ctx.carriers.get(target.carrier)
  return Object.freeze(carrier === undefined
    ? { kind: 'unknown', id: target.carrier, weight, hashKey: hashString(`#${target.carrier}`), of: 'carrier' }
    : { kind: 'carrier', id: target.carrier, weight, hashKey: carrier.hashKey, carrier })
}

function compileTarget (target: RuleData['targets'][number], ctx: RuleContext): CompiledTarget {
  const isGateway = 'gateway' in target
  const byId = isGateway ? ctx.gatewayTargets : ctx.carrierTargets
  const id = isGateway ? target.gateway : target.carrier
  let byWeight = byId.get(id)
  if (byWeight === undefined) byId.set(id, byWeight = new Map())
  const written = target.weight ?? 1
  let compiled = byWeight.get(written)
  if (compiled === undefined) byWeight.set(written, compiled = newTarget(target, ctx))
  return compiled
}

/** A rule's target list, found by walking the trie with the interned targets: equal lists end on one node. */
function compileTargets (row: RuleData, ctx: RuleContext): number {
  let node = ctx.lists
  for (const t of row.targets) {
    const target = compileTarget(t, ctx)
    let child = node.next.get(target)
    if (child === undefined) node.next.set(target, child = { next: new Map() })
    node = child
  }
  node.targets ??= addTargetList(ctx.store, row.targets.map((t) => compileTarget(t, ctx)))
  return node.targets
}

function internGroups (groups: readonly string[], ctx: RuleContext): number {
  const key = groups.length === 1 ? groups[0] as string : groups.join(',')
  let interned = ctx.groups.get(key)
  if (interned === undefined) {
    interned = ctx.store.groupLists.length
    ctx.store.groupLists.push(Object.freeze(groups.slice()))
    ctx.groups.set(key, interned)
  }
  return interned
}

/** The time window and the timerec (timerec-compile.ts), both to match. */
function compileWindow (row: RuleData, ctx: RuleContext): CompiledWindow | string | null {
  return withTimerec(row.time_window === null ? null : windowByKey(row.time_window, ctx), row.timerec, ctx.windows)
}

function windowByKey (timeWindow: NonNullable<RuleData['time_window']>, ctx: RuleContext): CompiledWindow | string {
  const key = JSON.stringify(timeWindow)
  let window = ctx.windows.get(key)
  if (window === undefined) {
    window = compileTimeWindow(timeWindow)
    ctx.windows.set(key, window)
  }
  return window
}

const windowSlot = (window: CompiledWindow | string | null, ctx: RuleContext): number | string =>
  window === null ? ALWAYS : typeof window === 'string' ? window : slotOf(window, ctx.store.windows, ctx.windowSlots)

// The checks both forms make, in this order (the first that fails says why the rule is discarded).
// Stored before migration 0006, an id past 2^53 read back rounded could stand for a neighbour.
const idProblem = (id: number): string | undefined =>
  Number.isSafeInteger(id) ? undefined : `id ${id} is past ${Number.MAX_SAFE_INTEGER}: it cannot be told from its neighbours`
const prefixProblemOf = (prefix: string, ctx: RuleContext): string | undefined =>
  prefix.length > 64 || outsideAlphabet(prefix, ctx.alphabet) >= 0 ? prefixProblem(prefix, ctx.extraPrefixChars) ?? `prefix "${prefix}" is longer than 64 characters` : undefined

function targetsProblem (targets: number, id: number, ctx: RuleContext, c: Collector): string | undefined {
  const { store } = ctx
  const unknown = store.listUnknown[targets] as number
  if (unknown === 0) return undefined
  if (unknown === store.listLength[targets]) return 'every target is unknown or discarded'
  for (const t of listAt(store, targets)) if (t.kind === 'unknown') problem(c, 'rule', id, `target ${t.of} "${t.id}" is unknown or discarded; never routed`)
  return undefined
}

/** The rule written into the context's store: its slot, or why it is discarded. */
export function compileRule (row: RuleData, ctx: RuleContext, c: Collector): number | string {
  const early = idProblem(row.id) ?? prefixProblemOf(row.prefix, ctx) ?? (row.groups.length === 0 ? 'names no caller group' : undefined)
  if (early !== undefined) return early
  const window = windowSlot(compileWindow(row, ctx), ctx)
  if (typeof window === 'string') return window
  const targets = compileTargets(row, ctx)
  const unusable = targetsProblem(targets, row.id, ctx, c)
  if (unusable !== undefined) return unusable
  return addRule(ctx.store, {
    id: row.id,
    hashKey: fmix32(row.id),
    groups: internGroups(row.groups, ctx),
    prefix: row.prefix,
    priority: row.priority,
    window,
    targets,
    sort: row.sort,
    maxTargets: row.max_targets === null ? Infinity : countOf(row.max_targets),
    fallback: row.fallback,
    enabled: row.enabled,
    attrs: slotOf(attrsOf(row.attrs), ctx.store.attrsList, ctx.attrSlots)
  })
}

/** What a text of a stored rule resolves to, given the rule: a module function, not a closure per rule. */
type Resolve<T> = (text: string, tuple: RuleTuple, names: TargetNames, ctx: RuleContext) => T

/** `text → value` in `cache`, `resolve` asked once per distinct text. */
function cached<T> (cache: Map<string, T>, text: string, resolve: Resolve<T>, tuple: RuleTuple, names: TargetNames, ctx: RuleContext): T {
  let value = cache.get(text)
  if (value === undefined) cache.set(text, value = resolve(text, tuple, names, ctx))
  return value
}

const G = 103
const C = 99
const COLON = 58
const ZERO = 48
const NINE = 57
/** Past these a row id would not stay exact as a key (row × 2 + 1), nor a weight read digit by digit: such an item is compiled from its text. */
const MAX_KEYED_ROW = 2 ** 51
const MAX_KEYED_WEIGHT = 2 ** 32

/** Target `text[start, end)` (`g12:50`), once per distinct row and weight of a read. */
function itemTarget (text: string, start: number, end: number, key: number, weight: number, names: TargetNames, ctx: RuleContext): CompiledTarget {
  const { items } = ctx.texts
  let byWeight = items.get(key)
  if (byWeight === undefined) items.set(key, byWeight = new Map())
  let target = byWeight.get(weight)
  if (target === undefined) byWeight.set(weight, target = itemAsWritten(text.slice(start, end), names, ctx))
  return target
}

const itemAsWritten = (item: string, names: TargetNames, ctx: RuleContext): CompiledTarget =>
  compileTarget(targetsFromText(item, names)[0] as RuleData['targets'][number], ctx)

/**
 * A stored target list (`g12:50,c3:1`, as migration 0009 writes it: a row id without leading
 * zeros, a weight) read by character codes, each item compiled once per read (itemTarget): at a
 * million rules (a quarter of a million distinct lists), splitting each list into item strings to
 * look up, and counting each rule's unknown targets again (now once per list, rule-store.ts
 * `listUnknown`), were together about 8 % of a warm compile (docs/benchmarks.md). An item not of
 * that form is compiled from its text, as the RuleData it stands for is.
 */
function tupleTargets (text: string, names: TargetNames, ctx: RuleContext): number {
  const list: CompiledTarget[] = []
  for (let start = 0; start < text.length;) {
    let end = text.indexOf(',', start)
    if (end < 0) end = text.length
    const kind = text.charCodeAt(start)
    let i = start + 1
    let row = 0
    for (let c = text.charCodeAt(i); c >= ZERO && c <= NINE; c = text.charCodeAt(++i)) row = row * 10 + (c - ZERO)
    const colon = i
    let weight = 0
    if (text.charCodeAt(colon) === COLON) for (let c = text.charCodeAt(++i); c >= ZERO && c <= NINE; c = text.charCodeAt(++i)) weight = weight * 10 + (c - ZERO)
    const digitsOk = colon > start + 1 && (text.charCodeAt(start + 1) !== ZERO || colon === start + 2) && i > colon + 1 && i === end
    list.push((kind === G || kind === C) && digitsOk && row < MAX_KEYED_ROW && weight < MAX_KEYED_WEIGHT
      ? itemTarget(text, start, end, row * 2 + (kind === C ? 1 : 0), weight, names, ctx)
      : itemAsWritten(text.slice(start, end), names, ctx))
    start = end + 1
  }
  return addTargetList(ctx.store, list)
}

const groupsOfText: Resolve<number> = (text, _tuple, _names, ctx) => internGroups(parseTextArray(text) as string[], ctx)
const windowOfTuple: Resolve<number | string> = (_text, tuple, _names, ctx) =>
  windowSlot(withTimerec(tuple[4] === null ? null : windowByKey(JSON.parse(tuple[4]) as TimeWindowData, ctx), tuple[12], ctx.windows), ctx)
const targetsOfText: Resolve<number> = (text, _tuple, names, ctx) => tupleTargets(text, names, ctx)
const attrsOfText: Resolve<number> = (text, _tuple, _names, ctx) => slotOf(attrsFromJson(text), ctx.store.attrsList, ctx.attrSlots)

// The columns of the stored rule being written (addRule copies them out at once): an object per
// rule, with the resolvers above as closures made per rule, was about a fifth of what a load
// allocated (docs/benchmarks.md).
const columns: { -readonly [K in keyof RuleColumns]: RuleColumns[K] } = {
  id: 0, hashKey: 0, prefix: '', priority: 0, maxTargets: Infinity, sort: 'ordered', enabled: false, fallback: false, window: ALWAYS, targets: 0, groups: 0, attrs: 0
}

/** A stored rule (rule-pages.ts), compiled as compileRule compiles the RuleData it stands for. */
export function compileTuple (tuple: RuleTuple, names: TargetNames, ctx: RuleContext, c: Collector): number | string {
  const id = tuple[0]
  const prefix = tuple[2]
  const windowText = tuple[4]
  const timerec = tuple[12]
  const { texts } = ctx
  const groups = cached(texts.groups, tuple[1], groupsOfText, tuple, names, ctx)
  const early = idProblem(id) ?? prefixProblemOf(prefix, ctx) ?? ((ctx.store.groupLists[groups] as readonly string[]).length === 0 ? 'names no caller group' : undefined)
  if (early !== undefined) return early
  const window = windowText === null && timerec === null
    ? ALWAYS
    : cached(texts.windows, windowKey(windowText, timerec), windowOfTuple, tuple, names, ctx)
  if (typeof window === 'string') return window
  const targets = cached(texts.targets, tuple[11] ?? '', targetsOfText, tuple, names, ctx)
  const unusable = targetsProblem(targets, id, ctx, c)
  if (unusable !== undefined) return unusable
  const attrsText = tuple[8]
  const maxTargets = tuple[6]
  columns.id = id
  columns.hashKey = fmix32(id)
  columns.groups = groups
  columns.prefix = prefix
  columns.priority = tuple[3]
  columns.window = window
  columns.targets = targets
  columns.sort = tuple[5]
  columns.maxTargets = maxTargets === null ? Infinity : countOf(maxTargets)
  columns.fallback = tuple[7]
  columns.enabled = tuple[9]
  columns.attrs = attrsText === '{}' ? 0 : cached(texts.attrs, attrsText, attrsOfText, tuple, names, ctx)
  const slot = addRule(ctx.store, columns)
  columns.prefix = ''
  return slot
}

const windowKey = (windowText: string | null, timerec: string | null): string => `${windowText ?? ''}\n${timerec ?? ''}`

// A time_window's zone, and a timerec field that could be one (a first field starting with A–Z).
const WINDOW_ZONE = /"timezone":\s*"([^"\\]+)"/
const TIMEREC_ZONE = /(?:^|[^A-Za-z0-9_/+-])([A-Z][A-Za-z0-9_/+-]*)\|/g

/**
 * The time zones the page's windows and timerecs name that the context has not compiled yet: what
 * a load warms (timerec-zones.ts warmZones) before it compiles the page. A guess from the texts
 * is enough: a zone it misses is built by the compile, one it names wrongly is passed over.
 */
export function zonesNamed (page: RulePage, ctx: RuleContext): Set<string> {
  const out = new Set<string>()
  const add = (windowZone: string | null | undefined, timerec: string | null | undefined): void => {
    if (windowZone !== null && windowZone !== undefined) out.add(windowZone)
    if (timerec !== null && timerec !== undefined) for (const m of timerec.matchAll(TIMEREC_ZONE)) out.add(m[1] as string)
  }
  if ('rules' in page) {
    for (const rule of page.rules) add(rule.time_window?.timezone, rule.timerec)
    return out
  }
  for (let i = 0; i < page.tuples.length; i++) {
    const tuple = page.tuples[i] as RuleTuple
    const windowText = tuple[4]
    const timerec = tuple[12]
    if ((windowText === null && timerec === null) || ctx.texts.windows.has(windowKey(windowText, timerec))) continue
    add(windowText === null ? null : WINDOW_ZONE.exec(windowText)?.[1], timerec)
  }
  return out
}

/** The i-th rule of a page compiled into the context's store: its slot, or why it is discarded. */
export const compileAt = (page: RulePage, i: number, ctx: RuleContext, c: Collector): number | string =>
  'rules' in page ? compileRule(page.rules[i] as RuleData, ctx, c) : compileTuple(page.tuples[i] as RuleTuple, page.names, ctx, c)
