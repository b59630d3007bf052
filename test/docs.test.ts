/** The README is part of the contract: its configuration table and test command must match the code. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFIG_VARS } from '../src/config.js'
import { PACKAGE_ROOT } from '../src/paths.js'

const readme = readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8')
const ci = readFileSync(path.join(PACKAGE_ROOT, '.ci', 'run'), 'utf8')

describe('README', () => {
  it.each(CONFIG_VARS.map((v) => [v.name, v.default]))('documents %s with its default', (name, fallback) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
    expect(row, `README row for ${name}`).toBeDefined()
    expect(row).toContain(fallback.startsWith('(') ? fallback : `\`${fallback}\``)
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
