/**
 * SIPp as the caller and as the gateways. Scenarios are generated here (one per behaviour), each
 * SIPp runs on 127.0.0.1 with its own port, and its message log is read back to see what reached it.
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startProcess, type Proc } from './processes.js'
import { freeUdpPort, udpPortInUse } from './udp.js'

/**
 * answer: 180, a short ring, then 200 (SIPp can reorder back-to-back 180/200 under load);
 * reject: a final error; silent: never a word; ring: 180 until the caller cancels (200, then 487).
 */
export type GatewayBehaviour =
  { kind: 'answer', ringMs?: number } | { kind: 'reject', code: number, reason: string } | { kind: 'silent' } | { kind: 'ring' }

const SDP = [
  'v=0',
  'o=sipp 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 9 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  ''
].join('\n')

const scenario = (name: string, body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<scenario name="${name}">\n${body}\n</scenario>\n`

const send = (message: string, attrs = ''): string => `  <send${attrs}><![CDATA[\n${message}\n]]></send>`

const reply = (status: string, extra: string[] = [], body = ''): string => send([
  `SIP/2.0 ${status}`,
  '[last_Via:]',
  '[last_From:]',
  '[last_To:];tag=[pid]gw[call_number]',
  '[last_Call-ID:]',
  '[last_CSeq:]',
  ...extra,
  body === '' ? 'Content-Length: 0' : 'Content-Type: application/sdp\nContent-Length: [len]',
  '',
  body
].join('\n'), status.startsWith('2') ? ' retrans="500"' : '')

function gatewayScenario (behaviour: GatewayBehaviour): string {
  const dialog = ['[last_Record-Route:]', 'Contact: <sip:gw@[local_ip]:[local_port];transport=[transport]>']
  switch (behaviour.kind) {
    case 'answer':
      return scenario('gateway answers', [
        '  <recv request="INVITE" crlf="true"/>',
        reply('180 Ringing', dialog),
        `  <pause milliseconds="${behaviour.ringMs ?? 100}"/>`,
        reply('200 OK', dialog, SDP),
        '  <recv request="ACK" crlf="true"/>',
        '  <recv request="BYE"/>',
        send(['SIP/2.0 200 OK', '[last_Via:]', '[last_From:]', '[last_To:]', '[last_Call-ID:]', '[last_CSeq:]', 'Content-Length: 0', ''].join('\n'))
      ].join('\n'))
    case 'reject':
      return scenario('gateway rejects', [
        '  <recv request="INVITE"/>',
        reply(`${behaviour.code} ${behaviour.reason}`),
        '  <recv request="ACK" crlf="true"/>'
      ].join('\n'))
    case 'silent':
      // Retransmissions of the INVITE are absorbed by SIPp as retransmissions of the same call.
      return scenario('gateway stays silent', '  <recv request="INVITE"/>\n  <pause milliseconds="60000"/>')
    case 'ring':
      // The 487 answers the INVITE, so it carries the INVITE's Via headers, kept here: the
      // CANCEL (hop by hop, from the proxy) has only the proxy's.
      return scenario('gateway rings until cancelled', [
        '  <recv request="INVITE">',
        '    <action><ereg regexp="Via: [^[:cntrl:]]*([[:cntrl:]]+Via: [^[:cntrl:]]*)*" search_in="msg" check_it="true" assign_to="vias"/></action>',
        '  </recv>',
        reply('180 Ringing', dialog),
        '  <recv request="CANCEL"/>',
        send(['SIP/2.0 200 OK', '[last_Via:]', '[last_From:]', '[last_To:];tag=[pid]gw[call_number]', '[last_Call-ID:]', '[last_CSeq:]', 'Content-Length: 0', ''].join('\n')),
        send(['SIP/2.0 487 Request Terminated', '[$vias]', '[last_From:]', '[last_To:];tag=[pid]gw[call_number]', '[last_Call-ID:]',
          'CSeq: [last_cseq_number] INVITE', 'Content-Length: 0', ''].join('\n')),
        '  <recv request="ACK" crlf="true"/>'
      ].join('\n'))
  }
}

const FROM = '"Alice Caller" <sip:alice@[local_ip]:[local_port]>;tag=[pid]caller[call_number]'

/**
 * A caller that expects `expect` as the final answer: 200 → ACK, hold, BYE; anything else → ACK.
 * With `cancel`, it cancels once the call rings and expects 200 for the CANCEL and 487.
 */
function callerScenario (expect: number, holdMs: number, cancel = false): string {
  const invite = send([
    'INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0',
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    `From: ${FROM}`,
    'To: <sip:[service]@[remote_ip]:[remote_port]>',
    'Call-ID: [call_id]',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@[local_ip]:[local_port]>',
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    'Content-Length: [len]',
    '',
    SDP
  ].join('\n'), ' retrans="500"')
  const provisional = ['100', '180', '183'].map((code) => `  <recv response="${code}" optional="true"/>`)
  const ack = send(['ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0', '[last_Via:]', `From: ${FROM}`, '[last_To:]',
    'Call-ID: [call_id]', 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length: 0', ''].join('\n'))
  if (cancel) {
    return scenario('caller cancels while it rings', [
      invite,
      '  <recv response="100" optional="true"/>',
      '  <recv response="180"/>',
      `  <pause milliseconds="${holdMs}"/>`,
      // The 180's Via is the INVITE's: a CANCEL reuses its branch.
      send(['CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0', '[last_Via:]', `From: ${FROM}`, 'To: <sip:[service]@[remote_ip]:[remote_port]>',
        'Call-ID: [call_id]', 'CSeq: 1 CANCEL', 'Max-Forwards: 70', 'Content-Length: 0', ''].join('\n')),
      '  <recv response="200" optional="true"/>',
      '  <recv response="487"/>',
      ack
    ].join('\n'))
  }
  if (expect !== 200) {
    return scenario(`caller expects ${expect}`, [
      invite,
      ...provisional,
      `  <recv response="${expect}"/>`,
      // The ACK of a non-2xx final answer is hop by hop and reuses the INVITE's branch.
      ack
    ].join('\n'))
  }
  const inDialog = (method: string, cseq: number): string => send([
    `${method} [next_url] SIP/2.0`,
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    `From: ${FROM}`,
    '[last_To:]',
    '[routes]',
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method}`,
    'Contact: <sip:alice@[local_ip]:[local_port]>',
    'Max-Forwards: 70',
    'Content-Length: 0',
    ''
  ].join('\n'), method === 'BYE' ? ' retrans="500"' : '')
  return scenario('caller completes a call', [
    invite,
    ...provisional,
    // rrs: the route set from Record-Route, so ACK and BYE go back through Kamailio.
    '  <recv response="200" rtd="true" rrs="true"/>',
    inDialog('ACK', 1),
    `  <pause milliseconds="${holdMs}"/>`,
    inDialog('BYE', 2),
    '  <recv response="200" crlf="true"/>'
  ].join('\n'))
}

