/** Runs the built `rtroute` binary as a real child process and watches what it prints. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { PACKAGE_ROOT } from '../../src/paths.js'

export const CLI = path.join(PACKAGE_ROOT, 'dist', 'cli.js')

export interface RunningCli {
  readonly child: ChildProcess
  /** Everything printed so far, stdout and stderr interleaved. */
  output: () => string
  /** Standard output alone (the data of `export`). */
  stdout: () => string
  /** Resolves with the output once it matches, rejects after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  readonly exited: Promise<number | null>
}

export function runCli (args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let text = ''
  let out = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8')
    for (const waiter of waiters) waiter()
  }
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
  return {
    child,
    exited,
    output: () => text,
    stdout: () => out,
    waitFor: async (pattern, timeoutMs = 20_000) => await new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(text)) return
        cleanup()
        resolve(text)
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${pattern}; output:\n${text}`)) }, timeoutMs)
      const cleanup = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      void exited.then(() => { if (waiters.has(check)) { cleanup(); reject(new Error(`exited before ${pattern}; output:\n${text}`)) } })
      check()
    })
  }
}
