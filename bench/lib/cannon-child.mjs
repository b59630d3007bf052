/**
 * One autocannon run in its own process (pinned by the parent to the core the server does not
 * use). Options come as JSON in argv[2]; the result goes back over IPC. A 'stop' message ends an
 * open-ended run (the reload measurement stops when the reload has finished).
 */
import autocannon from 'autocannon'
import { createLatencyHistogram } from './stats.mjs'

const opts = JSON.parse(process.argv[2])
const latency = createLatencyHistogram()

// The promise form: with a callback, autocannon ignores `warmup`.
const instance = autocannon({
  url: opts.url,
  connections: opts.connections,
  duration: opts.duration,
  pipelining: 1,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  // A fixed cycle of bodies per connection: different numbers, callers and Call-IDs.
  requests: opts.bodies.map((body) => ({ method: 'POST', path: opts.path, body })),
  ...(opts.warmupS > 0 ? { warmup: { connections: opts.connections, duration: opts.warmupS } } : {})
})
instance.then((result) => {
  process.send({
    requests: result.requests.total,
    durationS: result.duration,
    rps: result.requests.total / result.duration,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    p50: latency.percentile(50),
    p99: latency.percentile(99),
    p999: latency.percentile(99.9),
    max: latency.max,
    count: latency.count
  }, () => process.exit(0))
}, (err) => { process.send({ error: err.message }, () => process.exit(1)) })

// autocannon keeps whole milliseconds; sub-ms percentiles need the raw times.
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode >= 200 && statusCode < 300) latency.record(responseTime)
})
process.on('message', (message) => { if (message === 'stop') instance.stop() })
process.send('started')
