/** `rtroute route NUMBER`: asks a running rtroute where a number would go, and prints why. */

export interface RouteCommand {
  readonly url: string
  readonly token: string | undefined
  readonly partition: string
  readonly number: string
  readonly group?: string | undefined
  readonly callId?: string | undefined
  readonly from?: string | undefined
  readonly sourceIp?: string | undefined
  readonly at?: string | undefined
  readonly json: boolean
}

interface Explained {
  partition: string
  data_version: number
  outcome: string
  rule_id?: number
  prefix?: string
  trace: {
    seed: number
    number?: string
    group?: string
    group_source?: string
    prefixes: Array<{ prefix: string, rules: number }>
    rules: Array<{ rule_id: number, prefix: string, priority: number, verdict: string, time?: { recurrences: Array<{ text: string, negated: boolean, reason: string }> } }>
    targets: Array<{ rule_id: number, gateway?: string, carrier?: string, state?: string, verdict: string }>
  }
  rtjson: { routes: Array<{ gateway: string, uri: string, dst_uri: string }>, sip_code?: number, reason?: string }
}

/** The explanation as an operator reads it. */
export function formatExplained (e: Explained): string {
  const t = e.trace
  const lines = [
    `${t.number ?? '?'} in partition ${e.partition} (data version ${e.data_version}): ${e.outcome}` +
      `${e.rule_id === undefined ? '' : ` by rule ${e.rule_id} (prefix "${e.prefix ?? ''}")`}`,
    `  group ${t.group ?? '?'} (from ${t.group_source ?? '?'}), order seed ${t.seed}`,
    `  prefixes tried: ${t.prefixes.map((p) => `"${p.prefix}" (${p.rules})`).join(', ') || 'none'}`
  ]
  for (const r of t.rules) {
    lines.push(`  rule ${r.rule_id} (prefix "${r.prefix}", priority ${r.priority}): ${r.verdict}`)
    // Why a rule is closed: each recurrence of its time window / timerec and its answer.
    if (r.verdict === 'window_closed') for (const c of r.time?.recurrences ?? []) lines.push(`    time ${c.negated ? '!' : ''}${c.text}: ${c.reason}`)
  }
  for (const x of t.targets) {
    const what = x.gateway === undefined ? `carrier ${x.carrier ?? '?'}` : `gateway ${x.gateway}${x.carrier === undefined ? '' : ` (carrier ${x.carrier})`}`
    lines.push(`    ${what}${x.state === undefined ? '' : ` [${x.state}]`}: ${x.verdict}`)
  }
  if (e.rtjson.routes.length > 0) {
    lines.push('  routes:')
    e.rtjson.routes.forEach((r, i) => { lines.push(`    ${i + 1}. ${r.gateway}  ${r.uri}  via ${r.dst_uri}`) })
  } else {
    lines.push(`  no routes: ${e.rtjson.reason ?? e.outcome} (suggested SIP ${e.rtjson.sip_code ?? '?'})`)
  }
  return `${lines.join('\n')}\n`
}

export async function routeCommand (c: RouteCommand): Promise<number> {
  const params = new URLSearchParams({ number: c.number })
  for (const [key, value] of [['group', c.group], ['call_id', c.callId], ['from', c.from], ['source_ip', c.sourceIp], ['at', c.at]] as const) {
    if (value !== undefined) params.set(key, value)
  }
  const url = `${c.url.replace(/\/$/, '')}/v1/partitions/${encodeURIComponent(c.partition)}/route?${params.toString()}`
  let res: Response
  try {
    res = await fetch(url, { headers: c.token === undefined ? {} : { authorization: `Bearer ${c.token}` } })
  } catch (err) {
    process.stderr.write(`rtroute: cannot reach ${c.url}: ${(err as Error).message} (is \`rtroute serve\` running? --url says where)\n`)
    return 1
  }
  const body = await res.json() as Explained | { error: string, message: string }
  if (!res.ok || 'error' in body) {
    process.stderr.write(`rtroute: ${'message' in body ? body.message : `HTTP ${res.status}`}\n`)
    return 1
  }
  process.stdout.write(c.json ? `${JSON.stringify(body, null, 2)}\n` : formatExplained(body))
  return 0
}
