/** rtroute status page: renders /v1/overview, follows /v1/events live, explains a number. No dependencies. */
'use strict'

const TOKEN_KEY = 'rtroute.token'
// Also the answers-per-second window: each refresh reads the answer count once more.
const REFRESH_MS = 5000
const MAX_EVENTS = 100
const $ = (id) => document.getElementById(id)

let token = sessionStorage.getItem(TOKEN_KEY) || ''
let refreshTimer

function headers () {
  return token === '' ? {} : { authorization: `Bearer ${token}` }
}

/** The admin API; a 401/403 asks for a token instead of failing silently. */
async function api (path) {
  const res = await fetch(path, { headers: headers() })
  if (res.status === 401 || res.status === 403) {
    const body = await res.json().catch(() => ({}))
    askToken(body.message || `HTTP ${res.status}`)
    throw new Error('unauthorised')
  }
  const body = await res.json()
  if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`)
  return body
}

function askToken (why) {
  $('token-form').hidden = false
  $('token-message').textContent = why
}

/** Builds an element; children are nodes or text (never parsed as HTML: data stays data). */
function el (tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue
    if (key === 'class') node.className = value
    else if (key.startsWith('data-')) node.setAttribute(key, value)
    else node[key] = value
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child))
  return node
}

/** A time for people, always in UTC and saying so (the browser's zone may not be the servers'). */
const utc = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
const utcTime = (ms) => `${new Date(ms).toISOString().slice(11, 19)} UTC`
const when = (iso) => (iso ? utc(Date.parse(iso)) : 'since start')
const badge = (text, cls) => el('span', { class: `badge ${cls}` }, text)

/** "1 ready", "-2 no data": the integer and its name, the name from the server. */
const statusText = (status, name) => `${status} ${name}`

// Every identifier's status names from the last overview, for the live events (which carry integers).
let statusNames = new Map()
const nameOf = (group, identifier, status) =>
  statusNames.get(`${group}/${identifier}`)?.[String(status)] ?? (status > 0 ? 'ready' : 'not ready')

/** "calls / limit" and "CPS / limit" cells; without a limit nothing is counted. */
function capacityCells (capacity) {
  if (capacity === null) return [el('td', { class: 'muted capacity-calls' }, 'no limit'), el('td', { class: 'muted capacity-cps' }, 'no limit')]
  const of = (used, limit) => `${used} / ${limit ?? '∞'}`
  const full = (used, limit) => (limit !== null && used >= limit ? 'mono full' : 'mono')
  return [
    el('td', { class: `${full(capacity.calls, capacity.max_calls)} capacity-calls`, title: `${capacity.started} answered, ${capacity.leases} offered` }, of(capacity.calls, capacity.max_calls)),
    el('td', { class: `${full(capacity.cps, capacity.max_cps)} capacity-cps` }, of(capacity.cps, capacity.max_cps))
  ]
}

function renderPartitions (overview) {
  const body = $('partitions').tBodies[0]
  body.replaceChildren(...overview.partitions.map((p) => el('tr', { 'data-partition': p.name },
    el('td', {}, p.name),
    el('td', { class: 'mono status' }, statusText(p.status, p.status_name)),
    el('td', {}, badge(p.readiness ? 'ready' : 'not ready', p.readiness ? 'ok' : 'bad')),
    el('td', { class: 'mono' }, p.data_version ?? '—'),
    el('td', { class: 'mono', title: p.checksum || '' }, p.checksum ? p.checksum.slice(0, 12) : '—'),
    el('td', { class: 'muted' }, p.details))))
  const notReady = $('not-ready')
  notReady.hidden = overview.not_ready.length === 0
  notReady.textContent = `Not ready: ${overview.not_ready.map((s) => `${s.group}/${s.identifier} (${statusText(s.status, s.status_name)}: ${s.details})`).join(', ')}`
  const select = $('explain-partition')
  const chosen = select.value
  select.replaceChildren(...overview.partitions.map((p) => el('option', { value: p.name }, p.name)))
  if (chosen !== '' && overview.partitions.some((p) => p.name === chosen)) select.value = chosen
}

function renderGateways (overview) {
  const rows = []
  for (const p of overview.partitions) {
    for (const g of p.gateways) {
      rows.push(el('tr', { 'data-gateway': `${p.name}/${g.gateway}`, 'data-state': g.state },
        el('td', {}, p.name),
        el('td', { class: 'gateway' }, g.gateway),
        el('td', { class: 'mono' }, g.address),
        el('td', {}, el('span', { class: `badge state state-${g.state}` }, g.state)),
        ...capacityCells(g.capacity),
        el('td', { class: 'reason' }, g.reason),
        el('td', { class: 'muted when' }, when(g.since)),
        el('td', {}, el('ul', { class: 'history' }, ...g.history.slice().reverse().map((r) => el('li', { title: `${r.date} UTC` }, r.log))))))
    }
  }
  $('gateways').tBodies[0].replaceChildren(...rows)
}

function renderCarriers (overview) {
  const rows = []
  for (const p of overview.partitions) {
    for (const c of p.carriers) {
      rows.push(el('tr', { 'data-carrier': `${p.name}/${c.carrier}` },
        el('td', {}, p.name),
        el('td', { class: 'gateway' }, c.carrier),
        el('td', {}, c.enabled ? 'yes' : 'no'),
        ...capacityCells(c.capacity)))
    }
  }
  $('carriers').tBodies[0].replaceChildren(...rows)
}

function renderStatuses (overview) {
  statusNames = new Map(overview.statuses.map((s) => [`${s.group}/${s.identifier}`, s.names]))
  $('statuses').tBodies[0].replaceChildren(...overview.statuses.map((s) => el('tr', { 'data-identifier': `${s.group}/${s.identifier}` },
    el('td', { class: 'mono' }, `${s.group}/${s.identifier}`),
    el('td', { class: 'mono status' }, statusText(s.status, s.status_name)),
    el('td', {}, badge(s.readiness ? 'ready' : 'not ready', s.readiness ? 'ok' : 'bad')),
    el('td', { class: 'muted' }, s.details))))
}

/**
 * Answers per second from reads of the answer count (the server's clock and count): over the reads
 * of the last RATE_WINDOW_MS, so the quick refreshes a burst of events causes do not make it jump.
 */
const RATE_WINDOW_MS = 10000
let counts = []
function renderRate (overview) {
  const at = Date.parse(overview.time)
  const total = overview.answers_total
  // A restarted instance (count went down) or a clock step starts the window again.
  if (counts.length > 0 && (total < counts[counts.length - 1].total || at <= counts[counts.length - 1].at)) counts = []
  counts.push({ at, total })
  while (counts.length > 2 && at - counts[1].at >= RATE_WINDOW_MS) counts.shift()
  const rate = $('rate')
  rate.dataset.total = String(total)
  const first = counts[0]
  if (counts.length < 2 || at - first.at < 1000) return
  const perSecond = (total - first.total) / ((at - first.at) / 1000)
  rate.textContent = `${perSecond.toFixed(perSecond < 10 ? 1 : 0)} answers/s`
  rate.title = `routing answers per second over the last ${Math.round((at - first.at) / 1000)} s (this instance)`
  rate.dataset.rate = String(perSecond)
}

function renderReports (overview) {
  $('reports').tBodies[0].replaceChildren(...overview.reports.map((r) => el('tr', {},
    el('td', { class: 'muted when' }, utc(r.timestamp * 1000)),
    el('td', { class: 'mono' }, `${r.group}/${r.identifier}`),
    el('td', {}, r.log))))
}

async function refresh () {
  clearTimeout(refreshTimer)
  refreshTimer = setTimeout(() => { void refresh() }, REFRESH_MS)
  try {
    const overview = await api('/v1/overview')
    $('instance').textContent = overview.instance
    const ready = $('readiness')
    ready.textContent = overview.ready ? 'ready' : 'not ready'
    ready.className = `badge ${overview.ready ? 'ok' : 'bad'}`
    renderStatuses(overview)
    renderRate(overview)
    renderPartitions(overview)
    renderGateways(overview)
    renderCarriers(overview)
    renderReports(overview)
    $('updated').textContent = `updated ${utcTime(Date.parse(overview.time))}`
  } catch (err) {
    $('updated').textContent = `update failed: ${err.message}`
  }
}

/** Several events in a burst cost one refresh. */
let soon
function refreshSoon () {
  clearTimeout(soon)
  soon = setTimeout(() => { void refresh() }, 150)
}

function summarise (event) {
  const p = event.params || {}
  switch (event.event) {
    case 'E_GATEWAY_STATUS': return `${p.partition}/${p.gateway}: ${p.old_status ?? 'new'} → ${p.status} (${p.reason})`
    case 'E_CORE_SR_STATUS_CHANGED': return `${p.group}/${p.identifier}: ${statusText(p.old_status, nameOf(p.group, p.identifier, p.old_status))} → ${statusText(p.status, nameOf(p.group, p.identifier, p.status))} (${p.details})`
    case 'E_PARTITION_RELOAD': return `${p.partition}: ${p.ok ? `version ${p.version} in ${p.duration_ms} ms` : `failed: ${p.error}`}`
    case 'E_CORE_THRESHOLD': return `${p.source} took ${p.time_us} µs (threshold ${p.threshold_us} µs)`
    case 'E_CORE_HEAP_THRESHOLD': return `heap ${p.usage} % over ${p.threshold} %`
    default: return JSON.stringify(p)
  }
}

function showEvent (event) {
  const list = $('events')
  list.prepend(el('li', { 'data-event': event.event },
    el('span', { class: 'muted' }, `${utcTime(Date.parse(event.time))} `),
    el('span', { class: 'name' }, event.event), ' ', summarise(event)))
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove()
}

/** Server-Sent Events read with fetch (EventSource cannot send the Authorization header). */
let stream
async function follow () {
  const live = $('live')
  stream?.abort()
  const mine = stream = new AbortController()
  try {
    const res = await fetch('/v1/events', { headers: headers(), signal: mine.signal })
    if (res.status === 401 || res.status === 403) {
      const body = await res.json().catch(() => ({}))
      askToken(body.message || `event stream: HTTP ${res.status}`)
      return
    }
    if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`)
    live.textContent = 'live'
    live.className = 'badge ok'
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
        if (data === '') continue
        showEvent(JSON.parse(data))
        refreshSoon()
      }
    }
  } catch (err) {
    if (mine.signal.aborted) return
    console.warn('event stream', err)
  }
  if (mine !== stream) return
  live.textContent = 'reconnecting'
  live.className = 'badge muted'
  setTimeout(() => { void follow() }, 3000)
}

