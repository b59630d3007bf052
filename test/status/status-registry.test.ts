import { describe, expect, it } from 'vitest'
import { fakeDeps } from '../helpers/fake-deps.js'
import { StatusError } from '../../src/status/status-registry.js'

describe('StatusRegistry', () => {
  it('raises E_CORE_SR_STATUS_CHANGED only when the integer status changes', () => {
    const { registry, events } = fakeDeps()
    const id = registry.createGroup('routing').add('default', { status: -2, details: 'no data' })
    id.set(-1, 'loading')
    id.setDetails('still loading')
    id.set(-1, 'loading, 50 %')
    id.set(1, 'data available')
    expect(events.map((e) => e.payload)).toEqual([
      { group: 'routing', identifier: 'default', status: -1, details: 'loading', old_status: -2 },
      { group: 'routing', identifier: 'default', status: 1, details: 'data available', old_status: -1 }
    ])
    expect(id.details).toBe('data available')
  })

  it.each([0, 1.5, Number.NaN])('refuses status %s', (status) => {
    const { registry, events } = fakeDeps()
    const id = registry.createGroup('g').add('i', { status: 1 })
    expect(() => { id.set(status) }).toThrow(StatusError)
    expect(() => registry.createGroup('h').add('i', { status })).toThrow(/non-zero integer/)
    expect(id.status).toBe(1)
    expect(events).toEqual([])
  })

  it('aggregates a group: ready only when every identifier is', () => {
    const { registry } = fakeDeps()
    const group = registry.createGroup('routing')
    const a = group.add('a', { status: 1 })
    group.add('b', { status: 2, details: 'reloading' })
    expect(group.aggregate()).toEqual({ group: 'routing', identifier: 'all', readiness: true, status: 1, details: 'aggregated' })
    a.set(-1)
    expect(group.aggregate()).toMatchObject({ readiness: false, status: -1, details: 'aggregated' })
  })

  it('an empty group has nothing to wait for', () => {
    const { registry } = fakeDeps()
    expect(registry.createGroup('empty').ready).toBe(true)
  })

  it('readiness is the AND of required groups only, and names what is not ready', () => {
    const { registry } = fakeDeps()
    const core = registry.createGroup('core', { required: true }).add('main', { status: -1, details: 'initialising' })
    registry.createGroup('optional').add('x', { status: -5, details: 'broken' })
    expect(registry.readiness()).toEqual({
      ready: false,
      notReady: [{ group: 'core', identifier: 'main', readiness: false, status: -1, details: 'initialising' }]
    })
    core.set(1, 'running')
    expect(registry.readiness()).toEqual({ ready: true, notReady: [] })
  })

  it('keeps a ring per identifier with its own size', () => {
    const { registry, tick } = fakeDeps()
    const group = registry.createGroup('routing', { ringSize: 2 })
    const events = group.add('default;events', { status: 1, ringSize: 200 })
    const data = group.add('default', { status: 1 })
    for (let i = 0; i < 5; i++) { data.report(`load ${i}`); events.report(`gw ${i}`); tick(1000) }
    expect(data.reports().map((r) => r.log)).toEqual(['load 3', 'load 4'])
    expect(events.reports()).toHaveLength(5)
    expect(data.reports()[1]!.timestamp - data.reports()[0]!.timestamp).toBe(1)
  })

  it('names what is missing', () => {
    const { registry } = fakeDeps()
    registry.createGroup('core')
    expect(() => registry.requireGroup('nope')).toThrow('unknown status group "nope"')
    expect(() => registry.requireIdentifier('core', 'nope')).toThrow('unknown identifier "nope" in status group "core"')
    expect(() => registry.createGroup('core')).toThrow('already exists')
  })

  it('reserves the pseudo-identifier all', () => {
    const { registry } = fakeDeps()
    expect(() => registry.createGroup('g').add('all', { status: 1 })).toThrow(/reserved/)
  })
})
