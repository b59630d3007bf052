import { describe, expect, it } from 'vitest'
import {
  classifyFeedback, createFeedbackDedupe, DEFAULT_FEEDBACK_CODES, parseCodeList, type FeedbackCodes
} from '../../src/dispatcher/feedback.js'

/** The inverse of parseCodeList: what the parsed rules say, as text again. */
function formatCodeList (rules: FeedbackCodes): string {
  const local = rules.localOnly.map((code) => `${code}L`)
  const failure = rules.failure.map((rule) => typeof rule === 'number' ? String(rule) : `${rule[0]}-${rule[1]}`)
  return [...local, ...failure].join(',')
}

describe('classifyFeedback with the default codes', () => {
  it.each([
    [503, false, 'failure'],
    [500, true, 'failure'],
    [599, false, 'failure'],
    [603, false, 'failure'],
    [699, false, 'failure'],
    [408, true, 'failure'],
    [408, false, 'ignored'],
    [487, false, 'ignored'],
    [486, false, 'ignored'],
    [404, true, 'ignored'],
    [302, false, 'ignored'],
    [200, false, 'success'],
    [202, true, 'success'],
    [700, false, 'ignored'],
    [503.5, false, 'ignored']
  ] as const)('%i local=%s → %s', (code, local, verdict) => {
    expect(classifyFeedback(code, local, DEFAULT_FEEDBACK_CODES)).toBe(verdict)
  })

  it('a far-end 408 stays ignored even when a range covers it: only the proxy’s own timeout counts', () => {
    const rules: FeedbackCodes = { failure: [[400, 499]], localOnly: [408] }
    expect(classifyFeedback(408, false, rules)).toBe('ignored')
    expect(classifyFeedback(408, true, rules)).toBe('failure')
    expect(classifyFeedback(404, false, rules)).toBe('failure')
  })
})

describe('parseCodeList', () => {
  it('reads the default list back', () => {
    const parsed = parseCodeList('408L,500-599,600-699')
    expect(parsed).toEqual({ failure: [[500, 599], [600, 699]], localOnly: [408] })
    expect(parsed).toEqual({ ...DEFAULT_FEEDBACK_CODES })
  })

  it('accepts single codes, spaces, a lower-case l and an empty list', () => {
    expect(parseCodeList(' 503 , 480l ,')).toEqual({ failure: [503], localOnly: [480] })
    expect(parseCodeList('')).toEqual({ failure: [], localOnly: [] })
  })

  it.each([
    ['5xx', "invalid code list: '5xx' is not a code (503), a local-only code (408L) or a range (500-599)"],
    ['599-500', "invalid code list: '599-500': range is reversed"],
    ['200', "invalid code list: '200': codes must be between 300 and 699"],
    ['100-199', "invalid code list: '100-199': codes must be between 300 and 699"],
    ['500-599L', "invalid code list: '500-599L' is not a code (503), a local-only code (408L) or a range (500-599)"]
  ])('rejects %s', (text, error) => {
    expect(parseCodeList(text)).toBe(error)
  })

  it('formats rules back to the same text', () => {
    expect(formatCodeList(DEFAULT_FEEDBACK_CODES)).toBe('408L,500-599,600-699')
    const parsed = parseCodeList('480L,503,500-599')
    if (typeof parsed === 'string') throw new Error(parsed)
    expect(formatCodeList(parsed)).toBe('480L,503,500-599')
  })
})

describe('createFeedbackDedupe', () => {
  it('counts the same (call, gateway) once within the ttl', () => {
    let t = 0
    const dedupe = createFeedbackDedupe({ maxEntries: 10, ttlMs: 1000, now: () => t })
    expect(dedupe.seen('call-1\ngw1')).toBe(false)
    expect(dedupe.seen('call-1\ngw1')).toBe(true)
    expect(dedupe.seen('call-1\ngw2')).toBe(false)
    t = 999
    expect(dedupe.seen('call-1\ngw1')).toBe(true)
    t = 1000
    expect(dedupe.seen('call-1\ngw1')).toBe(false)
  })

  it('never holds more than maxEntries, evicting the oldest', () => {
    const dedupe = createFeedbackDedupe({ maxEntries: 3, ttlMs: 60_000, now: () => 0 })
    for (const key of ['a', 'b', 'c', 'd']) dedupe.seen(key)
    expect(dedupe.size).toBe(3)
    expect(dedupe.seen('a')).toBe(false) // evicted, so it counts again
    expect(dedupe.seen('d')).toBe(true)
  })

  it('drops expired entries as time passes, so a quiet period empties it', () => {
    let t = 0
    const dedupe = createFeedbackDedupe({ maxEntries: 1000, ttlMs: 100, now: () => t })
    for (let i = 0; i < 500; i++) dedupe.seen(`k${i}`)
    t = 100
    dedupe.seen('fresh')
    expect(dedupe.size).toBe(1)
  })

  it('stays bounded under a flood of distinct keys', () => {
    let t = 0
    const dedupe = createFeedbackDedupe({ maxEntries: 100, ttlMs: 1_000_000, now: () => t++ })
    for (let i = 0; i < 100_000; i++) dedupe.seen(`call-${i}`)
    expect(dedupe.size).toBe(100)
  })
})
