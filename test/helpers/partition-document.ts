/** Whole-partition import documents for tests: an import refuses one that leaves a section out. */

/** `doc` with every section it does not give set to none: what "replace the partition with this" means. */
export function wholePartition<T extends object> (doc: T): T & { partition: object, gateways: unknown[], carriers: unknown[], rules: unknown[], caller_groups: unknown[] } {
  return { partition: {}, gateways: [], carriers: [], rules: [], caller_groups: [], ...doc }
}
