/** The real SendOptions: SIP OPTIONS over one npm `sip` stack, with its own timeout and no trust in replies the stack makes up. */
import { randomBytes, randomUUID } from 'node:crypto'
import sip from 'sip'
import type { SipMessage, Stack } from 'sip'
import type { ProbeReply, ProbeTarget, SendOptions } from './options-prober.js'
import { startSipStack, type StartedSipStack } from './sip-stack.js'

export interface SipOptionsSenderOptions {
  /** Local bind address, default 0.0.0.0. */
  address?: string
  /** Local port, 0 (default) = any free one. */
  port?: number
  /** Name put in Via; default 'rtroute.invalid'. Never a gateway's host (see sip-stack.ts). */
  publicAddress?: string
  /** Default `sip:rtroute@<publicAddress>`. */
  fromUri?: string
  userAgent?: string
  /** Also open TCP for `;transport=tcp` targets; the package then listens on TCP on the same port. Default false. */
  tcp?: boolean
  /** Errors of the stack's sockets (bind races, unroutable sends); probes then time out instead of crashing the process. */
  onError?: (err: unknown) => void
}

export interface SipOptionsSender {
  readonly send: SendOptions
  close (): void
  /** Resolves once the stack is bound, with its port (rejects if it could not start). */
  ready (): Promise<{ port: number }>
}

type Outcome = ProbeReply | 'timeout' | { error: string }

const errorText = (err: unknown): string => err instanceof Error ? err.message : String(err)

/**
 * What a final response the stack generated itself means. Only the transaction layer makes a 408
 * (Timer F: nothing came back in 32 s), so it is a timeout, never the gateway's answer; the
 * package's other local codes come from sequentialSearch: 503 no connection/transport, 404 no address.
 */
export function localOutcome (status: number): 'timeout' | { error: string } {
  if (status === 408) return 'timeout'
  if (status === 503) return { error: 'no transport or connection to the gateway' }
  if (status === 404) return { error: 'gateway address did not resolve' }
  return { error: `SIP stack answered ${status} locally` }
}

/** Why a target cannot be probed by this stack, before anything is sent; undefined when it can. */
export function targetProblem (uri: string, tcp: boolean, publicAddress: string): string | undefined {
  let parsed
  try {
    parsed = sip.parseUri(uri)
  } catch {
    parsed = undefined
  }
  if (parsed?.host === undefined || parsed.host === '') return `not a SIP URI: ${uri}`
  if (parsed.host === publicAddress) return `target host ${parsed.host} is the prober's own publicAddress`
  const transport = (parsed.params.transport ?? 'udp').toLowerCase()
  if (transport === 'tcp' && !tcp) return 'TCP transport not enabled on the prober'
  if (transport !== 'udp' && transport !== 'tcp') return `unsupported transport ${transport}`
  return undefined
}

export function createSipOptionsSender (o: SipOptionsSenderOptions = {}): SipOptionsSender {
  const publicAddress = o.publicAddress ?? 'rtroute.invalid'
  const fromUri = o.fromUri ?? `sip:rtroute@${publicAddress}`
  const tcp = o.tcp ?? false
  const onError = o.onError ?? (() => {})
  const pending = new Map<string, (outcome: Outcome) => void>()
  let cseq = 0
  let closed = false

  // The first final response that really came over the wire settles the probe. Read here, before
  // the transaction layer, because sequentialSearch replaces a gateway's 503 with a local one.
  function onRecv (message: SipMessage): void {
    if (message.status === undefined || message.status < 200) return
    const settle = pending.get(String(message.headers['call-id']))
    settle?.({ status: message.status, reason: message.reason ?? '' })
  }

  const started: Promise<StartedSipStack> = startSipStack({
    address: o.address ?? '0.0.0.0',
    port: o.port ?? 0,
    publicAddress,
    tcp,
    logger: { recv: onRecv, error: onError },
    onSocketError: onError
  }, (request) => { answerRequest(request) })
  started.catch(() => {}) // surfaced by ready() and by every send; never an unhandled rejection

  // Gateways may probe us back; an unanswered request would hold a server transaction forever.
  function answerRequest (request: SipMessage): void {
    if (request.method === 'ACK') return
    const [status, reason] = request.method === 'OPTIONS' ? [200, 'OK'] : [405, 'Method Not Allowed']
    void started.then(({ stack }) => { stack.send(sip.makeResponse(request, status, reason)) }, () => {})
  }

  function buildRequest (uri: string, callId: string): SipMessage {
    cseq = cseq >= 0x7fffffff ? 1 : cseq + 1
    const headers: Record<string, unknown> = {
      to: { uri },
      from: { uri: fromUri, params: { tag: randomBytes(6).toString('hex') } },
      'call-id': callId,
      cseq: { method: 'OPTIONS', seq: cseq },
      'max-forwards': 70,
      'content-length': 0
    }
    if (o.userAgent !== undefined) headers['user-agent'] = o.userAgent
    return { method: 'OPTIONS', uri, headers }
  }

  function exchange (stack: Stack, uri: string, timeoutMs: number): Promise<Outcome> {
    return new Promise((resolve) => {
      const callId = `${randomUUID()}@rtroute`
      // Our own deadline: a dead UDP target gives nothing until Timer F (32 s), far too late for a probe.
      const timer = setTimeout(() => { settle('timeout') }, timeoutMs)
      function settle (outcome: Outcome): void {
        if (!pending.delete(callId)) return
        clearTimeout(timer)
        resolve(outcome)
      }
      pending.set(callId, settle)
      try {
        stack.send(buildRequest(uri, callId), (response) => {
          // Still pending here means no final response came over the wire: the stack made this one up.
          if ((response.status ?? 0) >= 200) settle(localOutcome(response.status ?? 0))
        })
      } catch (err) {
        settle({ error: errorText(err) })
      }
    })
  }

  async function send (target: ProbeTarget, timeoutMs: number): Promise<Outcome> {
    if (closed) return { error: 'sender closed' }
    let stack: Stack
    try {
      stack = (await started).stack
    } catch (err) {
      return { error: errorText(err) }
    }
    if (closed) return { error: 'sender closed' }
    const problem = targetProblem(target.uri, tcp, publicAddress)
    if (problem !== undefined) return { error: problem }
    return await exchange(stack, target.uri, timeoutMs)
  }

  function close (): void {
    if (closed) return
    closed = true
    for (const settle of [...pending.values()]) settle({ error: 'sender closed' })
    // destroy() also ends the transactions still retransmitting for probes that already timed out.
    void started.then(({ stack }) => { stack.destroy() }, () => {})
  }

  return { send, close, ready: async () => ({ port: (await started).port }) }
}
