/**
 * Preloaded (`node --import`) into a server under test. The first SIGUSR2 starts watching the
 * event loop, the next one writes what it saw to $BENCH_LOOP_FILE: the longest gap between two
 * 1 ms ticks, and how much of the worst gap the main thread spent on the CPU. On a shared
 * machine a gap can also be time the OS did not run the process at all; the CPU share tells a
 * real event-loop block (the thread was busy) from that.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

const file = process.env.BENCH_LOOP_FILE
const statPath = `/proc/self/task/${process.pid}/stat`

/** CPU time of the main thread, in ms (clock ticks of 10 ms). */
function mainThreadCpuMs () {
  const stat = readFileSync(statPath, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

let timer
let last = 0
let lastCpu = 0
let worst = { gapMs: 0, busyMs: 0 }
let worstBusy = 0

function tick () {
  const now = performance.now()
  const cpu = mainThreadCpuMs()
  const gap = now - last
  const busy = Math.min(gap, cpu - lastCpu)
  if (gap > worst.gapMs) worst = { gapMs: gap, busyMs: busy }
  if (gap > 5 && busy > worstBusy) worstBusy = busy
  last = now
  lastCpu = cpu
}

if (file !== undefined) {
  process.on('SIGUSR2', () => {
    if (timer === undefined) {
      worst = { gapMs: 0, busyMs: 0 }
      worstBusy = 0
      last = performance.now()
      lastCpu = mainThreadCpuMs()
      timer = setInterval(tick, 1)
      writeFileSync(file, '')
    } else {
      clearInterval(timer)
      timer = undefined
      tick()
      writeFileSync(file, JSON.stringify({ maxGapMs: worst.gapMs, busyInMaxGapMs: worst.busyMs, maxBusyGapMs: worstBusy }))
    }
  })
}
