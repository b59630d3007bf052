/**
 * The listen queue is rtroute's own setting, not Node's 511: a proxy opening a connection per
 * query overflowed 511 at a few hundred calls/s (README, load runs). The kernel reports a
 * listening socket's queue length as its Send-Q in `ss -ltn`.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from './helpers/test-server.js'

let t: TestServer | undefined
afterEach(async () => { await t?.close(); t = undefined })

const somaxconn = (): number => Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim())

function listenQueue (port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? ''
  // State Recv-Q Send-Q Local:Port Peer:Port
  return Number(line.trim().split(/\s+/)[2])
}

describe('RTROUTE_LISTEN_BACKLOG', () => {
  it('sets the listen queue (default 4096, capped by net.core.somaxconn)', async () => {
    t = await startTestServer({})
    const port = Number(new URL(t.server.url).port)
    expect(listenQueue(port)).toBe(Math.min(4096, somaxconn()))
  })

  it('takes the operator\'s value', async () => {
    t = await startTestServer({ RTROUTE_LISTEN_BACKLOG: '1000' })
    expect(listenQueue(Number(new URL(t.server.url).port))).toBe(Math.min(1000, somaxconn()))
  })
})
