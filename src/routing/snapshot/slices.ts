/**
 * Long CPU work (compiling a million rules, hashing them) written once as a generator that yields
 * every few hundred rows, and run either at once or in slices that give the event loop back, so a
 * reload never stalls the routing answers for longer than one slice.
 */
import { performance } from 'node:perf_hooks'

/** Work that yields (nothing) between batches of rows and returns T. */
export type Steps<T> = Generator<void, T, void>

/** Rows between two yields: small enough that a batch is well under a millisecond. */
export const ROWS_PER_STEP = 512

/** Runs the steps to the end on the current call stack. */
export function runAtOnce<T> (steps: Steps<T>): T {
  for (;;) {
    const next = steps.next()
    if (next.done === true) return next.value
  }
}

const turn = async (): Promise<void> => { await new Promise<void>((resolve) => { setImmediate(resolve) }) }

/**
 * Runs the steps, giving the event loop a turn (setImmediate: pending I/O, so waiting requests,
 * goes first) whenever a slice has run for `sliceMs`.
 */
export async function runInSlices<T> (steps: Steps<T>, sliceMs: number): Promise<T> {
  let started = performance.now()
  for (;;) {
    const next = steps.next()
    if (next.done === true) return next.value
    if (performance.now() - started >= sliceMs) {
      await turn()
      started = performance.now()
    }
  }
}
