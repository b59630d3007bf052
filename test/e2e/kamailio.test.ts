/**
 * End to end: SIPp calls through a real Kamailio running deploy/kamailio/kamailio.cfg, which asks a
 * real rtroute (the built CLI on a fresh database) and relays to SIPp gateways; everything on
 * 127.0.0.1 (the scenarios are in scenarios/: routing, the proxy secret, the failover between two
 * rtroute instances; shared with the OpenSIPS suite). The
 * default http_async_client variant runs first when that module is at hand
 * (scripts/kamailio-async-module.sh builds it; under CI it must be, or that variant fails), then
 * the http_client one. Skips, saying what to install, without kamailio or sipp.
 */
import { describe } from 'vitest'
import { failoverScenarios } from './scenarios/failover.js'
import { proxySecretScenarios } from './scenarios/proxy-secret.js'
import { routingScenarios } from './scenarios/routing.js'
import { userPartScenarios } from './scenarios/user-part.js'
import { e2e, kamailioProxy, useProxyStack } from './helpers/stack.js'

if (e2e.missing.length === 0) console.log(e2e.asyncModule.message)

describe.skipIf(e2e.missing.length > 0).each(e2e.variants)('Kamailio (%s) with the shipped config, routing through rtroute', (variant) => {
  const s = useProxyStack(kamailioProxy(variant), { name: 'Kamailio', tmpPrefix: 'rtroute-e2e-', partition: 'e2e' })
  routingScenarios(s)
  userPartScenarios(s)
  proxySecretScenarios(s)
  failoverScenarios(s)
})
