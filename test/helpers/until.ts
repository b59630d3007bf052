/** Polls `fn` until `ok` holds or the deadline passes, and returns the last value (the caller asserts on it). */
export async function until<T> (fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (ok(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
