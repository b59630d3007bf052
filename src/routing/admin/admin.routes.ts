/** The routing data admin API under /v1: partitions and, per partition, gateways, carriers, rules and caller groups. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import type { Database } from '../../db.js'
import { callerGroupRoutes } from './caller-groups.routes.js'
import { createCallerGroupRepository } from './caller-group.repository.js'
import { carrierRoutes } from './carriers.routes.js'
import { createCarrierRepository } from './carrier.repository.js'
import { gatewayRoutes } from './gateways.routes.js'
import { createGatewayRepository } from './gateway.repository.js'
import { partitionRoutes } from './partitions.routes.js'
import { createPartitionRepository } from './partition.repository.js'
import { ruleRoutes } from './rules.routes.js'
import { createRuleRepository } from './rule.repository.js'

export interface RoutingAdminOptions {
  readonly db: Kysely<Database>
}

export const routingAdminRoutes: FastifyPluginAsyncTypebox<RoutingAdminOptions> = async (app, { db }) => {
  await app.register(partitionRoutes, { partitions: createPartitionRepository(db) })
  await app.register(gatewayRoutes, { gateways: createGatewayRepository(db) })
  await app.register(carrierRoutes, { carriers: createCarrierRepository(db) })
  await app.register(ruleRoutes, { rules: createRuleRepository(db) })
  await app.register(callerGroupRoutes, { callerGroups: createCallerGroupRepository(db) })
}
