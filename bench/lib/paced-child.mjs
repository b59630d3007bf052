/**
 * A paced load generator, in its own process (pinned by the parent like cannon-child.mjs): a fixed
 * offered rate through N keep-alive connections, on raw sockets. autocannon's overallRate is no
 * use for this: each connection fires back to back until its budget for the second is spent, so
 * every second starts with a burst at saturation and the latencies are queueing again.
 *
 * Connection k sends its i-th request at t0 + (i·N + k) / rate: the connections take turns and the
 * server sees one request every 1/rate s. A request is timed from its scheduled instant when the
 * connection was still waiting for the previous answer then (the server's delay is counted, no
 * coordinated omission), else from when it was written (a late client timer is not the server's).
 * Options come as JSON in argv[2]; the result goes back over IPC.
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { createLatencyHistogram } from './stats.mjs'

const opts = JSON.parse(process.argv[2])
const { host, port, path, bodies, connections, rate, duration, warmupS = 1 } = opts
const requests = bodies.map((body) => Buffer.from(
  `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`))
const latency = createLatencyHistogram()
const intervalMs = 1000 / rate
const HEADER_END = Buffer.from('\r\n\r\n')

let measuring = false
let stopping = false
let t0 = 0
let sent = 0
let answered = 0
let non2xx = 0
let errors = 0
let lateSends = 0
let measureStart = 0
let measureEnd = 0

function connection (k) {
  const socket = net.connect({ host, port })
  socket.setNoDelay(true)
  let i = 0
  let buffer = Buffer.alloc(0)
  let waiting = false
  let startedAt = 0
  let counted = false
  let timer

  const due = () => t0 + (i * connections + k) * intervalMs
  const send = () => {
    timer = undefined
    if (stopping) return
    const scheduled = due()
    const now = performance.now()
    startedAt = now
    if (now - scheduled > 1) lateSends++
    counted = measuring
    waiting = true
    sent++
    socket.write(requests[(i * connections + k) % requests.length])
  }
  const next = () => {
    i++
    const scheduled = due()
    const now = performance.now()
    // Still busy with the previous answer at the scheduled time: the wait is the server's, it counts.
    if (now >= scheduled) {
      const behind = now - scheduled
      send()
      startedAt -= behind
    } else {
      timer = setTimeout(send, scheduled - now)
    }
  }

  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    for (;;) {
      const end = buffer.indexOf(HEADER_END)
      if (end < 0) return
      const head = buffer.subarray(0, end).toString('latin1')
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1])
      if (!Number.isFinite(length)) throw new Error(`answer without content-length: ${head.slice(0, 200)}`)
      if (buffer.length < end + 4 + length) return
      const status = Number(head.slice(9, 12))
      buffer = buffer.subarray(end + 4 + length)
      if (!waiting) throw new Error('an answer nobody asked for')
      waiting = false
      answered++
      if (counted) {
        if (status >= 200 && status < 300) latency.record(performance.now() - startedAt)
        else non2xx++
      }
      next()
    }
  })
  socket.on('error', () => { errors++ })
  socket.on('connect', () => { timer = setTimeout(send, Math.max(0, due() - performance.now())) })
  return { close: () => { clearTimeout(timer); socket.destroy() } }
}

t0 = performance.now() + 50
const clients = Array.from({ length: connections }, (_, k) => connection(k))
setTimeout(() => {
  measuring = true
  measureStart = performance.now()
  const sentBefore = sent
  setTimeout(() => {
    measuring = false
    measureEnd = performance.now()
    const sentIn = sent - sentBefore
    stopping = true
    // In-flight answers of the window are still recorded for a moment.
    setTimeout(() => {
      for (const c of clients) c.close()
      process.send({
        offeredRate: rate,
        sentRate: sentIn / ((measureEnd - measureStart) / 1000),
        requests: latency.count,
        answered,
        durationS: (measureEnd - measureStart) / 1000,
        errors,
        non2xx,
        lateSends,
        p50: latency.percentile(50),
        p99: latency.percentile(99),
        p999: latency.percentile(99.9),
        max: latency.max
      }, () => process.exit(0))
    }, 200)
  }, duration * 1000)
}, 50 + warmupS * 1000)
process.send('started')
