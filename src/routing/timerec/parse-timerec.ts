/**
 * A drouting/cfgutils time recurrence expression, parsed as OpenSIPS 3.6.8 tokenises it
 * (time_rec.c tmrec_expr_parse): recurrences joined by `&` (and) or `/` (or), one operator kind per
 * level (mixing needs parentheses), `!` before an operand negates it, parentheses nest. A
 * recurrence runs to whitespace, `&`, or a `/` after its first `|` (so `Europe/London|…` keeps
 * its slash); `!`, `(` and `)` cannot appear inside one. Whitespace is allowed only around operators.
 *
 * Fields of a recurrence: `[timezone|]dtstart|dtend|duration|freq|until|interval|byday|bymonthday|
 * byyearday|byweekno|bymonth`. The timezone slot is there when the first field is empty or starts
 * with A–Z; trailing empty fields may be left out. Beyond OpenSIPS, rtroute requires dtstart (OpenSIPS
 * would take 1970-01-01 with a zeroed calendar) and refuses an empty expression or parentheses.
 */
import { parseField, TIMEREC_FIELDS, type FieldError, type FieldValues, type Recurrence, type TimerecField } from './timerec-fields.js'

export type { ByDay, Freq, LocalDateTime, Recurrence, TimerecField } from './timerec-fields.js'

export interface TimerecLeaf {
  readonly kind: 'leaf'
  readonly inverted: boolean
  /** 1-based, in the order written. */
  readonly index: number
  /** 1-based character where it starts in the whole text. */
  readonly at: number
  readonly text: string
  readonly rec: Recurrence
}

export interface TimerecGroup {
  readonly kind: 'group'
  readonly inverted: boolean
  readonly op: 'and' | 'or'
  readonly operands: readonly TimerecExpr[]
}

export type TimerecExpr = TimerecLeaf | TimerecGroup

export interface TimerecError {
  /** 1-based recurrence the error is in; 0 for the expression around them. */
  readonly recurrence: number
  /** 1-based character of the text where the problem is. */
  readonly at: number
  readonly field: TimerecField | null
  /** 1-based list item of the field; 0 when not a list item. */
  readonly position: number
  readonly message: string
  /** The recurrence is the whole text: no need to say which one. */
  readonly alone: boolean
}

/** expr null: the text is empty or blank, which means always. */
export type TimerecParse =
  | { readonly ok: true, readonly expr: TimerecExpr | null, readonly recurrences: number }
  | { readonly ok: false, readonly error: TimerecError }

/**
 * A timezone Intl knows, spelt as the tz database does: OpenSIPS sets TZ to the text, and glibc
 * finds no file for `EUROPE/LONDON` (it would run in UTC) where Intl, ignoring case, would not.
 */
export function knownZone (name: string): boolean {
  if (!/^[A-Z]/.test(name)) return false
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
    return resolved === name || resolved.toLowerCase() !== name.toLowerCase()
  } catch {
    return false
  }
}

const isWs = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'

class TimerecSyntaxError extends Error {
  constructor (readonly detail: TimerecError) { super(detail.message) }
}

interface State { readonly isZone: (name: string) => boolean, readonly whole: string, leaves: number }

const exprError = (at: number, message: string): TimerecSyntaxError => new TimerecSyntaxError({ recurrence: 0, at, field: null, position: 0, message, alone: false })

function parseRecurrence (text: string, at: number, index: number, state: State): Recurrence {
  const parts = text.split('|')
  // The timezone slot: OpenSIPS takes a first field starting with A–Z as the zone, an empty one as none.
  const first = parts[0] ?? ''
  const fields = first === '' || /^[A-Z]/.test(first) ? TIMEREC_FIELDS : TIMEREC_FIELDS.slice(1)
  const raise = (e: FieldError, offset: number): never => {
    throw new TimerecSyntaxError({ recurrence: index, at: at + offset, field: e.field, position: e.position, message: e.message, alone: text === state.whole })
  }
  if (parts.length > fields.length) {
    raise({ field: 'bymonth', position: 0, message: `has ${parts.length - fields.length} field(s) past bymonth` }, text.length)
  }
  const out: FieldValues = {}
  let offset = 0
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? ''
    const field = fields[i] as TimerecField
    const problem = part === '' ? undefined : parseField(field, part, out, state.isZone)
    if (problem !== undefined) raise(problem, offset)
    offset += part.length + 1
  }
  if (out.dtstart === undefined) raise({ field: 'dtstart', position: 0, message: 'is required (the recurrence starts counting from it)' }, 0)
  const byxxx = out.byday !== undefined || out.bymonthday !== undefined || out.byyearday !== undefined || out.byweekno !== undefined || out.bymonth !== undefined
  if (out.freq === undefined && (out.until !== undefined || out.interval !== undefined || byxxx)) {
    raise({ field: 'freq', position: 0, message: 'is required when until, interval or a by… field is given' }, 0)
  }
  return {
    timezone: out.timezone ?? null,
    dtstart: out.dtstart as Recurrence['dtstart'],
    dtend: out.dtend ?? null,
    duration: out.duration ?? null,
    freq: out.freq ?? null,
    until: out.until ?? null,
    interval: out.interval ?? null,
    byday: out.byday ?? null,
    bymonthday: out.bymonthday ?? null,
    byyearday: out.byyearday ?? null,
    byweekno: out.byweekno ?? null,
    bymonth: out.bymonth ?? null
  }
}

