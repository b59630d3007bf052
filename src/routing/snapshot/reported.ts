/** How an update of a loaded table is run and logged, whichever way it reads (incremental.ts, verify.ts). */
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import type { CompileProblem } from './compiled.js'

/** What an update applied, as far as its log line goes (incremental.ts Applied). */
interface Outcome {
  readonly table: { readonly version: number, readonly checksum: string }
  readonly problems: readonly CompileProblem[]
  readonly rules: number
}

/**
 * One way of bringing a table up to date (the change log, a comparison of every row), run and
 * logged: what it applied with its discarded rows, or why it failed (undefined: `state` is spoilt).
 */
export async function reported<T extends Outcome | 'none' | 'full' | undefined> (
  name: string, log: Logger, lines: { readonly done: (applied: Exclude<T, 'none' | 'full' | undefined>) => string, readonly failed: string }, run: () => Promise<T>
): Promise<T | undefined> {
  const started = performance.now()
  try {
    const applied = await run()
    if (applied === 'full' || applied === 'none' || applied === undefined) return applied
    for (const p of applied.problems.slice(0, 20)) log.warn({ partition: name, entity: p.entity, id: p.id }, `discarded: ${p.message}`)
    const { version, checksum } = applied.table
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000
    log.info({ partition: name, version, checksum, durationMs, rules: applied.rules }, lines.done(applied as Exclude<T, 'none' | 'full' | undefined>))
    return applied
  } catch (err) {
    log.warn({ partition: name, err: err instanceof Error ? err.message : String(err) }, lines.failed)
    return undefined
  }
}
