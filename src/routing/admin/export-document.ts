/**
 * The bytes of a partition's export document. GET /v1/partitions/:partition/data and `rtroute
 * export` both write them with this one serializer (fast-json-stringify over the response schema,
 * which fastify would use too), so an export from either is byte-identical to the other.
 */
import fastJson from 'fast-json-stringify'
import { PartitionDataSchema, type PartitionData } from '../routing-data.schema.js'

export const serializePartitionData: (data: PartitionData) => string = fastJson(PartitionDataSchema)
