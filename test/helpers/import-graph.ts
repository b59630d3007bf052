/** The import graph of a source tree, read from the files' import and export-from lines, and the checks the architecture test runs over it. */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Repo-relative file → the repo-relative files it imports (relative specifiers only). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g

export function listFiles (root: string, dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listFiles(root, rel))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel)
  }
  return out.sort()
}

export function readImportGraph (root: string, dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of listFiles(root, dir)) {
    const text = readFileSync(path.join(root, file), 'utf8')
    const targets = new Set<string>()
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? ''
      targets.add(path.join(path.dirname(file), spec).replace(/\.js$/, '.ts'))
    }
    graph.set(file, [...targets].sort())
  }
  return graph
}

/** Every cycle's files, one list per strongly connected component of more than one file (or a file importing itself). */
export function findCycles (graph: ImportGraph): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        if (!graph.has(w)) continue
        visit(w)
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string | undefined
    do {
      w = stack.pop()
      if (w === undefined) break
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return cycles
}

/** A rule over imports: files under `from` may not import files under any of `never`; `unless` lists the exceptions allowed. */
export interface Fence {
  readonly from: string
  readonly never: readonly string[]
  readonly unless?: readonly string[]
  readonly why: string
}

const under = (file: string, prefix: string): boolean => (prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix)

/** Every import that crosses a fence the wrong way, as "importer → imported (why)". */
export function fenceViolations (graph: ImportGraph, fences: readonly Fence[]): string[] {
  const out: string[] = []
  for (const [file, targets] of graph) {
    for (const fence of fences) {
      if (!under(file, fence.from)) continue
      for (const target of targets) {
        if (!fence.never.some((p) => under(target, p))) continue
        if (fence.unless?.some((p) => under(target, p)) === true) continue
        out.push(`${file} → ${target} (${fence.why})`)
      }
    }
  }
  return out
}

// Module state one call writes and a later one reads: a top-level `let`, or a top-level object,
// array or typed array bound to a lower-case name (constants are UPPER_CASE or frozen).
const SCRATCH = /^(?:let |const [a-z][A-Za-z0-9]*(?::[^=]+)? = (?:\{|\[\]|new (?:Float64Array|Float32Array|Int32Array|Uint32Array|Uint8Array|Array)\b))/m
export const SCRATCH_MARK = '// Scratch:'

/** Whether a file's text holds module scratch, and whether its first line says so. */
export function scratchOf (text: string): { readonly holds: boolean, readonly marked: boolean } {
  const body = text.replace(/Object\.freeze\(\{[\s\S]*?\}\)/g, '')
  return { holds: SCRATCH.test(body), marked: text.startsWith(SCRATCH_MARK) }
}
