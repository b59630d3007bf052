/** A fake SIP gateway for tests: a UAS on 127.0.0.1 built on the `sip` package, answering OPTIONS as told. */
import sip from 'sip'
import type { SipMessage } from 'sip'
import { startSipStack } from '../../src/dispatcher/sip-stack.js'

export type Mode = 'ok' | 'busy' | 'forbidden' | 'silent'
export const ANSWERS: Record<Exclude<Mode, 'silent'>, [number, string]> = {
  ok: [200, 'OK'], busy: [503, 'Service Unavailable'], forbidden: [403, 'Forbidden']
}

export interface FakeGateway {
  readonly uri: string
  mode: Mode
  readonly requests: SipMessage[]
  close (): void
}

/** A UAS on 127.0.0.1 answering OPTIONS as told; `silent` never answers, like a dead host. */
export async function startGateway (mode: Mode, tcp = false): Promise<FakeGateway> {
  const gateway: FakeGateway = { uri: '', mode, requests: [], close: () => {} }
  const { stack, port } = await startSipStack({ address: '127.0.0.1', port: 0, publicAddress: 'gateway.invalid', tcp, onSocketError: () => {} }, (request) => {
    gateway.requests.push(request)
    if (gateway.mode === 'silent' || request.method === 'ACK') return
    const [status, reason] = ANSWERS[gateway.mode]
    stack.send(sip.makeResponse(request, status, reason))
  })
  return Object.assign(gateway, { uri: `sip:127.0.0.1:${port};transport=${tcp ? 'tcp' : 'udp'}`, close: () => { stack.destroy() } })
}
