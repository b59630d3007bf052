import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../src/retry.js'

describe('backoffDelay', () => {
  it('grows exponentially up to the ceiling, jittered between floor and ceiling', () => {
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffDelay(n, 250, 10_000, () => 1))).toEqual([250, 500, 1000, 2000, 10_000, 10_000])
    expect(backoffDelay(5, 250, 10_000, () => 0)).toBe(250)
  })
})
