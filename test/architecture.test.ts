/**
 * The shape of src (docs/architecture.md), checked over its import graph: no file cycle anywhere,
 * the fences of src/routing and of the domain folders, module scratch only where it is allowed and
 * said, and no file over 300 lines. The checker itself is tested on small made-up graphs, so a
 * check that stopped failing would be seen.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fenceViolations, findCycles, listFiles, readImportGraph, scratchOf, type Fence } from './helpers/import-graph.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const graph = readImportGraph(ROOT, 'src')

const R = 'src/routing/'
/** The types and the lookup every folder outside routing may use; the rest of routing is for the wiring (app, server, cli). */
const ROUTING_FACES = [`${R}routing-data.schema.ts`, `${R}validate-data.ts`, `${R}snapshot/compiled.ts`, `${R}snapshot/route-tables.ts`, `${R}decide/decision.ts`]

export const FENCES: readonly Fence[] = [
  { from: `${R}snapshot/`, never: [`${R}decide/`, `${R}admin/`], why: 'snapshot/ imports only the routing root and shared utilities' },
  { from: `${R}decide/`, never: [`${R}admin/`], why: 'decide/ never imports admin/' },
  { from: `${R}admin/`, never: [`${R}decide/`], why: 'admin/ never imports decide/' },
  ...['routing-data.schema.ts', 'validate-data.ts', 'rows.ts'].map((f) => ({ from: `${R}${f}`, never: [`${R}snapshot/`, `${R}decide/`, `${R}admin/`], why: 'the routing root imports none of its sub-folders' })),
  { from: R, never: ['src/dispatcher/', 'src/observability/'], why: 'routing/ sits below dispatcher/ and observability/' },
  { from: 'src/status/', never: [R, 'src/dispatcher/', 'src/observability/'], why: 'status/ is the bottom domain folder' },
  { from: 'src/dispatcher/', never: ['src/observability/'], why: 'dispatcher/ sits below observability/' },
  ...['src/dispatcher/', 'src/observability/', 'src/status/'].map((from) => ({ from, never: [R], unless: ROUTING_FACES, why: 'outside routing/, only its types and lookup' }))
]

describe('src/', () => {
  it('has no file cycle', () => {
    expect(findCycles(graph)).toEqual([])
  })

  it('keeps every import inside its fence', () => {
    expect(fenceViolations(graph, FENCES)).toEqual([])
  })

  it('keeps module scratch in decide/ and snapshot/, each such file saying so in its first line', () => {
    const wrong: string[] = []
    for (const file of graph.keys()) {
      const { holds, marked } = scratchOf(readFileSync(path.join(ROOT, file), 'utf8'))
      const allowed = file.startsWith(`${R}decide/`) || file.startsWith(`${R}snapshot/`)
      if (holds && !marked) wrong.push(`${file}: module scratch without a "// Scratch:" first line`)
      if (marked && !allowed) wrong.push(`${file}: scratch outside decide/ and snapshot/`)
    }
    expect(wrong).toEqual([])
  })

  it('has no file over 300 lines', () => {
    const long = listFiles(ROOT, 'src')
      .map((file) => ({ file, lines: readFileSync(path.join(ROOT, file), 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 300)
    expect(long).toEqual([])
  })
})

describe('the checker', () => {
  const made = (edges: Record<string, string[]>) => new Map(Object.entries(edges))

  it('finds a cycle, however long, and a file importing itself', () => {
    expect(findCycles(made({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }))).toEqual([['a', 'b', 'c']])
    expect(findCycles(made({ a: ['a'] }))).toEqual([['a']])
    expect(findCycles(made({ a: ['b'], b: [] }))).toEqual([])
  })

  it('names an import across a fence, and lets the listed exceptions through', () => {
    const g = made({
      [`${R}snapshot/x.ts`]: [`${R}decide/y.ts`, `${R}rows.ts`],
      'src/dispatcher/z.ts': [`${R}decide/decision.ts`, `${R}decide/decide-routes.ts`]
    })
    expect(fenceViolations(g, FENCES)).toEqual([
      `${R}snapshot/x.ts → ${R}decide/y.ts (snapshot/ imports only the routing root and shared utilities)`,
      `src/dispatcher/z.ts → ${R}decide/decide-routes.ts (outside routing/, only its types and lookup)`
    ])
  })

  it('tells module scratch from constants', () => {
    expect(scratchOf('let n = 0\n')).toEqual({ holds: true, marked: false })
    expect(scratchOf('// Scratch: the spans\nconst spans: Spans = { a: 1 }\n')).toEqual({ holds: true, marked: true })
    expect(scratchOf('const list: number[] = []\n').holds).toBe(true)
    expect(scratchOf('const LIMITS = { a: 1 }\nconst frozen = Object.freeze({ a: 1 })\nexport function f () { let x = 1; return x }\n').holds).toBe(false)
  })
})
