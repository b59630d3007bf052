/** The gateway a proxy event (feedback, call start) names: by id, or by the dst_uri the proxy sent it to. */
import { AppError } from '../errors.js'
import type { CompiledPartition } from '../routing/snapshot/compiled.js'
import { parseGatewayAddress } from '../routing/validate-data.js'

/** dst_uri → gateway id per compiled snapshot, built on first use. */
const byAddress = new WeakMap<CompiledPartition, Map<string, string>>()
function gatewayByDstUri (table: CompiledPartition, dstUri: string): string | undefined {
  let index = byAddress.get(table)
  if (index === undefined) {
    index = new Map()
    for (const gateway of table.gateways.values()) if (!index.has(gateway.dstUri)) index.set(gateway.dstUri, gateway.id)
    byAddress.set(table, index)
  }
  const parsed = parseGatewayAddress(dstUri)
  return typeof parsed === 'string' ? undefined : index.get(parsed.uri)
}

/** The gateway a proxy event names, by id or by dst_uri; a 404 naming what was asked when the partition has none. */
export function namedGateway (table: CompiledPartition, partition: string, named: { gateway?: string, dst_uri?: string }): string {
  const id = named.gateway ?? gatewayByDstUri(table, named.dst_uri ?? '')
  if (id === undefined || !table.gateways.has(id)) {
    throw new AppError(404, 'not_found', `no gateway ${named.gateway === undefined ? `with dst_uri "${named.dst_uri ?? ''}"` : `"${named.gateway}"`} in partition "${partition}"`)
  }
  return id
}
