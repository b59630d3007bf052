/**
 * A real OpenSIPS 3.6 running drouting on PostgreSQL (db_postgres), with mi_http for
 * `dr_number_routing`, and a script that answers every request with what do_routing() chose:
 * the rule (X-Rule), the matched prefix (X-Prefix, after a "p") and the gateways in the order it
 * would try them, do_routing's first and then each use_next_gw() (X-Gws). 404: no rule matched;
 * 503: a rule matched and gave no gateway. Everything on 127.0.0.1 and free ports.
 */
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { freePort } from '../../../src/embedded-postgres.js'
import { startProcess, type Proc } from './processes.js'
import { freeUdpPort, sipOptions } from './udp.js'

export interface DroutingOpenSipsOptions {
  readonly opensips: string
  readonly modules: string
  readonly dir: string
  /** The drouting database (postgres://user:pass@host:port/db). */
  readonly dbUrl: string
  readonly extraPrefixChars: string
}

export interface DoRouting {
  readonly code: number
  readonly ruleId: number | undefined
  readonly prefix: string | undefined
  readonly gateways: string[]
}

export interface DroutingOpenSips {
  readonly proc: Proc
  /** JSON-RPC over mi_http: the `result`, or throws on an `error`. */
  mi: (method: string, params?: Record<string, unknown>) => Promise<unknown>
  /** One request through do_routing() for a number and group. */
  route: (number: string, group: string) => Promise<DoRouting>
  stop: () => Promise<void>
}

function config (options: DroutingOpenSipsOptions, ports: { sip: number, mi: number }): string {
  const url = options.dbUrl.replace(/^postgres(ql)?:/, 'postgres:')
  return `mpath = "${options.modules}/"
log_level = 2
stderror_enabled = yes
syslog_enabled = no
udp_workers = 2
socket = udp:127.0.0.1:${ports.sip}

loadmodule "proto_udp.so"
loadmodule "signaling.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "sipmsgops.so"
loadmodule "db_postgres.so"
loadmodule "drouting.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", ${ports.mi})
modparam("drouting", "db_url", "${url}")
modparam("drouting", "extra_prefix_chars", "${options.extraPrefixChars}")
modparam("drouting", "gw_id_avp", "$avp(dr_gw)")
modparam("drouting", "rule_id_avp", "$avp(dr_rule)")
modparam("drouting", "rule_prefix_avp", "$avp(dr_prefix)")

route {
  $var(grp) = $(hdr(X-Group){s.int});
  if (!do_routing($var(grp), "C")) {
    sl_send_reply(404, "No Rule");
    exit;
  }
  if (!do_routing($var(grp))) {
    sl_send_reply(503, "No Gateway");
    exit;
  }
  $var(gws) = $avp(dr_gw);
  while (use_next_gw()) {
    $var(gws) = $var(gws) + "," + $avp(dr_gw);
  }
  append_to_reply("X-Rule: $avp(dr_rule)\\r\\nX-Prefix: p$avp(dr_prefix)\\r\\nX-Gws: $var(gws)\\r\\n");
  sl_send_reply(200, "OK");
  exit;
}
`
}

/** One UDP socket, one request at a time, replies matched by Call-ID. */
function sipClient (port: number): { route: (number: string, group: string) => Promise<DoRouting>, close: () => void } {
  const socket = dgram.createSocket('udp4')
  const ready = new Promise<number>((resolve) => { socket.bind(0, '127.0.0.1', () => { resolve(socket.address().port) }) })
  const waiting = new Map<string, (text: string) => void>()
  socket.on('message', (message) => {
    const text = message.toString('utf8')
    const callId = /^Call-ID:\s*(\S+)/mi.exec(text)?.[1]
    if (callId !== undefined && /^SIP\/2\.0 [2-6]\d\d/.test(text)) waiting.get(callId)?.(text)
  })
  const header = (text: string, name: string): string | undefined => new RegExp(`^${name}:[ \\t]*(.*?)\\r?$`, 'mi').exec(text)?.[1]
  return {
    route: async (number, group) => {
      const local = await ready
      const tag = randomBytes(6).toString('hex')
      const callId = `${tag}@oracle`
      const request = [
        `OPTIONS sip:${number}@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${tag};rport`,
        `From: <sip:oracle@127.0.0.1:${local}>;tag=${tag}`,
        `To: <sip:${number}@127.0.0.1:${port}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        `X-Group: ${group}`,
        'Content-Length: 0',
        '',
        ''
      ].join('\r\n')
      const text = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => { waiting.delete(callId); reject(new Error(`no answer from OpenSIPS for ${number} (group ${group})`)) }, 3000)
        waiting.set(callId, (answer) => { clearTimeout(timer); waiting.delete(callId); resolve(answer) })
        socket.send(request, port, '127.0.0.1')
      })
      const code = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1])
      const rule = header(text, 'X-Rule')
      const prefix = header(text, 'X-Prefix')
      const gws = header(text, 'X-Gws')
      return { code, ruleId: rule === undefined ? undefined : Number(rule), prefix: prefix?.slice(1), gateways: gws === undefined || gws === '' ? [] : gws.split(',') }
    },
    close: () => { socket.close() }
  }
}

export async function startDroutingOpenSips (options: DroutingOpenSipsOptions): Promise<DroutingOpenSips> {
  const ports = { sip: await freeUdpPort(), mi: await freePort() }
  await mkdir(options.dir, { recursive: true })
  const file = path.join(options.dir, 'drouting.cfg')
  await writeFile(file, config(options, ports))
  const proc = startProcess('opensips-drouting', options.opensips, ['-F', '-f', file, '-w', options.dir, '-P', path.join(options.dir, 'opensips.pid')], { cwd: options.dir })
  const deadline = Date.now() + 20_000
  while ((await sipOptions(ports.sip, 300)) === undefined) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null || Date.now() > deadline) {
      await proc.stop()
      throw new Error(`opensips (drouting) did not answer on 127.0.0.1:${ports.sip}:\n${proc.output().slice(-6000)}`)
    }
  }
  const client = sipClient(ports.sip)
  const miUrl = `http://127.0.0.1:${ports.mi}/mi`
  return {
    proc,
    mi: async (method, params) => {
      const res = await fetch(miUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }) })
      const body = await res.json() as { result?: unknown, error?: { code: number, message: string } }
      if (body.error !== undefined) throw new Error(`MI ${method}: ${body.error.code} ${body.error.message}`)
      return body.result
    },
    route: client.route,
    stop: async () => { client.close(); await proc.stop() }
  }
}
