import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { acquireLock, lockHolder, processStartTime } from '../src/data-dir-lock.js'

let dir: string
let file: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtroute-lock-'))
  file = path.join(dir, 'pg.lock')
})
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

/** A PID that existed and is gone: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid ?? 0

describe('the data directory lock', () => {
  it('is taken once: a second taker is told the holder, until it is released', async () => {
    const first = await acquireLock(file, 'rtroute serve')
    expect(first.acquired).toBe(true)
    expect(await acquireLock(file, 'rtroute serve')).toEqual({ acquired: false, holder: { pid: process.pid, command: 'rtroute serve' } })
    expect(await lockHolder(file)).toEqual({ pid: process.pid, command: 'rtroute serve' })
    if (first.acquired) first.release()
    expect(existsSync(file)).toBe(false)
    expect(await lockHolder(file)).toBeUndefined()
  })

  it('takes over a lock whose process is gone', async () => {
    await writeFile(file, JSON.stringify({ pid: deadPid(), command: 'rtroute serve', start: null }))
    const taken = await acquireLock(file, 'rtroute import')
    expect(taken.acquired).toBe(true)
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'rtroute import' })
  })

  it('takes over a lock whose PID now belongs to another process (a restart reused it)', async () => {
    if (processStartTime(process.pid) === null) return
    await writeFile(file, JSON.stringify({ pid: process.pid, command: 'rtroute serve', start: '1' }))
    expect((await acquireLock(file, 'rtroute serve')).acquired).toBe(true)
  })

  it('release leaves a lock that another process took alone', async () => {
    const taken = await acquireLock(file, 'rtroute serve')
    await writeFile(file, JSON.stringify({ pid: 1, command: 'rtroute serve', start: null }))
    if (taken.acquired) taken.release()
    expect(existsSync(file)).toBe(true)
  })
})
