/**
 * One rtroute per embedded data directory: a lock file beside it (`<dir>.lock`) names the process
 * that runs its PostgreSQL, with that process's start time, so that a PID reused after a crash (or
 * by a new container) is not taken for it. PostgreSQL's own postmaster.pid still keeps two servers
 * off one directory; this lock tells a second rtroute who holds it, and the tools a running
 * `serve` from a server left behind.
 */
import { readFileSync, unlinkSync } from 'node:fs'
import { open, readFile, unlink } from 'node:fs/promises'

export interface LockHolder {
  readonly pid: number
  /** What it runs, e.g. `rtroute serve`. */
  readonly command: string
}

interface LockRecord extends LockHolder {
  /** The kernel's start time of `pid`, where the system tells it (Linux /proc). */
  readonly start: string | null
}

export type LockResult =
  | { readonly acquired: true, readonly release: () => void }
  | { readonly acquired: false, readonly holder: LockHolder }

/** Field 22 of /proc/PID/stat (clock ticks after boot), or null without /proc. */
export function processStartTime (pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 2, the command name, may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

/** Whether a process exists (EPERM: it does, run by another user). */
export function processExists (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function stillHeld (record: LockRecord): boolean {
  if (!processExists(record.pid)) return false
  const start = processStartTime(record.pid)
  if (record.start !== null && start !== null) return start === record.start
  // No start times to compare: our own PID in the file is a previous life of this PID (a restarted container).
  return record.pid !== process.pid
}

async function readRecord (file: string): Promise<LockRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as Partial<LockRecord>
    if (typeof record.pid !== 'number' || !Number.isInteger(record.pid) || record.pid <= 0) return undefined
    return { pid: record.pid, command: typeof record.command === 'string' ? record.command : 'rtroute', start: typeof record.start === 'string' ? record.start : null }
  } catch {
    return undefined
  }
}

/** The lock's holder, while it lives. */
export async function lockHolder (file: string): Promise<LockHolder | undefined> {
  const record = await readRecord(file)
  return record !== undefined && stillHeld(record) ? { pid: record.pid, command: record.command } : undefined
}

/**
 * Takes the lock for this process, or says who holds it. A lock whose holder is gone is removed
 * and taken (the file is created exclusively, so of two takers only one succeeds).
 */
export async function acquireLock (file: string, command: string): Promise<LockResult> {
  const record: LockRecord = { pid: process.pid, command, start: processStartTime(process.pid) }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644)
      try {
        await handle.writeFile(`${JSON.stringify(record)}\n`)
      } finally {
        await handle.close()
      }
      return { acquired: true, release: () => { releaseLock(file, record) } }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const current = await readRecord(file)
    if (current !== undefined && stillHeld(current)) return { acquired: false, holder: { pid: current.pid, command: current.command } }
    await unlink(file).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
  }
  throw new Error(`could not take the lock ${file}`)
}

/** Synchronous, so that it also runs in a process 'exit' hook; leaves a lock someone else took alone. */
function releaseLock (file: string, record: LockRecord): void {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockRecord>
    if (current.pid === record.pid && current.start === record.start) unlinkSync(file)
  } catch {
    // Gone already, or unreadable: nothing of ours to remove.
  }
}
