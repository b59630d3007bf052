/**
 * The embedded PostgreSQL of `serve`, with the built CLI as a real child process on its own temp
 * data directory: `import` and `export` next to it attach to its PostgreSQL and say so; a second
 * `serve` on the same directory is refused, naming the first one's PID; and its postmaster
 * SIGKILLed under routing, feedback, call events and admin writes is restarted (readiness off,
 * then on), with no failed routing answer and every accepted event counted in the database.
 */
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '../../src/db.js'
import { freePort } from '../../src/embedded-postgres.js'
import { CLI, runCli, type RunningCli } from '../helpers/process.js'
import { until } from '../helpers/until.js'
import { count, describeTally, request } from './helpers/load.js'

let tmp: string
let dataDir: string
let pgDir: string
let service: RunningCli
let url: string
const others: RunningCli[] = []

/** Calls per second, each a routing query, a failover feedback and the call's start (and every other one its end). */
const CALLS_PER_S = 20
const DATA = {
  partition: { settings: { down_after_failures: 1000, failure_window_ms: 86_400_000 } },
  gateways: ['a', 'b', 'c'].map((id, i) => ({ id, address: `10.0.0.${i + 1}:5060`, max_calls: 100_000 })),
  carriers: [],
  rules: [{ groups: ['default'], id: 1, prefix: '44', targets: [{ gateway: 'a' }, { gateway: 'b' }, { gateway: 'c' }] }],
  caller_groups: []
}

