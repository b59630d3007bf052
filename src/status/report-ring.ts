/** A fixed-size ring of status reports: O(1) push, oldest dropped first. */

/** One report as status_report keeps it: unix seconds, a ctime-style date (UTC) and the text. */
export interface Report {
  readonly timestamp: number
  readonly date: string
  readonly log: string
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number): string => String(n).padStart(2, '0')

/**
 * `Thu May 12 14:12:20 2022`, the date format of OpenSIPS reports (ctime(3), whose day of the
 * month is padded with a space: `Tue Dec  1`), in UTC.
 */
export function ctime (ms: number): string {
  const d = new Date(ms)
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`
}

export class ReportRing {
  readonly #slots: Array<{ ms: number, log: string } | undefined>
  #next = 0
  #size = 0

  constructor (readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`ring size must be a positive integer, got ${capacity}`)
    this.#slots = new Array(capacity)
  }

  get size (): number { return this.#size }

  /** Stores the raw time and text; the date string is formatted only when read. */
  push (ms: number, log: string): void {
    this.#slots[this.#next] = { ms, log }
    this.#next = (this.#next + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
  }

  /** Oldest first, as status_report lists them. */
  toArray (): Report[] {
    const out: Report[] = []
    const start = (this.#next - this.#size + this.capacity) % this.capacity
    for (let i = 0; i < this.#size; i++) {
      const slot = this.#slots[(start + i) % this.capacity]
      if (slot !== undefined) out.push({ timestamp: Math.floor(slot.ms / 1000), date: ctime(slot.ms), log: slot.log })
    }
    return out
  }
}
