/**
 * Child processes of the bench: servers pinned to one core, the load generator to the other,
 * every one of them ended by its own PID. CPU time is read from /proc (all threads).
 */
import { execFileSync, fork, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CANNON = fileURLToPath(new URL('./cannon-child.mjs', import.meta.url))
const PACED = fileURLToPath(new URL('./paced-child.mjs', import.meta.url))

/** Cores: the server on one, the load generator on the other (a single core: nothing pinned). */
export const SERVER_CORE = '1'
export const LOAD_CORE = '0'
const canPin = existsSync('/usr/bin/taskset') && (await import('node:os')).availableParallelism() >= 2

/** Pins a process and all its threads to a core; returns false when pinning is not possible. */
export function pin (pid, core) {
  if (!canPin) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', core, String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export const pinning = () => canPin

/** utime + stime of a process, in microseconds (clock ticks of 10 ms). */
export function cpuMicros (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

export function rssMiB (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `url` until it answers 200, or throws after `timeoutMs` (or when the child has exited). */
export async function waitFor (url, child, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode}) before answering`)
    try {
      const res = await fetch(url)
      if (res.status === 200) return
    } catch {}
    await sleep(50)
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
}

/**
 * Starts a Node script as a server child; stderr is kept (last lines) for error messages.
 * `core` pins it; undefined leaves it free.
 */
export function startNode (script, args, { env = {}, core, nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const tail = []
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') tail.push(line)
    while (tail.length > 30) tail.shift()
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  if (core !== undefined) pin(child.pid, core)
  child.tail = tail
  return child
}

/** Ends a child we started (by its PID) and waits for it to exit. */
export async function stop (child, signal = 'SIGTERM', graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(child.pid, signal)
  const timer = setTimeout(() => { if (child.exitCode === null) process.kill(child.pid, 'SIGKILL') }, graceMs)
  await exited
  clearTimeout(timer)
}

/**
 * Runs the load generator in its own pinned process. `duration` in seconds; with `untilStopped`
 * it runs until the returned `stop()` is called (at most `duration`).
 */
export function cannon ({ url, path, bodies, connections, duration, warmupS = 0 }) {
  return loadChild(CANNON, { url, path, bodies, connections, duration, warmupS })
}

/**
 * The paced load generator (lib/paced-child.mjs): `rate` requests per second in all through
 * `connections` connections, timed for `duration` seconds after `warmupS`.
 */
export function paced ({ url, path, bodies, connections, rate, duration, warmupS = 1 }) {
  const { hostname, port } = new URL(url)
  return loadChild(PACED, { host: hostname, port: Number(port), path, bodies, connections, rate, duration, warmupS })
}

function loadChild (script, options) {
  const child = fork(script, [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  pin(child.pid, LOAD_CORE)
  let started
  const ready = new Promise((resolve) => { started = resolve })
  const result = new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message === 'started') started()
      else if (message.error !== undefined) reject(new Error(`load generator: ${message.error}`))
      else resolve(message)
    })
    child.on('exit', (code) => { if (code !== 0) reject(new Error(`load generator exited ${code}`)) })
  })
  return { ready, result, stop: () => { if (child.connected) child.send('stop') } }
}