/** PID and port of the postmaster running in our own temp data directory, from its postmaster.pid. */
async function postmaster (): Promise<{ pid: number, port: number } | undefined> {
  const lines = (await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined
  return { pid, port }
}
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const json = async (method: string, where: string, body?: unknown): Promise<{ status: number, body: any }> => {
  const answer = await request(url, method, where, body)
  return { status: answer.status, body: JSON.parse(answer.body) }
}
const readyz = async (): Promise<number> => await request(url, 'GET', '/readyz').then((r) => r.status, () => 0)

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`)
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rtroute-embedded-'))
  // As root PostgreSQL runs as user postgres, which must reach into the folder.
  await chmod(tmp, 0o755)
  dataDir = path.join(tmp, 'data')
  pgDir = path.join(dataDir, 'pg')
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  service = runCli(['serve', '--no-demo'], {
    RTROUTE_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    RTROUTE_PROBING: 'false',
    // The partition it loads is the default one: readiness waits for it.
    RTROUTE_PARTITION: 'p',
    RTROUTE_RELOAD_DEBOUNCE_MS: '20',
    RTROUTE_DB_RETRY_MIN_MS: '50',
    RTROUTE_DB_RETRY_MAX_MS: '1000',
    RTROUTE_DB_HEALTH_INTERVAL_MS: '500',
    RTROUTE_DB_QUERY_TIMEOUT_MS: '5000'
  })
  await service.waitFor(/connected to database/, 60_000)
  expect((await json('PUT', '/v1/partitions/p/data', DATA)).status).toBe(201)
  await until(async () => await json('POST', '/kamailio/rtjson', { call_id: 'probe', request_uri: 'sip:4420@sbc', partition: 'p' }),
    (r) => r.body.rtjson?.success === true, 10_000)
}, 90_000)

afterAll(async () => {
  for (const other of others) if (other.child.exitCode === null && other.child.signalCode === null) other.child.kill('SIGKILL')
  if (service !== undefined) {
    service.child.kill('SIGTERM')
    const code = await Promise.race([service.exited, new Promise((resolve) => setTimeout(() => { resolve('still running') }, 15_000))])
    if (code === 'still running') service.child.kill('SIGKILL')
  }
  // Whatever our serve left behind in our own data directory (it was killed, say).
  const left = pgDir === undefined ? undefined : await postmaster()
  if (left !== undefined) process.kill(left.pid, 'SIGINT')
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true })
}, 60_000)

describe('next to a running serve', () => {
  it('import and export attach to its PostgreSQL, say so, and start no second server', async () => {
    const before = await postmaster()
    expect(before).toBeDefined()
    const file = path.join(tmp, 'p.json')
    const exported = runCli(['export', '-P', 'p', '-o', file, '--data-dir', dataDir])
    expect(await exported.exited).toBe(0)
    const attached = new RegExp(`attached to the embedded PostgreSQL of rtroute serve \\(PID ${service.child.pid ?? 0}\\)`)
    expect(exported.output()).toMatch(attached)
    expect(exported.output()).not.toMatch(/embedded PostgreSQL (started|initialised)|starting an embedded PostgreSQL/)

    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), rules: [] }))
    const imported = runCli(['import', file, '-P', 'copy', '--data-dir', dataDir])
    expect(await imported.exited).toBe(0)
    expect(imported.output()).toMatch(attached)
    expect(imported.output()).toMatch(/created partition "copy"/)
    const migrated = runCli(['migrate', '--data-dir', dataDir])
    expect(await migrated.exited).toBe(0)
    expect(migrated.output()).toMatch(attached)

    // The very same server and database: serve sees the import, and its postmaster is the one from before.
    expect((await json('GET', '/v1/partitions/copy/gateways')).body.items).toHaveLength(3)
    expect(await postmaster()).toEqual(before)
    console.log(`[embedded-pg] export, import and migrate next to serve (PID ${service.child.pid ?? 0}): ${exported.output().split('\n').find((l) => attached.test(l)) ?? ''}`)
  }, 60_000)

  it('a second serve on the same data directory exits non-zero naming the first one\'s PID', async () => {
    const second = runCli(['serve'], { RTROUTE_DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1' })
    others.push(second)
    const code = await Promise.race([second.exited, new Promise((resolve) => setTimeout(() => { resolve('still running') }, 20_000))])
    const message = second.output().split('\n').find((line) => line.includes('in use')) ?? second.output().slice(-500)
    console.log(`[embedded-pg] second serve on the same data directory: exit code ${String(code)}: ${message}`)
    expect(code).not.toBe('still running')
    expect(code).not.toBe(0)
    expect(second.output()).toContain(`${pgDir} is in use by rtroute serve (PID ${service.child.pid ?? 0})`)
    expect(second.output()).not.toMatch(/embedded PostgreSQL (started|initialised)/)
    expect(await readyz()).toBe(200)
  }, 40_000)
})

describe('embedded postmaster SIGKILLed under load', () => {
  it('is restarted: readiness off then on, every routing query answered, nothing accepted lost', async () => {
    const answers: Record<string, number> = {}
    const failed: string[] = []
    const accepted = { feedback: 0, started: new Set<string>(), ended: new Set<string>(), gateways: new Set<string>(), groups: new Set<string>(), subscriptions: new Set<string>() }
    /** The state of gateway c as the last accepted admin write set it. */
    let stateOfC = 'active'
    const admin: Record<string, number> = {}
    const readiness: Array<{ at: number, status: number }> = []
    let running = true

    const call = async (n: number): Promise<void> => {
      const callId = `kill-${n}`
      try {
        const routed = await json('POST', '/kamailio/rtjson', { call_id: callId, request_uri: 'sip:4420718@sbc.example.com', partition: 'p' })
        const ok = routed.status === 200 && routed.body.rtjson.success === true
        count(answers, ok ? '200 routed' : `${routed.status} ${String(routed.body.rtjson?.reason)}`)
        if (!ok) return
        const [first, second] = (routed.body.rtjson.routes as Array<{ gateway: string }>).map((r) => r.gateway)
        const fb = await json('POST', '/kamailio/feedback', { call_id: callId, partition: 'p', gateway: first, code: 503 })
        if (fb.status === 202 && fb.body.counted === 'failure') accepted.feedback++
        else failed.push(`feedback ${fb.status}`)
        const start = await json('POST', '/kamailio/calls', { event: 'start', call_id: callId, partition: 'p', gateway: second })
        if (start.status === 202) accepted.started.add(callId)
        else failed.push(`start ${start.status}`)
        if (n % 2 === 0) {
          const end = await json('POST', '/kamailio/calls', { event: 'end', call_id: callId, partition: 'p' })
          if (end.status === 202) accepted.ended.add(callId)
          else failed.push(`end ${end.status}`)
        }
      } catch (err) {
        failed.push(`call ${n}: ${(err as Error).message}`)
      }
    }
    const calls: Array<Promise<void>> = []
    const load = (async () => {
      for (let n = 0; running; n++) {
        calls.push(call(n))
        await new Promise((resolve) => setTimeout(resolve, 1000 / CALLS_PER_S))
      }
    })()
    // Admin writes go to the database first: each answer is a 2xx (and it is there afterwards) or a 503.
    const writes: Array<(n: number) => Promise<string>> = [
      async (n) => {
        const answer = await json('POST', '/v1/partitions/p/gateways', { id: `w${n}`, address: `10.9.${Math.floor(n / 250)}.${n % 250}:5060` })
        if (answer.status === 201) accepted.gateways.add(`w${n}`)
        return `gateway ${answer.status}`
      },
      async (n) => {
        const state = Math.floor(n / 4) % 2 === 0 ? 'disabled' : 'active'
        const answer = await json('PUT', '/v1/partitions/p/gateways/c/state', { state, reason: `w${n}` })
        if (answer.status === 200) stateOfC = state
        return `state ${answer.status}`
      },
      async (n) => {
        const answer = await json('PUT', `/v1/status/ext${n}`, { required: false })
        if (answer.status === 201) accepted.groups.add(`ext${n}`)
        return `group ${answer.status}`
      },
      async (n) => {
        const answer = await json('POST', '/v1/subscriptions', { url: 'http://127.0.0.1:9/hook', events: ['E_GATEWAY_STATUS'], secret: 'embedded-pg-test-secret', description: `w${n}` })
        if (answer.status === 201) accepted.subscriptions.add(`w${n}`)
        return `subscription ${answer.status}`
      }
    ]
    const writer = (async () => {
      for (let n = 0; running; n++) {
        count(admin, await (writes[n % writes.length] as (n: number) => Promise<string>)(n).catch((err: unknown) => `error ${(err as Error).message}`))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    const poller = (async () => {
      while (running) {
        const status = await readyz()
        if (readiness.at(-1)?.status !== status) readiness.push({ at: Date.now(), status })
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()

    await new Promise((resolve) => setTimeout(resolve, 3000))
    const victim = await postmaster()
    expect(victim).toBeDefined()
    const killedAt = Date.now()
    process.kill(victim?.pid ?? 0, 'SIGKILL')
    const down = await until(async () => readiness.find((r) => r.at >= killedAt && r.status === 503), (r) => r !== undefined, 10_000)
    const up = await until(async () => readiness.find((r) => r.at > (down?.at ?? Infinity) && r.status === 200), (r) => r !== undefined, 30_000)
    const restarted = await postmaster()
    console.log(`[embedded-pg] /readyz after the SIGKILL: ${readiness.filter((r) => r.at >= killedAt - 1000).map((r) => `${r.status} at ${r.at - killedAt} ms`).join(', ')}`)
    // Stop the load before an assertion can fail, or it would outlive the test.
    if (down === undefined || up === undefined) running = false
    expect(down).toBeDefined()
    expect(up).toBeDefined()
    // Load goes on a while after the restart: what was queued during the outage is written meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    running = false
    await Promise.all([load, writer, poller])
    await Promise.all(calls)

    let db: Db | undefined
    try {
      const password = (await readFile(`${pgDir}.password`, 'utf8')).trim()
      db = createDb({ url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${restarted?.port ?? 0}/rtroute`, poolMax: 1, onPoolError: () => {} })
      const kysely = db.kysely
      const stored = async (): Promise<{ failures: number, started: number, ended: number, admin: number, stateOfC: string }> => {
        const a = await kysely.selectFrom('gateway_state').select(sql<number>`cardinality(failures)`.as('n'))
          .where('partition', '=', 'p').where('gw_id', '=', 'a').executeTakeFirst()
        const rows = await kysely.selectFrom('call_lease').select(['call_id', 'state']).where('partition', '=', 'p').execute()
        const state = new Map(rows.map((r) => [r.call_id, r.state]))
        const gateways = new Set((await kysely.selectFrom('gateway').innerJoin('partition', 'partition.id', 'gateway.partition_id')
          .select('gateway.gw_id').where('partition.name', '=', 'p').execute()).map((r) => r.gw_id))
        const groups = new Set((await kysely.selectFrom('status_group').select('name').execute()).map((r) => r.name))
        const subscriptions = new Set((await sql<{ description: string }>`SELECT description FROM subscription`.execute(kysely)).rows.map((r) => r.description))
        const c = await kysely.selectFrom('gateway_state').select('state').where('partition', '=', 'p').where('gw_id', '=', 'c').executeTakeFirst()
        return {
          failures: Number(a?.n ?? 0),
          started: [...accepted.started].filter((id) => state.get(id) === 'call' || state.get(id) === 'ended').length,
          ended: [...accepted.ended].filter((id) => state.get(id) === 'ended').length,
          admin: [...accepted.gateways].filter((id) => gateways.has(id)).length + [...accepted.groups].filter((name) => groups.has(name)).length +
            [...accepted.subscriptions].filter((description) => subscriptions.has(description)).length,
          stateOfC: c?.state ?? 'active'
        }
      }
      const inDb = await until(stored, (s) => s.failures >= accepted.feedback && s.started === accepted.started.size && s.ended === accepted.ended.size, 20_000, 200)
      const acceptedAdmin = accepted.gateways.size + accepted.groups.size + accepted.subscriptions.size
      const lost = (accepted.feedback - Math.min(inDb.failures, accepted.feedback)) + (accepted.started.size - inDb.started) + (accepted.ended.size - inDb.ended) + (acceptedAdmin - inDb.admin)
      const seconds = (((up?.at ?? 0) - killedAt) / 1000).toFixed(1)
      console.log(`[embedded-pg] postmaster PID ${victim?.pid ?? 0} SIGKILLed under ${CALLS_PER_S} calls/s (routing + feedback + call events) and an admin write every 100 ms: ` +
        `/readyz 503 after ${(down?.at ?? 0) - killedAt} ms, 200 again after ${seconds} s (new PID ${restarted?.pid ?? 0}); ` +
        `routing answers ${describeTally(answers)}; other failures ${failed.length === 0 ? 'none' : failed.slice(0, 5).join(', ')}; ` +
        `accepted and counted in the database: feedback ${accepted.feedback}/${inDb.failures}, call starts ${accepted.started.size}/${inDb.started}, ends ${accepted.ended.size}/${inDb.ended}, ` +
        `admin writes kept ${acceptedAdmin}/${inDb.admin}, gateway c ${stateOfC}/${inDb.stateOfC} (admin answers ${describeTally(admin)}); lost ${lost}`)
      const said = service.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string, attempts?: number })
        .filter((line) => /embedded PostgreSQL .*(exited|restart)/.test(line.msg)).map((line) => `${line.msg}${line.attempts === undefined ? '' : ` (attempt ${line.attempts})`}`)
      console.log(`[embedded-pg] serve logged: ${said.join(' | ')}`)
      if (readiness.length < 3) console.log(`[embedded-pg] the CLI's last lines:\n${service.output().split('\n').slice(-20).join('\n')}`)

      expect((up?.at ?? Infinity) - killedAt).toBeLessThan(15_000)
      expect(restarted?.pid).not.toBe(victim?.pid)
      expect(Object.keys(answers)).toEqual(['200 routed'])
      expect(failed).toEqual([])
      expect(inDb.failures).toBeGreaterThanOrEqual(accepted.feedback)
      expect(inDb.started).toBe(accepted.started.size)
      expect(inDb.ended).toBe(accepted.ended.size)
      expect(inDb.admin).toBe(acceptedAdmin)
      expect(inDb.stateOfC).toBe(stateOfC)
      expect(Object.keys(admin).filter((answer) => !/ (2\d\d|503)$/.test(answer))).toEqual([])
      expect(Object.keys(admin).filter((answer) => answer.endsWith(' 503')).length).toBeGreaterThan(0)
      expect(service.output()).toMatch(/embedded PostgreSQL .*exited/)
      expect(service.output()).toMatch(/embedded PostgreSQL restarted/)
      expect((await json('GET', '/v1/status/db/embedded')).body).toMatchObject({ status: 1 })
    } finally {
      await db?.close()
    }
  }, 120_000)
})
