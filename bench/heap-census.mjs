/**
 * What a loaded partition holds on the heap, by kind of object: the production load
 * (`snapshot` + `compileRouteTableFromPages`, as bench/scale-worker.mjs runs it), two forced
 * collections, a heap snapshot, and its nodes counted by type (and by constructor for objects),
 * with their self sizes; then the strings by shape. docs/benchmarks.md quotes it for a 1M table.
 * Usage: npm run build && node --expose-gc --max-old-space-size=16000 bench/heap-census.mjs <database url> [partition]
 */
import { readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import { createDb } from '../dist/db.js'
import { createSnapshotRepository } from '../dist/routing/snapshot/snapshot.repository.js'
import { compileRouteTableFromPages } from '../dist/routing/snapshot/route-table.js'

const [url, partition = 'bench'] = process.argv.slice(2)
if (url === undefined) {
  process.stderr.write('usage: node --expose-gc bench/heap-census.mjs <database url> [partition]\n')
  process.exit(2)
}
const db = createDb({ url, poolMax: 2, onPoolError: () => {} })
// Kept reachable through the snapshot, as the server keeps a loaded table and its state.
globalThis.loaded = await createSnapshotRepository(db.kysely).snapshot(partition, async ({ head, version }, pages) =>
  ({ head, ...await compileRouteTableFromPages(head, pages, { partition, version }) }))
await db.close()
globalThis.gc?.()
globalThis.gc?.()
const file = v8.writeHeapSnapshot(path.join(os.tmpdir(), `rtroute-census-${process.pid}.heapsnapshot`))
const snapshot = JSON.parse(readFileSync(file, 'utf8'))
rmSync(file)
const fields = snapshot.snapshot.meta.node_fields
const types = snapshot.snapshot.meta.node_types[0]
const [width, at] = [fields.length, (name) => fields.indexOf(name)]
const [TYPE, NAME, SIZE] = [at('type'), at('name'), at('self_size')]
const kinds = new Map()
const strings = new Map()
for (let i = 0; i < snapshot.nodes.length; i += width) {
  const type = types[snapshot.nodes[i + TYPE]]
  const name = snapshot.strings[snapshot.nodes[i + NAME]]
  const kind = type === 'object' || type === 'native' ? `${type} ${name}` : type
  const entry = kinds.get(kind) ?? { count: 0, bytes: 0 }
  entry.count++
  entry.bytes += snapshot.nodes[i + SIZE]
  kinds.set(kind, entry)
  if (type === 'string') {
    const shape = /^\+?[0-9]+$/.test(name) ? 'digits, as a prefix' : name.length > 30 ? 'longer than 30' : `other, ${name.length} characters`
    strings.set(shape, (strings.get(shape) ?? 0) + 1)
  }
}
console.log('count\tMiB\tkind')
for (const [kind, { count, bytes }] of [...kinds].sort((a, b) => b[1].count - a[1].count).slice(0, 15)) console.log(`${count}\t${(bytes / 1048576).toFixed(1)}\t${kind}`)
console.log('\nstrings\tshape')
for (const [shape, count] of [...strings].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${count}\t${shape}`)
