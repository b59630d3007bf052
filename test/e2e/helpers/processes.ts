/**
 * Child processes of the end-to-end run (Kamailio and its workers, SIPp). Each gets its own
 * process group, so stopping it ends every process it forked and nothing else; whatever is
 * still running when the test process exits is killed then, even after a failed test.
 */
import { spawn, type ChildProcess } from 'node:child_process'

export interface Proc {
  readonly name: string
  readonly pid: number
  readonly child: ChildProcess
  /** The last 256 KiB of stdout and stderr, interleaved. */
  output: () => string
  readonly exited: Promise<number | null>
  /** SIGTERM to the leader, then SIGKILL to the whole group if it has not exited in `graceMs`. */
  stop: (graceMs?: number) => Promise<void>
}

const KEEP = 256 * 1024
const running = new Set<Proc>()

function killGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {}
}

const killAll = (): void => { for (const proc of running) killGroup(proc.pid, 'SIGKILL') }
process.once('exit', killAll)
// A test run stopped by a signal (Ctrl-C, a CI timeout) emits no 'exit': clean up, then die of it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal)
  })
}

export function startProcess (name: string, command: string, args: string[], options: { cwd: string, env?: NodeJS.ProcessEnv }): Proc {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`)
  const pid = child.pid
  let text = ''
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8')
    if (text.length > 2 * KEEP) text = text.slice(-KEEP)
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => { resolve(code ?? (signal === null ? null : 128)) })
    child.on('error', () => { resolve(null) })
  })
  const proc: Proc = {
    name,
    pid,
    child,
    exited,
    output: () => text.slice(-KEEP),
    stop: async (graceMs = 5000) => {
      if (child.exitCode === null && child.signalCode === null) {
        try { process.kill(pid, 'SIGTERM') } catch {}
        const timer = new Promise<'timeout'>((resolve) => { setTimeout(() => { resolve('timeout') }, graceMs).unref() })
        await Promise.race([exited, timer])
      }
      // Stragglers of the group (Kamailio workers whose leader died) go too.
      killGroup(pid, 'SIGKILL')
      await exited
      running.delete(proc)
    }
  }
  running.add(proc)
  return proc
}
