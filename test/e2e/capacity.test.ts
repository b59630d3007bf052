/**
 * End to end, capacity limits: SIPp calls through a real Kamailio running the shipped config, which
 * reports call events to a real rtroute (the scenarios are in scenarios/capacity.ts, shared with
 * the OpenSIPS suite). Set up as kamailio.test.ts is (same variants, same skip when kamailio or
 * sipp is missing).
 */
import { describe } from 'vitest'
import { capacityScenarios } from './scenarios/capacity.js'
import { e2e, kamailioProxy, useProxyStack } from './helpers/stack.js'

describe.skipIf(e2e.missing.length > 0).each(e2e.variants)('Kamailio (%s): capacity limits through call events', (variant) => {
  capacityScenarios(useProxyStack(kamailioProxy(variant), { name: 'Kamailio', tmpPrefix: 'rtroute-e2e-capacity-', partition: 'e2e' }))
})
