/**
 * Hot-path counters and histograms: plain numbers behind cells the caller resolves once, read by
 * the prom-client Registry at scrape time. prom-client's own `labels(...).inc()` rebuilds a label
 * hash string on every call; on the routing path a cell is one property increment, no allocation.
 */
import type { Metric, Registry } from 'prom-client'

export interface CounterCell { value: number }

export interface HistogramCell {
  /** Counts per bucket (not cumulative), then +Inf; `sum` and `count` as Prometheus exposes them. */
  readonly buckets: Float64Array
  sum: number
  count: number
}

interface Row<C> { readonly labels: Record<string, string>, readonly cell: C }

/** What prom-client's Registry reads from a metric: name, help, type and `get()`. */
abstract class Tally<C> {
  protected readonly rows = new Map<string, Row<C>>()
  abstract readonly type: 'counter' | 'histogram'
  readonly aggregator = 'sum'

  constructor (readonly name: string, readonly help: string, readonly labelNames: readonly string[], registry: Registry) {
    // The Registry only calls get()/reset() and reads name/help/type: a duck-typed metric is enough.
    registry.registerMetric(this as unknown as Metric)
  }

  protected abstract make (): C

  /** The cell for these label values (in labelNames order), created on first use: resolve once, keep it. */
  cell (...values: string[]): C {
    const key = values.join('\u0000')
    let row = this.rows.get(key)
    if (row === undefined) {
      const labels: Record<string, string> = {}
      this.labelNames.forEach((name, i) => { labels[name] = values[i] ?? '' })
      row = { labels, cell: this.make() }
      this.rows.set(key, row)
    }
    return row.cell
  }

  reset (): void { this.rows.clear() }
}

export class TallyCounter extends Tally<CounterCell> {
  readonly type = 'counter'
  protected make (): CounterCell { return { value: 0 } }

  /** The sum over every label set. */
  total (): number {
    let sum = 0
    for (const row of this.rows.values()) sum += row.cell.value
    return sum
  }

  async get () {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.rows.values()].map((r) => ({ labels: r.labels, value: r.cell.value })) }
  }
}

export class TallyHistogram extends Tally<HistogramCell> {
  readonly type = 'histogram'

  constructor (name: string, help: string, labelNames: readonly string[], readonly bounds: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry)
  }

  protected make (): HistogramCell { return { buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 } }

  async get () {
    const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
    for (const { labels, cell } of this.rows.values()) {
      let acc = 0
      this.bounds.forEach((le, i) => {
        acc += cell.buckets[i] ?? 0
        values.push({ labels: { le, ...labels }, value: acc, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...labels }, value: cell.count, metricName: `${this.name}_bucket` })
      values.push({ labels, value: cell.sum, metricName: `${this.name}_sum` })
      values.push({ labels, value: cell.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}

/** Records one observation; `bounds` are the histogram's upper bounds, ascending. */
export function observe (cell: HistogramCell, bounds: readonly number[], value: number): void {
  let i = 0
  while (i < bounds.length && value > (bounds[i] as number)) i++
  cell.buckets[i] = (cell.buckets[i] ?? 0) + 1
  cell.sum += value
  cell.count++
}
