/** The capacity sync leaves the database alone while no partition has a limit, and resumes at once when one appears. */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createCapacityStore } from '../../src/dispatcher/capacity-store.js'

function store () {
  const calls = { flush: 0, counts: 0, sweep: 0 }
  const capacity = createCapacityStore({
    repository: {
      flush: async () => { calls.flush++ },
      counts: async () => { calls.counts++; return new Map() },
      sweep: async () => { calls.sweep++; return 0 }
    },
    log: pino({ level: 'silent' }),
    now: Date.now,
    syncMs: 60_000,
    retryMinMs: 10,
    retryMaxMs: 100
  })
  return { capacity, calls }
}

describe('the capacity sync', () => {
  it('reads nothing while no partition has a limit, and counts as synced', async () => {
    const { capacity, calls } = store()
    capacity.configure('p', {}, false)
    await capacity.sync()
    await capacity.sync()
    expect(calls).toEqual({ flush: 0, counts: 0, sweep: 0 })
    expect(capacity.stats().lastSyncAt).toBeGreaterThan(0)
  })

  it('reads the counts as soon as a partition gains a limit, and on every sync while it has one', async () => {
    const { capacity, calls } = store()
    capacity.configure('p', {}, false)
    capacity.start()
    capacity.configure('p', {}, true)
    await capacity.sync()
    // The immediate sync on the new limit, then the one asked for.
    expect(calls.counts).toBe(2)
    capacity.configure('p', {}, false)
    await capacity.sync()
    expect(calls.counts).toBe(2)
    await capacity.stop()
  })
})