export interface SipMessage {
  readonly direction: 'sent' | 'received'
  readonly firstLine: string
  readonly headers: ReadonlyMap<string, string>
}

/** Parses SIPp's -trace_msg log: blocks introduced by a dashed line and "UDP message sent|received". */
export function parseMessageLog (log: string): SipMessage[] {
  const out: SipMessage[] = []
  for (const block of log.split(/^-{20,} .*$/m)) {
    const match = /^\s*UDP message (sent|received)[^\n]*\n\s*\n([\s\S]*)$/.exec(block)
    if (match === null) continue
    const lines = (match[2] ?? '').split(/\r?\n/)
    const headers = new Map<string, string>()
    for (const line of lines.slice(1)) {
      if (line === '') break
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    out.push({ direction: match[1] === 'sent' ? 'sent' : 'received', firstLine: lines[0] ?? '', headers })
  }
  return out
}

export interface ReceivedInvite {
  readonly callId: string
  readonly requestUri: string
  readonly headers: ReadonlyMap<string, string>
}

export interface Gateway {
  readonly name: string
  readonly port: number
  /** host:port, as a gateway address in rtroute's data. */
  readonly address: string
  /** Distinct INVITEs received so far (retransmissions folded by Call-ID). */
  invites: () => Promise<ReceivedInvite[]>
  readonly proc: Proc
  stop: () => Promise<void>
}

async function writeScenario (dir: string, file: string, xml: string): Promise<string> {
  const target = path.join(dir, file)
  await writeFile(target, xml)
  return target
}

async function readLog (file: string): Promise<string> {
  return existsSync(file) ? await readFile(file, 'utf8') : ''
}

/** SIPp's words when its port was taken between freeUdpPort's check and its bind. */
const PORT_TAKEN = /Unable to bind main socket, errno = 98/

/**
 * A SIPp gateway on a free UDP port. freeUdpPort can only say a port was free a moment ago: any
 * process of the machine may take it before SIPp binds it (an ephemeral port of another socket,
 * once in a CI run), so a SIPp that says its port is taken is started again on another one.
 */
async function startSippOn (sipp: string, dir: string, name: string, args: (port: number) => string[]): Promise<{ port: number, proc: Proc }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort()
    const proc = startProcess(`sipp gateway ${name}`, sipp, args(port), { cwd: dir })
    const deadline = Date.now() + 10_000
    // Bound once the port is in use and SIPp still runs a moment later (a SIPp that lost the port exits at once).
    while (!(await udpPortInUse(port)) && proc.child.exitCode === null && Date.now() <= deadline) await sleep(20)
    await sleep(100)
    if (proc.child.exitCode === null && await udpPortInUse(port)) return { port, proc }
    await proc.stop()
    if (attempt >= 3 || !PORT_TAKEN.test(proc.output())) throw new Error(`SIPp gateway ${name} did not start on 127.0.0.1:${port}:\n${proc.output()}`)
  }
}

