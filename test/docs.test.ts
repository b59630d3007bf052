/** The README is part of the contract: its configuration table and test command must match the code. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFIG_VARS } from '../src/config.js'
import type { VarSpec } from '../src/env-vars.js'
import { PACKAGE_ROOT } from '../src/paths.js'

const readme = readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8')
const ci = readFileSync(path.join(PACKAGE_ROOT, '.ci', 'run'), 'utf8')

/** A README row as the settings tables say it: an absent default is written `(unset)`, without backticks. */
const row = (v: VarSpec): string => `| \`${v.name}\` | ${v.default.startsWith('(') ? v.default : `\`${v.default}\``} | ${v.help} |`

/** The rows of the table under "## Configuration", in order. */
function readmeRows (): string[] {
  const lines = readme.split('\n')
  const header = lines.indexOf('| variable | default | meaning |', lines.indexOf('## Configuration'))
  const rows: string[] = []
  for (let i = header + 2; header >= 0 && lines[i]?.startsWith('|') === true; i++) rows.push(lines[i] as string)
  return rows
}

describe('README', () => {
  it('documents every variable, row for row, as the settings tables declare it', () => {
    expect(readmeRows()).toEqual(CONFIG_VARS.map(row))
  })

  it('declares each variable once', () => {
    const names = CONFIG_VARS.map((v) => v.name)
    expect(new Set(names).size).toBe(names.length)
  })

  it('names the CLI as it runs after npm install: npx rtroute, never a bare rtroute (not on PATH)', () => {
    const bare: string[] = []
    for (const part of readme.split(/(```[a-z]*\n[\s\S]*?```)/)) {
      const fence = /^```([a-z]*)\n([\s\S]*?)```$/.exec(part)
      // A fence without a language is a synopsis (The CLI), not a command to type.
      if (fence === null) bare.push(...[...part.matchAll(/`(rtroute (?:serve|migrate|import|export|route|-)[^`]*)`/g)].map((m) => m[1] ?? ''))
      else if (fence[1] === 'sh') bare.push(...(fence[2] ?? '').split('\n').filter((line) => /^(\S+=\S+ )*rtroute /.test(line)))
      else if (fence[1] === 'console') bare.push(...(fence[2] ?? '').split('\n').filter((line) => /^\$ (\S+=\S+ )*rtroute /.test(line)))
    }
    expect(bare).toEqual([])
  })

  it('gives the test command that CI runs', () => {
    expect(readme).toContain('npm install && npm test')
    expect(ci).toMatch(/^npm test$/m)
  })
})
