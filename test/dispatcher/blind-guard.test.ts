import { describe, expect, it } from 'vitest'
import { judgeRound, type RoundOutcome } from '../../src/dispatcher/blind-guard.js'

const ok: RoundOutcome = { ok: true, timeout: false, status: 200 }
const busy: RoundOutcome = { ok: false, timeout: false, status: 503 }
const timeout: RoundOutcome = { ok: false, timeout: true }
const unsent: RoundOutcome = { ok: false, timeout: false }

describe('judgeRound', () => {
  it('freezes a partition whose every probed gateway went unanswered', () => {
    const [verdict] = judgeRound(new Map([['p1', [timeout, timeout, unsent]]]), { minGateways: 2 })
    expect(verdict).toEqual({
      frozen: true,
      partition: 'p1',
      failed: 3,
      reason: 'all 3 probed gateways of partition p1 failed without any answer in the same round (2 timeouts, 1 send failures): ' +
        "the prober's own network is suspected, probe failures of this round not applied"
    })
  })

  it('applies a round where one gateway answered', () => {
    expect(judgeRound(new Map([['p1', [timeout, timeout, ok]]]))).toEqual([{ frozen: false, partition: 'p1', failed: 2 }])
  })

  it('applies a round where every gateway answered negatively: an answer proves the path works', () => {
    expect(judgeRound(new Map([['p1', [busy, busy, busy]]]))[0]?.frozen).toBe(false)
  })

  it('judges a partition below minGateways normally', () => {
    const verdicts = judgeRound(new Map([['small', [timeout]], ['big', [ok, ok]]]), { minGateways: 2 })
    expect(verdicts.map((v) => v.frozen)).toEqual([false, false])
  })

  it('freezes small partitions too when the whole round went unanswered', () => {
    const verdicts = judgeRound(new Map([['small', [timeout]], ['big', [timeout, timeout]], ['empty', []]]), { minGateways: 2 })
    expect(verdicts.map((v) => [v.partition, v.frozen])).toEqual([['small', true], ['big', true], ['empty', false]])
    expect(verdicts[0]?.frozen === true && verdicts[0].reason).toMatch(/^all 3 probed gateways of the whole round/)
  })

  it('defaults to two gateways', () => {
    expect(judgeRound(new Map([['p', [timeout]]]))[0]?.frozen).toBe(false)
    expect(judgeRound(new Map([['p', [timeout, timeout]]]))[0]?.frozen).toBe(true)
  })

  it('judges one partition on its own when given its name and results', () => {
    expect(judgeRound('p1', [timeout, timeout], { minGateways: 2 })).toMatchObject({ frozen: true, partition: 'p1', failed: 2 })
    expect(judgeRound('p1', [timeout], { minGateways: 2 })).toEqual({ frozen: false, partition: 'p1', failed: 1 })
  })
})