function renderExplain (answer) {
  const box = $('explain-result')
  const head = el('p', {}, el('strong', {}, answer.outcome), ` in ${answer.partition} (data version ${answer.data_version})`,
    answer.rule_id === undefined ? '' : `, rule ${answer.rule_id} (prefix "${answer.prefix}")`)
  const routes = el('ol', { id: 'explain-routes' }, ...(answer.rtjson.routes || []).map((r) =>
    el('li', {}, el('span', { class: 'gateway' }, r.gateway), ' ', el('span', { class: 'mono' }, `${r.uri} via ${r.dst_uri}`))))
  const trace = answer.trace
  const lines = [
    `group ${trace.group ?? '—'} (${trace.group_source ?? '—'}), prefixes tried: ${trace.prefixes.map((p) => `"${p.prefix}" (${p.rules})`).join(', ') || 'none'}`,
    ...trace.rules.map((r) => `rule ${r.rule_id} (prefix "${r.prefix}", priority ${r.priority}): ${r.verdict}`),
    ...trace.targets.map((t) => `${t.gateway ? `gateway ${t.gateway}` : `carrier ${t.carrier}`}${t.gateway && t.carrier ? ` (carrier ${t.carrier})` : ''}${t.state ? ` [${t.state}]` : ''}: ${t.verdict}`)
  ]
  box.replaceChildren(head, routes, el('ul', { class: 'history' }, ...lines.map((l) => el('li', {}, l))))
}

$('explain-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const partition = $('explain-partition').value
  const number = $('explain-number').value.trim()
  api(`/v1/partitions/${encodeURIComponent(partition)}/route?number=${encodeURIComponent(number)}`)
    .then(renderExplain, (err) => { $('explain-result').replaceChildren(el('p', { class: 'problem' }, err.message)) })
})

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault()
  token = $('token').value.trim()
  sessionStorage.setItem(TOKEN_KEY, token)
  $('token-form').hidden = true
  void refresh()
  void follow()
})

void refresh()
void follow()
