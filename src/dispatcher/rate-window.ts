/** New calls in the last second, counted in 10 buckets of 100 ms: no timestamp kept per call. */
const BUCKETS = 10
const BUCKET_MS = 100

export class RateWindow {
  private readonly counts = new Uint32Array(BUCKETS)
  private readonly epochs = new Float64Array(BUCKETS).fill(-1)

  add (now: number): void {
    const epoch = Math.floor(now / BUCKET_MS)
    const i = epoch % BUCKETS
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch
      this.counts[i] = 0
    }
    this.counts[i] = (this.counts[i] as number) + 1
  }

  /** Offers in the buckets of the last second, the current one included. */
  count (now: number): number {
    const epoch = Math.floor(now / BUCKET_MS)
    let sum = 0
    for (let i = 0; i < BUCKETS; i++) {
      const e = this.epochs[i] as number
      if (e > epoch - BUCKETS && e <= epoch) sum += this.counts[i] as number
    }
    return sum
  }
}
