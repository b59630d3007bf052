import { describe, expect, it } from 'vitest'
import { createEventBus } from '../src/events.js'

const payload = { group: 'g', identifier: 'i', status: 1, details: '', old_status: -1 }

describe('event bus', () => {
  it('delivers to every listener even when one throws, and reports the error', () => {
    const errors: unknown[] = []
    const bus = createEventBus((err) => { errors.push(err) })
    const seen: string[] = []
    bus.on('E_CORE_SR_STATUS_CHANGED', () => { throw new Error('broken subscriber') })
    bus.on('E_CORE_SR_STATUS_CHANGED', (event) => { seen.push(event.group) })
    bus.emit('E_CORE_SR_STATUS_CHANGED', payload)
    expect(seen).toEqual(['g'])
    expect(errors).toHaveLength(1)
  })

  it('stops delivering after unsubscribe', () => {
    const bus = createEventBus(() => {})
    let count = 0
    const off = bus.on('E_CORE_SR_STATUS_CHANGED', () => { count++ })
    bus.emit('E_CORE_SR_STATUS_CHANGED', payload)
    off()
    bus.emit('E_CORE_SR_STATUS_CHANGED', payload)
    expect(count).toBe(1)
  })
})
