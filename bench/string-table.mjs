/**
 * Why a loaded table keeps no prefix strings: a million strings kept after `JSON.parse` (which
 * internalises strings of up to 10 characters, so each is an entry of V8's string table) against
 * the same strings made by concatenation, and none, each followed by garbage and a forced
 * collection. Prints the last mark-compact's pause and its `to_new_roots` phase (the string
 * table is one of the roots it walks) from V8's own trace.
 * Usage: node bench/string-table.mjs
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const N = 1_000_000
if (process.env.STRING_TABLE_MODE !== undefined) {
  const kept = []
  if (process.env.STRING_TABLE_MODE === 'parsed') {
    for (let i = 0; i < N; i += 10_000) kept.push(...JSON.parse(JSON.stringify(Array.from({ length: 10_000 }, (_, j) => `+${1_000_000 + (i + j) * 7}`))))
  } else if (process.env.STRING_TABLE_MODE === 'concatenated') {
    for (let i = 0; i < N; i++) kept.push(`+${1_000_000 + i * 7}`)
  }
  globalThis.gc()
  let garbage = []
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 200_000; i++) garbage.push({ i, list: [i] })
    if (garbage.length > 1_000_000) garbage = []
  }
  globalThis.gc()
  process.stdout.write(`${kept.length}\n`)
} else {
  for (const mode of ['none', 'concatenated', 'parsed']) {
    const run = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', fileURLToPath(import.meta.url)], { env: { ...process.env, STRING_TABLE_MODE: mode }, encoding: 'utf8' })
    const last = run.stdout.split('\n').filter((line) => line.includes('gc=mc')).at(-1) ?? ''
    const field = (name) => new RegExp(`${name}=([0-9.]+)`).exec(last)?.[1] ?? '?'
    console.log(`${mode.padEnd(12)} last mark-compact pause ${field('pause')} ms, of which to_new_roots ${field('evacuate.update_pointers.to_new_roots')} ms`)
  }
}
