/**
 * The README's examples work against `npm start` as written: this starts the built service on a
 * fresh embedded database (demo seeded) and runs, in the README's order, every `curl` line of its
 * sh blocks and every `npx rtroute` command (sh lines, inline code, and `$ npx rtroute` lines of
 * console blocks, whose printed output must match). A comment `# NNN` before a curl line expects
 * that status; `# NNN: {json}` also that body. Commands with placeholders (`…`, `NUMBER`) are not run.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../src/embedded-postgres.js'
import { PACKAGE_ROOT } from '../src/paths.js'
import { CLI, runCli, type RunningCli } from './helpers/process.js'

const run = promisify(execFile)

interface Example { kind: 'curl' | 'cli', command: string, status?: number, body?: unknown, output?: string }

const CLI_COMMAND = /^npx rtroute /
const placeholder = (command: string): boolean => /…|\b[A-Z]{4,}\b/.test(command)

function blockExamples (lang: string, body: string): Example[] {
  const out: Example[] = []
  const lines = body.split('\n')
  if (lang === 'console') {
    lines.forEach((line, i) => {
      if (!line.startsWith('$ npx rtroute ')) return
      const next = lines.findIndex((l, j) => j > i && l.startsWith('$ '))
      out.push({ kind: 'cli', command: line.slice(2), output: lines.slice(i + 1, next === -1 ? undefined : next).join('\n').trimEnd() })
    })
    return out
  }
  if (lang !== 'sh') return out
  let expected: Pick<Example, 'status' | 'body'> = {}
  for (const line of lines) {
    const comment = /^# (\d{3})(?::\s*(.*))?$/.exec(line)
    if (comment !== null) {
      expected = { status: Number(comment[1]), ...(comment[2] === undefined || !comment[2].startsWith('{') ? {} : { body: JSON.parse(comment[2]) }) }
    } else if (line.startsWith('curl ')) {
      out.push({ kind: 'curl', command: line, ...expected })
      expected = {}
    } else if (CLI_COMMAND.test(line)) {
      out.push({ kind: 'cli', command: line })
    }
  }
  return out
}

function examples (markdown: string): Example[] {
  const out: Example[] = []
  for (const part of markdown.split(/(```[a-z]*\n[\s\S]*?```)/)) {
    const fence = /^```([a-z]*)\n([\s\S]*?)```$/.exec(part)
    if (fence !== null) out.push(...blockExamples(fence[1] ?? '', fence[2] ?? ''))
    else for (const span of part.matchAll(/`(npx rtroute [^`]+)`/g)) out.push({ kind: 'cli', command: span[1] ?? '' })
  }
  return out.filter((example) => example.kind !== 'cli' || !placeholder(example.command))
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

describe('README examples', () => {
  it('every curl and npx rtroute example answers as the README says', async () => {
    const readme = await readFile(path.join(PACKAGE_ROOT, 'README.md'), 'utf8')
    const list = examples(readme)
    expect(list.filter((e) => e.kind === 'curl').length).toBeGreaterThan(15)
    expect(list.filter((e) => e.kind === 'cli').length).toBeGreaterThan(5)
    for (const example of list) {
      if (example.kind === 'cli') {
        // The built CLI on this service's data directory; `npx rtroute` runs the same file in the checkout.
        const command = example.command.replace(CLI_COMMAND, `${process.execPath} ${CLI} `)
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, RTROUTE_DATA_DIR: path.join(tmp, 'data'), PORT: String(port), LOG_LEVEL: 'warn' }
        const { stdout } = await run('sh', ['-c', command], { cwd: tmp, env })
        if (example.output !== undefined) expect(stdout.trimEnd(), example.command).toBe(example.output)
        continue
      }
      const command = example.command.replaceAll('localhost:8080', `127.0.0.1:${port}`).replace(/^curl /, `curl -D ${path.join(tmp, 'headers')} `)
      const { stdout } = await run('sh', ['-c', command], { cwd: tmp })
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(await readFile(path.join(tmp, 'headers'), 'utf8'))?.[1])
      if (example.status === undefined) expect(status, example.command).toBeLessThan(400)
      else expect(status, example.command).toBe(example.status)
      if (example.body !== undefined) expect(JSON.parse(stdout), example.command).toEqual(example.body)
    }
  })
})
