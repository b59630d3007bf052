import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_VARS } from '../src/config.js'
import { freePort } from '../src/embedded-postgres.js'
import { CLI, runCli } from './helpers/process.js'
import { createTestDatabase } from './helpers/pg.js'
import { startTestServer } from './helpers/test-server.js'
import { until } from './helpers/until.js'

let tmp: string
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`)
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rtroute-cli-'))
  await chmod(tmp, 0o755)
})
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

describe('rtroute --help', () => {
  it('lists every command, option and environment variable', async () => {
    const cli = runCli(['--help'])
    expect(await cli.exited).toBe(0)
    for (const word of ['serve', 'migrate', '--port', '--database-url', '--data-dir', '--no-demo']) expect(cli.output()).toContain(word)
    for (const v of CONFIG_VARS) expect(cli.output()).toContain(v.name)
  })

  it('refuses an unknown command or flag with a usage error', async () => {
    expect(await runCli(['fly']).exited).toBe(64)
    expect(await runCli(['serve', '--colour']).exited).toBe(64)
  })
})

describe('rtroute serve', () => {
  it('exits non-zero naming a bad PORT', async () => {
    const cli = runCli(['serve'], { PORT: 'abc' })
    expect(await cli.exited).toBe(78)
    expect(cli.output()).toContain('PORT="abc": expected an integer from 0 to 65535')
  })

  it('runs on an embedded PostgreSQL, stops cleanly on SIGINT, and reuses its data on restart', async () => {
    const env = { RTROUTE_DATA_DIR: path.join(tmp, 'data'), PORT: String(await freePort()), HOST: '127.0.0.1' }
    const first = runCli(['serve'], env)
    const started = await first.waitFor(/rtroute listening on (http:\/\/\S+)"/)
    expect(started).toContain('embedded PostgreSQL initialised')
    expect(started).toContain(path.join(tmp, 'data', 'pg'))
    const url = /rtroute listening on (http:\/\/[^"\s]+)/.exec(started)?.[1] ?? ''
    expect((await fetch(`${url}/livez`)).status).toBe(200)
    await first.waitFor(/connected to database/)
    expect(first.output()).toMatch(/seeded the demo partition .*default/)
    const demo = await (await fetch(`${url}/v1/partitions/default/data`)).json() as { gateways: unknown[], rules: unknown[] }
    expect([demo.gateways.length, demo.rules.length]).toEqual([3, 4])
    first.child.kill('SIGINT')
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain('embedded PostgreSQL stopped')

    const second = runCli(['serve'], env)
    const again = await second.waitFor(/connected to database/)
    expect(again).toContain('embedded PostgreSQL started')
    expect(again).not.toContain('embedded PostgreSQL initialised')
    expect(again).not.toContain('seeded the demo partition')
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })

  it('keeps running and logs its retries while the database is unreachable', async () => {
    const port = String(await freePort())
    const cli = runCli(['serve'], { DATABASE_URL: 'postgres://127.0.0.1:1/x', PORT: port, HOST: '127.0.0.1', RTROUTE_DB_RETRY_MAX_MS: '300' })
    await cli.waitFor(/unreachable, retrying[\s\S]*unreachable, retrying[\s\S]*unreachable, retrying/)
    expect(cli.child.exitCode).toBeNull()
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`)
    expect(readyz.status).toBe(503)
    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
  })
})

describe('rtroute import and export', () => {
  it('imports all or nothing, dry-runs, and exports the same document back', async () => {
    const t = await createTestDatabase({ migrate: false })
    const file = path.join(tmp, 'data.json')
    try {
      const { DEMO_DATA } = await import('../src/routing/admin/demo.js')
      await writeFile(file, JSON.stringify(DEMO_DATA))
      const dry = runCli(['import', file, '--partition', 'p1', '--dry-run', '--database-url', t.url])
      expect(await dry.exited).toBe(0)
      expect(JSON.parse(dry.stdout())).toMatchObject({ partition: 'p1', valid: true, summary: 'gateways +3 ~0 -0, carriers +1 ~0 -0, rules +4 ~0 -0, caller_groups +0 ~0 -0' })

      const real = runCli(['import', file, '-P', 'p1'], { DATABASE_URL: t.url })
      expect(await real.exited).toBe(0)
      expect(real.output()).toMatch(/created partition "p1" \(data version \d+\): gateways \+3/)

      const out = path.join(tmp, 'export.json')
      const exported = runCli(['export', '-P', 'p1', '-o', out], { DATABASE_URL: t.url })
      expect(await exported.exited).toBe(0)
      const again = runCli(['import', out, '-P', 'p1'], { DATABASE_URL: t.url })
      expect(await again.exited).toBe(0)
      expect(again.output()).toContain('replaced partition "p1"')
      expect(again.output()).toContain('gateways +0 ~0 -0, carriers +0 ~0 -0, rules +0 ~0 -0')

      await writeFile(file, JSON.stringify({ gateways: [{ id: 'a', address: '10.0.0.1' }, { id: 'b', address: 'sip:bad host' }] }))
      const bad = runCli(['import', file, '-P', 'p1'], { DATABASE_URL: t.url })
      expect(await bad.exited).toBe(1)
      expect(bad.output()).toContain('gateways[1].address: "sip:bad host" is not a SIP URI or host[:port]')
      expect(bad.output()).toContain('nothing was written')

      const stdout = runCli(['export', '--partition', 'p1', '--database-url', t.url])
      expect(await stdout.exited).toBe(0)
      expect(JSON.parse(stdout.stdout())).toEqual(JSON.parse(await readFile(out, 'utf8')))
      expect(await runCli(['export', '-P', 'missing', '--database-url', t.url]).exited).toBe(1)
    } finally {
      await t.drop()
    }
  })
})

