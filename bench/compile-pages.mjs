/**
 * A partition's compile without PostgreSQL: its rule pages are read once (the production snapshot
 * read), kept as JSON text, then compiled from memory several times in this process, each page
 * parsed as the read parses it. Round 0 is a cold compile (the first load of a process), the others
 * warm (what a reload of a running server is). A build's compile can be compared with another's
 * (`--dist <other checkout>/dist`) without the database's own time in the figure. With --alloc,
 * the last round runs under V8's sampling heap profiler, the objects collected since counted too,
 * and what it allocated is printed by function: where a compile's garbage comes from.
 * Usage: taskset -c 1 node --expose-gc bench/compile-pages.mjs <database url> [partition] [--rounds=N] [--dist=DIR] [--alloc]
 */
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback
const [url, partition = 'bench'] = args.filter((a) => !a.startsWith('--'))
if (url === undefined) throw new Error('usage: node --expose-gc bench/compile-pages.mjs <database url> [partition] [--rounds=N] [--dist=DIR]')
const rounds = Number(flag('rounds', '3'))
const alloc = args.includes('--alloc')
const dist = path.resolve(flag('dist', fileURLToPath(new URL('../dist', import.meta.url))))

const { createDb } = await import(path.join(dist, 'db.js'))
const { createSnapshotRepository } = await import(path.join(dist, 'routing/snapshot/snapshot.repository.js'))
const { compileRouteTableFromPages } = await import(path.join(dist, 'routing/snapshot/route-table.js'))

const db = createDb({ url, poolMax: 2, onPoolError: () => {} })
const read = await createSnapshotRepository(db.kysely).snapshot(partition, async ({ head, version }, pages) => {
  const texts = []
  let names
  for await (const page of pages) {
    texts.push(JSON.stringify(page.tuples))
    names = page.names
  }
  return { head, version, names, texts }
})
await db.close()
if (read === undefined) throw new Error(`partition "${partition}" not found`)
const { head, version, names, texts } = read

/** The sampled bytes by allocating function (self), the largest first. */
function printAllocations (profile) {
  const bytes = new Map()
  let total = 0
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${path.basename(url)}:${lineNumber + 1}`}`
    bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize)
    total += node.selfSize
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  process.stdout.write(`${JSON.stringify({ allocatedMB: Math.round(total / 1e6), byFunctionMB: Object.fromEntries([...bytes].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => [k, Math.round(v / 1e5) / 10])) })}\n`)
}

const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
for (let round = 0; round < rounds; round++) {
  globalThis.gc?.()
  let parseMs = 0
  // As rule-pages.ts maps a page: JSON.parse, then the row hashes.
  async function * pages () {
    for (const text of texts) {
      const t = performance.now()
      const tuples = JSON.parse(text)
      const hashes = new Float64Array(tuples.length)
      for (let i = 0; i < tuples.length; i++) hashes[i] = tuples[i][13]
      parseMs += performance.now() - t
      yield { tuples, names, hashes }
    }
  }
  const session = alloc && round === rounds - 1 ? new Session() : undefined
  if (session !== undefined) {
    session.connect()
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  }
  const cpu = cpuMs()
  const t = performance.now()
  const { counts } = await compileRouteTableFromPages(head, pages(), { partition, version }, Infinity, names)
  const wallMs = performance.now() - t
  if (session !== undefined) printAllocations((await session.post('HeapProfiler.stopSampling')).profile)
  process.stdout.write(`${JSON.stringify({ round, rules: counts.rules.loaded, wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs() - cpu), parseMs: Math.round(parseMs), compileMs: Math.round(wallMs - parseMs) })}\n`)
}
