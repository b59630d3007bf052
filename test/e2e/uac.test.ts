/**
 * End to end, Kamailio with uac loaded (-A WITH_UAC: rtjson then applies an answer's
 * headers.from/headers.to, as Wazo-style configs have it): display names that need quoting reach
 * the gateway as the caller sent them (scenarios/display-names.ts). One HTTP module variant, the
 * first of kamailio.test.ts's (the async one when at hand): the header path does not depend on it.
 */
import { describe } from 'vitest'
import { displayNameScenarios } from './scenarios/display-names.js'
import { startKamailio } from './helpers/kamailio.js'
import { e2e, useProxyStack, type StartProxy } from './helpers/stack.js'

const variant = e2e.variants[0] ?? 'http_client'
const kamailioWithUac: StartProxy<Awaited<ReturnType<typeof startKamailio>>> = async ({ workers, ...options }) =>
  await startKamailio({ kamailio: e2e.kamailio, http: variant, modulePath: e2e.asyncModule.modulePath, children: workers, defines: ['WITH_UAC'], ...options })

describe.skipIf(e2e.missing.length > 0)(`Kamailio (${variant}) with uac loaded`, () => {
  displayNameScenarios(useProxyStack(kamailioWithUac, { name: 'Kamailio', tmpPrefix: 'rtroute-e2e-uac-', partition: 'e2e' }))
})
