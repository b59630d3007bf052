/** The status page's words for status integers: every owner's constants named, the registry's rule for the rest. */
import { describe, expect, it } from 'vitest'
import { DB_STATUS } from '../../src/db-monitor.js'
import { EMBEDDED_STATUS } from '../../src/embedded-supervisor.js'
import { CORE_STATUS_NAMES, statusName, statusNames } from '../../src/observability/status-names.js'
import { PARTITION_STATUS } from '../../src/routing/snapshot/route-tables.js'
import { CORE_STATUS } from '../../src/server.js'

describe('statusName', () => {
  it.each([
    ['core', 'main', -1, 'initialising'], ['core', 'main', 1, 'running'], ['core', 'main', -2, 'terminating'],
    ['db', 'main', -2, 'unreachable'], ['db', 'main', -1, 'connecting'], ['db', 'main', 1, 'connected'], ['db', 'main', 2, 'degraded (serving from memory)'],
    ['db', 'embedded', 1, 'running'], ['db', 'embedded', -1, 'down (restarting)'],
    ['routing', 'default', -2, 'no data'], ['routing', 'default', -1, 'loading'], ['routing', 'default', 1, 'ready'], ['routing', 'default', 2, 'reloading'],
    // Not an owner's value, or a group without words of its own: status_report's rule.
    ['routing', 'default;events', 1, 'ready'], ['routing', 'default', 7, 'ready'], ['kamailio', 'main', -1, 'not ready'], ['kamailio', 'main', 3, 'ready'], ['db', 'replica', -5, 'not ready']
  ])('%s/%s %i is "%s"', (group, identifier, status, name) => {
    expect(statusName(group, identifier, status)).toBe(name)
  })

  it('names every value of every owner\'s constants, and core\'s are server.ts\'s', () => {
    expect(Object.values(CORE_STATUS).sort()).toEqual([...CORE_STATUS_NAMES.keys()].sort())
    expect(Object.keys(statusNames('core', 'main')).map(Number).sort()).toEqual(Object.values(CORE_STATUS).sort())
    expect(Object.keys(statusNames('db', 'main')).map(Number).sort()).toEqual(Object.values(DB_STATUS).sort())
    expect(Object.keys(statusNames('db', 'embedded')).map(Number).sort()).toEqual(Object.values(EMBEDDED_STATUS).sort())
    expect(Object.keys(statusNames('routing', 'p')).map(Number).sort()).toEqual(Object.values(PARTITION_STATUS).sort())
    expect(statusNames('ext', 'main')).toEqual({})
  })
})
