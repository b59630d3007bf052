/**
 * `npm run build && node --expose-gc bench/timerec.mjs`: the per-call cost of a rule's validity in
 * time, on the built code, against an empty check measured in the same run: a time window, one
 * weekly recurrence, and a four-recurrence expression with operators over four zones; and the heap
 * growth over the timed calls (a check allocates nothing, so it stays in the noise of the loop).
 */
import { compileTimerec } from '../dist/routing/snapshot/timerec-compile.js'
import { isTimerecOpen } from '../dist/routing/snapshot/timerec-eval.js'
import { compileTimeWindow, isWindowOpen } from '../dist/routing/snapshot/time-window.js'

const CALLS = 3_000_000
const compiled = (text) => {
  const c = compileTimerec(text)
  if (c === null || typeof c === 'string') throw new Error(`${text}: ${c}`)
  return c
}
const cases = [
  ['empty check (baseline)', () => true, null],
  ['time_window: London weekdays 09-17 from a date', isWindowOpen, compileTimeWindow({ timezone: 'Europe/London', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }], from: '2024-01-01' })],
  ['timerec: one weekly recurrence', isTimerecOpen, compiled('Europe/London|20240101T090000||pt8h|weekly|||MO,TU,WE,TH,FR')],
  ['timerec: 4 recurrences, & / !, 4 zones', isTimerecOpen, compiled('America/New_York|20210104T090000|20210104T170000||WEEKLY|||MO,TU,WE,TH,FR & !(Europe/Amsterdam|20210427T000000|20210428T000000 / Europe/London|20211227T000000|20211228T000000 / Europe/Bucharest|20201225T000000|20201226T000000||yearly||||25|||12)')]
]

function run (check, value, n) {
  let now = Date.parse('2026-01-14T15:00:00Z')
  let open = 0
  for (let i = 0; i < n; i++) {
    now += 997
    if (check(value, now)) open++
  }
  return open
}

for (const [name, check, value] of cases) {
  run(check, value, CALLS / 10)
  globalThis.gc?.()
  const heap = process.memoryUsage().heapUsed
  const started = performance.now()
  run(check, value, CALLS)
  const ns = (performance.now() - started) * 1e6 / CALLS
  const grown = (process.memoryUsage().heapUsed - heap) / 1024
  console.log(`${name.padEnd(48)} ${ns.toFixed(0).padStart(5)} ns/call   heap +${grown.toFixed(0)} KiB over ${CALLS / 1e6}M calls`)
}
