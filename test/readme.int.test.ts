/**
 * The README's curl examples work against `npm start` as written: this starts the built service
 * on a fresh embedded database (demo seeded) and runs every `curl` line of the README's sh blocks,
 * in order. A comment `# NNN` before a line expects that status; `# NNN: {json}` also that body.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../src/embedded-postgres.js'
import { PACKAGE_ROOT } from '../src/paths.js'
import { runCli, type RunningCli } from './helpers/process.js'

const run = promisify(execFile)

interface Example { command: string, status?: number, body?: unknown }

function examples (markdown: string): Example[] {
  const out: Example[] = []
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    let expected: Pick<Example, 'status' | 'body'> = {}
    for (const line of (block[1] ?? '').split('\n')) {
      const comment = /^# (\d{3})(?::\s*(.*))?$/.exec(line)
      if (comment !== null) {
        expected = { status: Number(comment[1]), ...(comment[2] === undefined || !comment[2].startsWith('{') ? {} : { body: JSON.parse(comment[2]) }) }
      } else if (line.startsWith('curl ')) {
        out.push({ command: line, ...expected })
        expected = {}
      }
    }
  }
  return out
}

let tmp: string
let port: number
let service: RunningCli

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rtroute-readme-'))
  await chmod(tmp, 0o755)
  port = await freePort()
  service = runCli(['serve'], { RTROUTE_DATA_DIR: path.join(tmp, 'data'), PORT: String(port), HOST: '127.0.0.1' })
  await service.waitFor(/partition default loaded/, 30_000)
}, 60_000)
afterAll(async () => {
  service.child.kill('SIGTERM')
  await service.exited
  await rm(tmp, { recursive: true, force: true })
})

describe('README curl examples', () => {
  it('every one answers as the README says', async () => {
    const readme = await readFile(path.join(PACKAGE_ROOT, 'README.md'), 'utf8')
    const list = examples(readme)
    expect(list.length).toBeGreaterThan(15)
    for (const example of list) {
      const command = example.command.replaceAll('localhost:8080', `127.0.0.1:${port}`).replace(/^curl /, `curl -D ${path.join(tmp, 'headers')} `)
      const { stdout } = await run('sh', ['-c', command], { cwd: tmp })
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(await readFile(path.join(tmp, 'headers'), 'utf8'))?.[1])
      if (example.status === undefined) expect(status, example.command).toBeLessThan(400)
      else expect(status, example.command).toBe(example.status)
      if (example.body !== undefined) expect(JSON.parse(stdout), example.command).toEqual(example.body)
    }
  })
})
