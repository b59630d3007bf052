/** Why a rule is valid in time or not, recurrence by recurrence (the explain view; allocates, unlike the check). */
import { isTimerecOpen, MISS, nodeHolds, recurrenceMiss } from './timerec-eval.js'
import type { CompiledTimeNode, CompiledTimerec } from './timerec-model.js'

export interface RecurrenceVerdict {
  /** 1-based place in the timerec text; 0 for a part of a time window. */
  readonly index: number
  readonly text: string
  /** The recurrence itself holds at the instant (before a `!` in front of it). */
  readonly holds: boolean
  readonly negated: boolean
  readonly reason: string
}

export interface TimeVerdict {
  readonly open: boolean
  readonly text: string
  readonly recurrences: RecurrenceVerdict[]
}

const REASONS: Readonly<Record<number, string>> = {
  [MISS.none]: 'holds',
  [MISS.beforeStart]: 'before dtstart',
  [MISS.ended]: 'past dtend (no freq: it does not repeat)',
  [MISS.interval]: 'not in a repetition the interval keeps',
  [MISS.outside]: 'outside the span from dtstart to dtend in this repetition',
  [MISS.bymonth]: 'not in a month of bymonth',
  [MISS.byweekno]: 'not in a week of byweekno',
  [MISS.byyearday]: 'not on a day of byyearday',
  [MISS.bymonthday]: 'not on a day of bymonthday',
  [MISS.byday]: 'not on a day of byday',
  [MISS.until]: 'past until',
  [MISS.dates]: 'outside the time window\'s dates'
}

function collect (node: CompiledTimeNode, sec: number, out: RecurrenceVerdict[]): void {
  if (node.kind === 'group') {
    for (const op of node.operands) collect(op, sec, out)
    return
  }
  const miss = node.kind === 'rec' ? recurrenceMiss(node, sec) : nodeHolds(node, sec) ? MISS.none : MISS.dates
  out.push({ index: node.index, text: node.text, holds: miss === MISS.none, negated: node.inverted, reason: REASONS[miss] ?? 'no match' })
}

/** Every recurrence's answer at `nowMs`, and the expression's. */
export function explainTimerec (timerec: CompiledTimerec, nowMs: number): TimeVerdict {
  const recurrences: RecurrenceVerdict[] = []
  collect(timerec.root, Math.floor(nowMs / 1000), recurrences)
  return { open: isTimerecOpen(timerec, nowMs), text: timerec.text, recurrences }
}
