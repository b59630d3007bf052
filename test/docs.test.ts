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

  it('gives the test command that CI runs', () => {
    expect(readme).toContain('npm install && npm test')
    expect(ci).toMatch(/^npm test$/m)
  })
})