export async function startGateway (sipp: string, dir: string, name: string, behaviour: GatewayBehaviour): Promise<Gateway> {
  const xml = await writeScenario(dir, `gw-${name}.xml`, gatewayScenario(behaviour))
  const messages = path.join(dir, `gw-${name}.messages.log`)
  const { port, proc } = await startSippOn(sipp, dir, name, (port) => [
    '-sf', xml, '-i', '127.0.0.1', '-p', String(port), '-nostdin',
    '-trace_msg', '-message_file', messages,
    '-trace_err', '-error_file', path.join(dir, `gw-${name}.errors.log`)
  ])
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    proc,
    invites: async () => {
      const seen = new Map<string, ReceivedInvite>()
      for (const m of parseMessageLog(await readLog(messages))) {
        if (m.direction !== 'received' || !m.firstLine.startsWith('INVITE ')) continue
        const callId = m.headers.get('call-id') ?? ''
        if (!seen.has(callId)) seen.set(callId, { callId, requestUri: m.firstLine.split(' ')[1] ?? '', headers: m.headers })
      }
      return [...seen.values()]
    },
    stop: async () => { await proc.stop(2000) }
  }
}

export interface CallOptions {
  readonly sipp: string
  readonly dir: string
  readonly proxyPort: number
  /** The dialled number (the R-URI user part). */
  readonly number: string
  /** The final answer the caller expects (default 200: the call completes with ACK and BYE). */
  readonly expect?: number
  readonly calls?: number
  /** Calls per second (default 10). */
  readonly rate?: number
  /** Simultaneous calls at most (SIPp -l). */
  readonly limit?: number
  readonly holdMs?: number
  /** Whole run; SIPp fails when it is reached. */
  readonly timeoutS?: number
  /** Keep every message in a log (tests); off for load runs. */
  readonly trace?: boolean
  /** Cancel once the call rings (after holdMs); the caller then expects 487. */
  readonly cancel?: boolean
}

export interface CallResult {
  /** SIPp's exit code: 0 every call went as the scenario says, 1 some failed. */
  readonly exitCode: number | null
  readonly callerPort: number
  /** Call-IDs of the calls placed (when traced). */
  readonly callIds: string[]
  /** Status codes of every response received, in order (when traced). */
  readonly statuses: number[]
  /** SIPp's final screens: counters, successful and failed calls, response times. */
  readonly summary: string
  readonly errors: string
  /** The last row of SIPp's -trace_stat CSV (untraced runs): SuccessfulCall(C), ResponseTime1(C), ... */
  readonly stats: Record<string, string>
}

let runs = 0

export async function placeCalls (options: CallOptions): Promise<CallResult> {
  const { sipp, dir, proxyPort, number, expect = 200, calls = 1, rate = 10, holdMs = 100, timeoutS = 30, trace = true } = options
  const run = ++runs
  const xml = await writeScenario(dir, `caller-${run}.xml`, callerScenario(expect, holdMs, options.cancel))
  const callerPort = await freeUdpPort()
  const messages = path.join(dir, `caller-${run}.messages.log`)
  const errors = path.join(dir, `caller-${run}.errors.log`)
  const args = [
    '-sf', xml, '-s', number, `127.0.0.1:${proxyPort}`, '-i', '127.0.0.1', '-p', String(callerPort),
    '-m', String(calls), '-r', String(rate), '-nostdin', '-timeout', `${timeoutS}s`, '-timeout_error',
    '-trace_err', '-error_file', errors
  ]
  if (options.limit !== undefined) args.push('-l', String(options.limit))
  const statFile = path.join(dir, `caller-${run}.stat.csv`)
  if (trace) args.push('-trace_msg', '-message_file', messages)
  else args.push('-trace_stat', '-stf', statFile, '-fd', '1')
  const proc = startProcess(`sipp caller ${run}`, sipp, args, { cwd: dir })
  const exitCode = await proc.exited
  await proc.stop()
  const log = trace ? parseMessageLog(await readLog(messages)) : []
  const callIds = [...new Set(log.filter((m) => m.direction === 'sent' && m.firstLine.startsWith('INVITE ')).map((m) => m.headers.get('call-id') ?? ''))]
  const statuses = log.filter((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 ')).map((m) => Number(m.firstLine.split(' ')[1]))
  const rows = (await readLog(statFile)).trim().split('\n')
  const names = rows[0]?.split(';') ?? []
  const values = rows.at(-1)?.split(';') ?? []
  const stats = Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']))
  return { exitCode, callerPort, callIds, statuses, summary: proc.output(), errors: await readLog(errors), stats }
}

/** What to print when a call did not go as expected. */
export function describeCall (result: CallResult): string {
  return `SIPp exit code ${String(result.exitCode)}, responses received: [${result.statuses.join(', ')}]\n` +
    `${result.errors === '' ? '' : `unexpected messages:\n${result.errors.slice(-4000)}\n`}${result.summary.slice(-3000)}`
}
