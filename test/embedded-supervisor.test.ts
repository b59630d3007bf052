import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EMBEDDED_STATUS, superviseEmbedded } from '../src/embedded-supervisor.js'
import { createEventBus } from '../src/events.js'
import { StatusRegistry } from '../src/status/status-registry.js'

type Exit = (exit: { pid: number | undefined, reason: string }) => void

/** A server whose restarts fail `failures` times, then succeed with a new PID. */
function fakeServer (failures: number) {
  let onExit: Exit = () => {}
  const server = {
    pid: 100 as number | undefined,
    restarts: 0,
    onExit: (listener: Exit) => { onExit = listener },
    restart: async () => {
      server.restarts++
      if (server.restarts <= failures) throw new Error('pre-existing shared memory block is still in use')
      server.pid = 200
    },
    die: () => {
      server.pid = undefined
      onExit({ pid: 100, reason: 'signal SIGKILL' })
    }
  }
  return server
}

let registry: StatusRegistry
beforeEach(() => {
  vi.useFakeTimers()
  registry = new StatusRegistry(createEventBus(() => {}))
})
afterEach(() => { vi.useRealTimers() })

describe('superviseEmbedded', () => {
  it('restarts a server that died, with backoff, and is not ready until it runs again', async () => {
    const group = registry.createGroup('db', { required: true, ringSize: 20 })
    const identifier = group.add('embedded', { status: 1, details: 'running' })
    const server = fakeServer(2)
    let restarted = 0
    const supervisor = superviseEmbedded({
      server, identifier, log: pino({ level: 'silent' }), retryMinMs: 100, retryMaxMs: 1000, random: () => 1, onRestarted: () => { restarted++ }
    })
    expect(identifier.details).toBe('running (PID 100)')

    server.die()
    expect(identifier.status).toBe(EMBEDDED_STATUS.down)
    expect(registry.readiness().ready).toBe(false)
    // Attempts after 100, 200 and 400 ms (random 1: the ceiling each time): two fail, the third runs.
    await vi.advanceTimersByTimeAsync(99)
    expect(server.restarts).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(server.restarts).toBe(1)
    expect(identifier.details).toMatch(/^down, restart attempt 1 failed: pre-existing shared memory/)
    await vi.advanceTimersByTimeAsync(200)
    expect(server.restarts).toBe(2)
    expect(identifier.status).toBe(EMBEDDED_STATUS.down)
    await vi.advanceTimersByTimeAsync(400)
    expect(server.restarts).toBe(3)
    expect(identifier.status).toBe(EMBEDDED_STATUS.running)
    expect(identifier.details).toBe('running (PID 200), restarted after 0.7 s')
    expect(registry.readiness().ready).toBe(true)
    expect(restarted).toBe(1)
    expect(identifier.reports().map((r) => r.log)).toEqual([
      'embedded PostgreSQL (PID 100) exited (signal SIGKILL), restarting',
      'embedded PostgreSQL restarted after 0.7 s (attempt 3, PID 200)'
    ])
    await supervisor.stop()
  })

  it('starts nothing once stopped', async () => {
    const identifier = registry.createGroup('db', { required: true, ringSize: 20 }).add('embedded', { status: 1 })
    const server = fakeServer(0)
    const supervisor = superviseEmbedded({ server, identifier, log: pino({ level: 'silent' }), retryMinMs: 100, retryMaxMs: 1000 })
    server.die()
    await supervisor.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(server.restarts).toBe(0)
  })
})
