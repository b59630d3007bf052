import { describe, expect, it } from 'vitest'
import { needsDatabase } from '../src/database-gate.js'

describe('needsDatabase: which admin calls wait for the database at start', () => {
  it.each([
    ['PUT', '/v1/partitions/:partition/data', true],
    ['GET', '/v1/partitions/:partition/data', true],
    ['GET', '/v1/partitions', true],
    ['GET', '/v1/partitions/:partition/rules/:id', true],
    ['POST', '/v1/partitions/:partition/reload', true],
    ['PUT', '/v1/partitions/:partition/gateways/:gateway/state', true],
    ['PUT', '/v1/status/:group', true],
    ['POST', '/v1/reports/:group/:identifier', true],
    ['GET', '/v1/subscriptions', true],
    ['PUT', '/v1/probing', true],
    ['GET', '/v1/partitions/:partition/route', false],
    ['GET', '/v1/partitions/:partition/gateways/state', false],
    ['GET', '/v1/partitions/:partition/carriers/state', false],
    ['GET', '/v1/status', false],
    ['GET', '/v1/reports/:group', false],
    ['GET', '/v1/overview', false],
    ['GET', '/v1/events', false],
    ['GET', '/v1/probing', false]
  ])('%s %s → %s', (method, route, expected) => {
    expect(needsDatabase(method, route)).toBe(expected)
  })
})
