/**
 * End to end: SIPp calls through a real Kamailio running deploy/kamailio/kamailio.cfg, which asks a
 * real rtroute (the built CLI on a fresh database) and relays to SIPp gateways; everything on
 * 127.0.0.1 (the scenarios are in scenarios/routing.ts, shared with the OpenSIPS suite). The
 * http_client variant always runs; the default http_async_client one too when that module is at
 * hand. Skips, saying what to install, without kamailio or sipp.
 */
import { describe } from 'vitest'
import { routingScenarios } from './scenarios/routing.js'
import { e2e, kamailioProxy, useProxyStack } from './helpers/stack.js'

if (e2e.missing.length === 0) console.log(e2e.asyncModule.message)

describe.skipIf(e2e.missing.length > 0).each(e2e.variants)('Kamailio (%s) with the shipped config, routing through rtroute', (variant) => {
  routingScenarios(useProxyStack(kamailioProxy(variant), { name: 'Kamailio', tmpPrefix: 'rtroute-e2e-', partition: 'e2e' }))
})