describe('rtroute export and GET /v1/partitions/:partition/data', () => {
  it('write the same bytes', async () => {
    const running = await startTestServer({ RTROUTE_PROBING: 'false' })
    try {
      await until(async () => running.server.registry.readiness().ready, (ok) => ok)
      const { DEMO_DATA } = await import('../src/routing/admin/demo.js')
      const url = `${running.server.url}/v1/partitions/p1/data`
      const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(DEMO_DATA) })
      expect(put.status).toBe(201)
      const res = await fetch(url)
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      const http = Buffer.from(await res.arrayBuffer())
      expect(JSON.parse(http.toString('utf8'))).toMatchObject({ gateways: (DEMO_DATA.gateways ?? []).map((g) => ({ id: g.id })) })

      const stdout = runCli(['export', '-P', 'p1', '--database-url', running.database.url, '--log-level', 'silent'])
      expect(await stdout.exited).toBe(0)
      expect(Buffer.from(stdout.stdout(), 'utf8').equals(http), `stdout:\n${stdout.stdout()}\nHTTP:\n${http.toString('utf8')}`).toBe(true)
      const file = path.join(tmp, 'same-bytes.json')
      const toFile = runCli(['export', '-P', 'p1', '-o', file], { DATABASE_URL: running.database.url })
      expect(await toFile.exited).toBe(0)
      expect((await readFile(file)).equals(http)).toBe(true)
    } finally {
      await running.close()
    }
  })
})

describe('rtroute import: no silent wipe', () => {
  it('refuses a document that would wipe the partition (exit 1, nothing written), dry run or not, unless --allow-empty', async () => {
    const t = await createTestDatabase()
    const file = path.join(tmp, 'empty.json')
    const env = { DATABASE_URL: t.url }
    try {
      const { DEMO_DATA } = await import('../src/routing/admin/demo.js')
      await writeFile(path.join(tmp, 'demo.json'), JSON.stringify(DEMO_DATA))
      expect(await runCli(['import', path.join(tmp, 'demo.json'), '-P', 'p1'], env).exited).toBe(0)
      const exportOf = async (): Promise<string> => { const cli = runCli(['export', '-P', 'p1'], env); await cli.exited; return cli.stdout() }
      const before = await exportOf()

      await writeFile(file, '{}')
      const refused = runCli(['import', file, '-P', 'p1'], env)
      expect(await refused.exited).toBe(1)
      expect(refused.output()).toContain('would_wipe: the document has no "partition", "gateways", "carriers", "rules", "caller_groups" section')
      const dry = runCli(['import', file, '-P', 'p1', '--dry-run'], env)
      expect(await dry.exited).toBe(1)
      expect(JSON.parse(dry.stdout())).toMatchObject({ valid: true, refused: { error: 'would_wipe' } })
      expect(await exportOf()).toBe(before)

      await writeFile(file, JSON.stringify({ partition: {}, gateways: [], carriers: [], rules: [], caller_groups: [] }))
      const empty = runCli(['import', file, '-P', 'p1'], env)
      expect(await empty.exited).toBe(1)
      expect(empty.output()).toContain('would empty partition "p1"')
      expect(await exportOf()).toBe(before)
      const allowed = runCli(['import', file, '-P', 'p1', '--allow-empty'], env)
      expect(await allowed.exited).toBe(0)
      expect(allowed.output()).toContain('gateways +0 ~0 -3')
      expect(JSON.parse(await exportOf())).toMatchObject({ gateways: [], rules: [] })
    } finally {
      await t.drop()
    }
  })
})

describe('rtroute migrate', () => {
  it('applies migrations once, then reports the database up to date', async () => {
    const t = await createTestDatabase({ migrate: false })
    try {
      const first = runCli(['migrate', '--database-url', t.url])
      expect(await first.exited).toBe(0)
      expect(first.output()).toContain('migration 0001_status_group: Success')
      const second = runCli(['migrate'], { DATABASE_URL: t.url })
      expect(await second.exited).toBe(0)
      expect(second.output()).toContain('is up to date')
      expect(second.output()).not.toMatch(/postgres:\/\/[^:]+:[^*@][^@]*@/)
    } finally {
      await t.drop()
    }
  })
})
