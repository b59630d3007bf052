/** A 52-bit hash of a row's JSON, standing in for PostgreSQL's row hash in pages built in memory (rule-pages.ts). */
import type { RulePage } from '../../src/routing/snapshot/compiled.js'
import type { RuleData } from '../../src/routing/routing-data.schema.js'

export function rowHash (row: unknown): number {
  const text = JSON.stringify(row)
  let a = 0x811c9dc5
  let b = 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 16777619)
    b = Math.imul(b ^ c, 0x01000193) + 0x9e3779b9
  }
  return (a >>> 0) * 1048576 + ((b >>> 0) & 0xfffff)
}

/** A page of rules as a snapshot read gives it, each with its row hash. */
export const pageOf = (rules: readonly RuleData[]): RulePage => ({ rules, hashes: Float64Array.from(rules, rowHash) })
