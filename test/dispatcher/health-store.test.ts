/** The health store against a repository that behaves like PostgreSQL's (row lock, versions), with controlled timing. */
import { describe, expect, it } from 'vitest'
import { applyHealthEvent, DEFAULT_HEALTH_SETTINGS, initialHealth, type HealthEvent } from '../../src/dispatcher/gateway-state.js'
import type { StoredGatewayState, Transition, WriteTag } from '../../src/dispatcher/gateway-state.repository.js'
import { DEFAULT_PARTITION_HEALTH } from '../../src/dispatcher/health-settings.js'
import { createHealthStore } from '../../src/dispatcher/health-store.js'
import { createEventBus, type GatewayStatusEvent } from '../../src/events.js'
import { createLogger } from '../../src/logger.js'

/** One row per gateway, writes serialised like row locks; `delay` decides how long each write takes. */
function fakeRepository (delay: () => number, afterWrite: () => Promise<void> = async () => {}) {
  const rows = new Map<string, StoredGatewayState>()
  let chain = Promise.resolve()
  let down = false
  /** Like LISTEN on this instance: may hear of a write before the write's own call returns. */
  let notify: ((stored: StoredGatewayState) => void) | undefined
  return {
    rows,
    setDown: (value: boolean) => { down = value },
    onNotify: (fn: (stored: StoredGatewayState) => void) => { notify = fn },
    all: async () => [...rows.values()],
    carriers: async () => [],
    apply: async (partition: string, gatewayId: string, transition: Transition, tag?: WriteTag): Promise<StoredGatewayState | undefined> => {
      const run = chain.then(async () => {
        await new Promise((resolve) => setTimeout(resolve, delay()))
        if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
        const current = rows.get(gatewayId)
        const next = transition(current)
        if (next === undefined) return undefined
        const stored = { partition, gatewayId, health: next.health, probe: current?.probe, version: (current?.version ?? 0) + 1 }
        rows.set(gatewayId, stored)
        notify?.({ ...stored, ...tag })
        await afterWrite()
        return stored
      })
      chain = run.then(() => {}, () => {})
      return await run
    }
  }
}

function setup (delay: () => number, afterWrite?: () => Promise<void>) {
  let clock = 1_000_000
  const repository = fakeRepository(delay, afterWrite)
  const announced: GatewayStatusEvent[] = []
  const bus = createEventBus((err) => { throw err })
  bus.on('E_GATEWAY_STATUS', (e) => { announced.push(e) })
  const store = createHealthStore({
    repository, bus, log: createLogger('silent', false), now: () => clock, eventsOf: () => undefined, queueMax: 1000, retryMinMs: 5, retryMaxMs: 20
  })
  store.sync('p', [{ id: 'g', address: 'sip:10.0.0.1', probeMode: 'never', enabled: true }], DEFAULT_PARTITION_HEALTH)
  repository.onNotify(store.receive)
  return { store, repository, announced, tick: (ms: number) => { clock += ms } }
}

const failure: HealthEvent = { kind: 'failure', reason: 'failover feedback 503' }
const success: HealthEvent = { kind: 'success', reason: 'failover feedback 200' }

describe('health store', () => {
  it('a row for an earlier event never makes it forget a later one (the lost-failure race)', async () => {
    const { store, repository } = setup(() => 3)
    store.submit('p', 'g', failure)
    store.submit('p', 'g', success)
    // The first write lands while the success is still queued: the view must still be active.
    await new Promise((resolve) => setTimeout(resolve, 4))
    expect(store.view('p').stateOf('g')).toBe('active')
    for (let i = 0; i < 3; i++) store.submit('p', 'g', failure)
    expect(store.view('p').stateOf('g')).toBe('down')
    await store.flush()
    expect(repository.rows.get('g')?.health).toMatchObject({ state: 'down', failures: [1_000_000, 1_000_000, 1_000_000] })
    expect(store.view('p').stateOf('g')).toBe('down')
    expect(store.queued).toBe(0)
  })

  it('its own notification arriving before the write returns does not count the event twice', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const { store, repository } = setup(() => 0, async () => { await gate })
    const settings = { ...DEFAULT_PARTITION_HEALTH, health: { ...DEFAULT_PARTITION_HEALTH.health, downAfterFailures: 2 } }
    store.sync('p', [{ id: 'g', address: 'sip:10.0.0.1', probeMode: 'never', enabled: true }], settings)
    store.submit('p', 'g', failure)
    // The row is written and notified; the write's call has not returned yet.
    for (let i = 0; i < 1000 && !repository.rows.has('g'); i++) await new Promise((resolve) => setImmediate(resolve))
    expect(repository.rows.get('g')?.health.state).toBe('suspect')
    expect(store.view('p').stateOf('g')).toBe('suspect')
    expect(store.get('p', 'g')?.health.failures).toHaveLength(1)
    release()
    await store.flush()
    expect(store.view('p').stateOf('g')).toBe('suspect')
    expect(store.get('p', 'g')?.health.failures).toHaveLength(1)
  })

  it('ends where applying every event in order ends, whatever the timing', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      let x = seed
      const random = (): number => { x = (x * 1103515245 + 12345) % 2 ** 31; return x / 2 ** 31 }
      const { store, repository, tick } = setup(() => Math.floor(random() * 4))
      let reference = initialHealth(1_000_000)
      let now = 1_000_000
      for (let i = 0; i < 25; i++) {
        const event = random() < 0.7 ? failure : success
        store.submit('p', 'g', event)
        reference = applyHealthEvent(reference, event, { settings: DEFAULT_HEALTH_SETTINGS, probed: false, now }).health
        if (random() < 0.4) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 5)))
        tick(1)
        now += 1
      }
      await store.flush()
      expect(repository.rows.get('g')?.health.state, `seed ${seed}`).toBe(reference.state)
      expect(store.view('p').stateOf('g'), `seed ${seed}`).toBe(reference.state)
    }
  })

  it('keeps events while the database is away and writes them, in order, when it is back', async () => {
    const { store, repository, announced } = setup(() => 1)
    repository.setDown(true)
    for (let i = 0; i < 3; i++) store.submit('p', 'g', failure)
    expect(store.view('p').stateOf('g')).toBe('down')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(store.queued).toBe(3)
    repository.setDown(false)
    const deadline = Date.now() + 2000
    while (store.queued > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(repository.rows.get('g')?.health.state).toBe('down')
    // Announced once per change, not again when the database confirms it.
    expect(announced.filter((e) => e.old_status !== null).map((e) => e.status)).toEqual(['suspect', 'down'])
    store.stop()
  })
})
