/** Starts an npm `sip` stack without its two traps: `port: 0` silently meaning 5060, and sockets left without an error listener. */
import dgram from 'node:dgram'
import type { EventEmitter } from 'node:events'
import net from 'node:net'
import sip from 'sip'
import type { SipMessage, SipRemote, Stack, StackLogger } from 'sip'

export interface SipStackOptions {
  readonly address: string
  /** 0 = any free port (checked free for UDP, and TCP too when `tcp`). */
  readonly port: number
  /** Must never equal a target's host: the package would take the target for one of its flow tokens and throw. */
  readonly publicAddress: string
  readonly tcp: boolean
  readonly logger?: StackLogger
  /** Errors of the package's own sockets; without a listener Node would throw them and end the process. */
  readonly onSocketError: (err: Error) => void
}

export interface StartedSipStack {
  readonly stack: Stack
  readonly port: number
}

type SipRequestHandler = (request: SipMessage, remote: SipRemote) => void

const errorText = (err: unknown): string => err instanceof Error ? err.message : String(err)

async function listenTcp (address: string, port: number): Promise<void> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, address, () => { resolve() })
  })
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
}

/** Binds the port for a moment to learn it is free (and which one 0 picks), then lets it go for the stack. */
async function tryPort (address: string, wanted: number, tcp: boolean): Promise<number> {
  const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4')
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(wanted, address, () => { resolve() })
    })
    const port = udp.address().port
    if (tcp) await listenTcp(address, port)
    return port
  } finally {
    try { udp.close() } catch { /* never bound: nothing to release */ }
  }
}

/**
 * A port the stack can bind. The package binds `options.port || 5060`, so 0 cannot be passed
 * through; the small race between this check and the stack's bind is covered by onSocketError.
 */
export async function reservePort (address: string, wanted: number, tcp: boolean): Promise<number> {
  const attempts = wanted === 0 ? 5 : 1 // a random UDP port may be taken on TCP: try another
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      return await tryPort(address, wanted, tcp)
    } catch (err) {
      last = err
    }
  }
  throw new Error(`cannot bind SIP port ${address}:${wanted}: ${errorText(last)}`)
}

type Factory = (...args: unknown[]) => EventEmitter

/**
 * Runs `create` while putting `onError` on every UDP socket and TCP server it makes. The package
 * keeps them private and listens for no 'error' on them, so a failed bind or an EACCES/ENETUNREACH
 * on a datagram send would be an uncaught exception; this is the only way to reach them.
 */
export function guardSockets<T> (onError: (err: Error) => void, create: () => T): T {
  const dgramModule = dgram as unknown as { createSocket: Factory }
  const netModule = net as unknown as { createServer: Factory }
  const createSocket = dgramModule.createSocket
  const createServer = netModule.createServer
  const guard = (socket: EventEmitter): EventEmitter => socket.on('error', onError)
  dgramModule.createSocket = (...args) => guard(Reflect.apply(createSocket, dgram, args) as EventEmitter)
  netModule.createServer = (...args) => guard(Reflect.apply(createServer, net, args) as EventEmitter)
  try {
    return create()
  } finally {
    dgramModule.createSocket = createSocket
    netModule.createServer = createServer
  }
}

/** Starts one stack (UDP, and TCP when asked) on a known port, with its sockets' errors routed to onSocketError. */
export async function startSipStack (o: SipStackOptions, onRequest: SipRequestHandler): Promise<StartedSipStack> {
  const port = await reservePort(o.address, o.port, o.tcp)
  const options = { address: o.address, port, publicAddress: o.publicAddress, udp: true, tcp: o.tcp, ...(o.logger === undefined ? {} : { logger: o.logger }) }
  const stack = guardSockets((err) => { o.onSocketError(err) }, () => sip.create(options, onRequest))
  return { stack, port }
}