/** The index of the `)` closing the `(` at `open`, or -1. */
function closing (text: string, open: number): number {
  let depth = 0
  for (let q = open; q < text.length; q++) {
    if (text[q] === '(') depth++
    else if (text[q] === ')' && --depth === 0) return q
  }
  return -1
}

function setOp (op: 'and' | 'or' | null, c: string, at: number): 'and' | 'or' {
  const next = c === '&' ? 'and' : 'or'
  if (op !== null && op !== next) throw exprError(at, `"${c}" after "${op === 'and' ? '&' : '/'}" at one level: put parentheses around one side`)
  return next
}

/** `base`: the 0-based place of text[0] in the whole text. */
function parseLevel (text: string, base: number, state: State): TimerecGroup {
  const operands: TimerecExpr[] = []
  let op: 'and' | 'or' | null = null
  let invert = false
  let needOperand = true
  for (let p = 0; p < text.length; p++) {
    const c = text[p] as string
    if (isWs(c)) continue
    if (!needOperand) {
      if (c !== '&' && c !== '/') throw exprError(base + p + 1, `"${c}" where & or / was expected`)
      op = setOp(op, c, base + p + 1)
      needOperand = true
    } else if (c === ')' || c === '&' || c === '/') {
      throw exprError(base + p + 1, `unexpected "${c}"`)
    } else if (c === '!') {
      invert = !invert
    } else if (c === '(') {
      const q = closing(text, p)
      if (q < 0) throw exprError(base + p + 1, 'this "(" is never closed')
      const inner = text.slice(p + 1, q)
      const lead = inner.length - inner.trimStart().length
      if (inner.trim() === '') throw exprError(base + p + 1, 'empty parentheses')
      operands.push({ ...parseLevel(inner.trim(), base + p + 1 + lead, state), inverted: invert })
      invert = false
      needOperand = false
      p = q
    } else {
      let q = p + 1
      let afterBar = false
      for (; q < text.length; q++) {
        const d = text[q] as string
        if (d === '!' || d === '(' || d === ')') throw exprError(base + q + 1, `"${d}" inside a recurrence (operators need an operand on each side)`)
        if (d === '|') afterBar = true
        if (isWs(d)) break
        if (d === '&' || (d === '/' && afterBar)) break
      }
      const index = ++state.leaves
      operands.push({ kind: 'leaf', inverted: invert, index, at: base + p + 1, text: text.slice(p, q), rec: parseRecurrence(text.slice(p, q), base + p + 1, index, state) })
      invert = false
      // Ended by an operator, it takes it: the next thing is an operand again.
      needOperand = q < text.length && !isWs(text[q])
      if (needOperand) op = setOp(op, text[q] as string, base + q + 1)
      p = q
    }
  }
  if (needOperand && op !== null) throw exprError(base + text.length, `the expression ends after "${op === 'and' ? '&' : '/'}"`)
  if (operands.length === 0) throw exprError(base + 1, invert ? '"!" negates nothing' : 'empty expression')
  return { kind: 'group', inverted: false, op: op ?? 'or', operands }
}

/** Parses a timerec text; blank → always (expr null). */
export function parseTimerec (text: string, isZone: (name: string) => boolean = knownZone): TimerecParse {
  const lead = text.length - text.trimStart().length
  const trimmed = text.trim()
  if (trimmed === '') return { ok: true, expr: null, recurrences: 0 }
  const state: State = { isZone, whole: trimmed, leaves: 0 }
  try {
    const group = parseLevel(trimmed, lead, state)
    const only = group.operands.length === 1 ? group.operands[0] : undefined
    return { ok: true, expr: only ?? group, recurrences: state.leaves }
  } catch (error) {
    if (error instanceof TimerecSyntaxError) return { ok: false, error: error.detail }
    throw error
  }
}

/** `field byday, position 2: "XX" is not a weekday`, prefixed `recurrence 2 (character 41): ` when in a longer expression. */
export function timerecErrorText (error: TimerecError): string {
  if (error.field === null) return `character ${error.at}: ${error.message}`
  const where = `field ${error.field}${error.position > 0 ? `, position ${error.position}` : ''}`
  return `${error.alone ? '' : `recurrence ${error.recurrence} (character ${error.at}): `}${where}: ${error.message}`
}

/** The problem with a timerec text, or undefined when it is fine (or blank). */
export function checkTimerec (text: string, isZone: (name: string) => boolean = knownZone): string | undefined {
  const parsed = parseTimerec(text, isZone)
  return parsed.ok ? undefined : timerecErrorText(parsed.error)
}
