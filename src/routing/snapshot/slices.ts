// Scratch: when the current stretch without a turn of the event loop began, shared by every sliced run.
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
 * When the current stretch without a turn of the event loop began. Shared by every run: work sliced
 * in several runs one after the other (a reload's head, its rules, its checksum: promise callbacks,
 * no turn in between) is one slice, not a slice per run. Any turn of the loop (an immediate
 * scheduled when the stretch began runs then) starts a new one.
 */
let stretch: number | undefined

function stretchStart (): number {
  if (stretch === undefined) {
    stretch = performance.now()
    setImmediate(() => { stretch = undefined })
  }
  return stretch
}

/**
 * Runs the steps, giving the event loop a turn (setImmediate: pending I/O, so waiting requests,
 * goes first) whenever the current stretch without one has lasted `sliceMs`.
 */
export async function runInSlices<T> (steps: Steps<T>, sliceMs: number): Promise<T> {
  for (;;) {
    const next = steps.next()
    if (next.done === true) return next.value
    if (performance.now() - stretchStart() >= sliceMs) {
      await turn()
      stretch = undefined
    }
  }
}
