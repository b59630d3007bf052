/**
 * What a gateway receives as From and To when the caller's display names need quoting (a comma,
 * parentheses, escaped quotes and a backslash), through a proxy that has uac loaded, so rtjson
 * would apply any headers.from/headers.to rtroute answered. The caller is a SIPp scenario of its
 * own (the shared caller's From is fixed); the gateway is a SIPp gateway, whose message log holds
 * the INVITE as it arrived.
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { expect, it } from 'vitest'
import { startProcess } from '../helpers/processes.js'
import { parseMessageLog, type SipMessage } from '../helpers/sipp.js'
import { e2e, type ProxyStack } from '../helpers/stack.js'
import { freeUdpPort } from '../helpers/udp.js'

const FROM = '"Smith, \\"JJ\\", John (Sales)" <sip:alice@[local_ip]:[local_port]>;tag=[pid]caller[call_number]'
const TO = '"Bob \\\\ Sales (UK)" <sip:[service]@[remote_ip]:[remote_port]>'

/** INVITE with FROM and TO; the gateway rejects it with 486, which the proxy relays; ACK. */
function callerXml (): string {
  const message = (lines: string[]): string => `<![CDATA[\n${lines.join('\n')}\n]]>`
  const invite = message([
    'INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0',
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    `From: ${FROM}`,
    `To: ${TO}`,
    'Call-ID: [call_id]',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@[local_ip]:[local_port]>',
    'Max-Forwards: 70',
    'Content-Length: 0',
    ''
  ])
  const ack = message([
    'ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0',
    '[last_Via:]',
    `From: ${FROM}`,
    '[last_To:]',
    'Call-ID: [call_id]',
    'CSeq: 1 ACK',
    'Max-Forwards: 70',
    'Content-Length: 0',
    ''
  ])
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<scenario name="caller with display names that need quoting">',
    `  <send retrans="500">${invite}</send>`,
    '  <recv response="100" optional="true"/>',
    '  <recv response="486"/>',
    `  <send>${ack}</send>`,
    '</scenario>',
    ''
  ].join('\n')
}

let runs = 0

interface Called {
  /** SIPp's exit code: 0 when the caller got the gateway's 486 back. */
  readonly exitCode: number | null
  readonly output: string
  /** The INVITE as SIPp sent it. */
  readonly invite: SipMessage | undefined
}

/** One call from the caller scenario through the proxy. */
async function call (s: ProxyStack): Promise<Called> {
  const run = ++runs
  const xml = path.join(s.work, `caller-display-names-${run}.xml`)
  await writeFile(xml, callerXml())
  const messages = path.join(s.work, `caller-display-names-${run}.messages.log`)
  const caller = startProcess(`sipp caller (display names ${run})`, e2e.sipp, [
    '-sf', xml, '-s', '442071838750', `127.0.0.1:${s.proxy.port}`, '-i', '127.0.0.1', '-p', String(await freeUdpPort()),
    '-m', '1', '-nostdin', '-timeout', '20s', '-timeout_error', '-trace_msg', '-message_file', messages
  ], { cwd: s.work })
  const exitCode = await caller.exited
  await caller.stop()
  const invite = parseMessageLog(await readFile(messages, 'utf8')).find((m) => m.direction === 'sent' && m.firstLine.startsWith('INVITE '))
  return { exitCode, output: caller.output().slice(-3000), invite }
}

/** Registers the scenario in the calling describe block, against its stack (a proxy with uac loaded). */
export function displayNameScenarios (s: ProxyStack): void {
  it('the gateway receives the caller\'s From and To byte for byte, quoted display names and all', async () => {
    s.dumpOnFailure()
    const gw = await s.gateway('busy-here', { kind: 'reject', code: 486, reason: 'Busy Here' })
    await s.rtroute.load(s.partition, {
      gateways: [{ id: 'uk', address: gw.address, probe_mode: 'never' }],
      rules: [{ groups: ['default'], prefix: '44', targets: [{ gateway: 'uk' }] }]
    })

    const first = await call(s)
    const sent = first.invite
    const from = sent?.headers.get('from') ?? ''
    const to = sent?.headers.get('to') ?? ''
    // What SIPp put on the wire (the scenario's text, with its keywords filled in).
    expect(from).toMatch(/^"Smith, \\"JJ\\", John \(Sales\)" <sip:alice@127\.0\.0\.1:\d+>;tag=\S+$/)
    expect(to).toBe(`"Bob \\\\ Sales (UK)" <sip:442071838750@127.0.0.1:${s.proxy.port}>`)
    const callId = sent?.headers.get('call-id') ?? ''
    const invites = await gw.invites()
    expect(invites.map((i) => i.callId)).toEqual([callId])
    expect(invites[0]?.headers.get('from')).toBe(from)
    expect(invites[0]?.headers.get('to')).toBe(to)
    // The gateway's 486 (which echoes the To it got) reached the caller: a To display left unquoted
    // makes Kamailio drop the reply as unparsable ("bad to header") and the call times out.
    expect(first.exitCode, first.output).toBe(0)

    // The proxy's query carries the display names as its script unquoted them (quoted-pairs kept),
    // and rtroute's answer asks for no From/To rewrite: uac, loaded, has nothing to apply.
    const query = s.recorder.on('/kamailio/rtjson').find((e) => e.request?.call_id === callId)
    expect(query?.request).toMatchObject({ from_name: 'Smith, \\"JJ\\", John (Sales)', to_name: 'Bob \\\\ Sales (UK)' })
    const routes = (query?.response as { rtjson: { routes: Array<{ headers: Record<string, unknown> }> } } | undefined)?.rtjson.routes ?? []
    expect(routes.map((r) => Object.keys(r.headers))).toEqual([['extra']])

    // uac is really loaded: an answer that does carry headers.from (edited on its way) is applied,
    // its display inserted as sent — which is why a display there must be a quoted-string.
    s.recorder.rewrite('/kamailio/rtjson', (answer) => {
      for (const route of answer.rtjson.routes) route.headers.from = { display: '"Rewritten \\"R\\""', uri: '' }
      return answer
    })
    try {
      const again = await call(s)
      expect(again.exitCode, again.output).toBe(0)
      const [rewritten] = (await gw.invites()).filter((i) => i.callId === again.invite?.headers.get('call-id'))
      expect(rewritten?.headers.get('from')).toBe((again.invite?.headers.get('from') ?? '').replace(/^"Smith, \\"JJ\\", John \(Sales\)"/, '"Rewritten \\"R\\""'))
    } finally {
      s.recorder.rewrite('/kamailio/rtjson')
    }
  })
}
