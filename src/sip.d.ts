/** The parts of the npm `sip` package (0.0.6) that rtroute uses; it ships no types. */
declare module 'sip' {
  export interface SipUri {
    schema: string
    user?: string
    password?: string
    host: string
    port?: number | null
    params: Record<string, string | null | undefined>
    headers: Record<string, string>
  }
  export interface SipMessage {
    method?: string
    uri?: string
    status?: number
    reason?: string
    headers: Record<string, any>
    content?: string
  }
  /** Where a message came from or goes to, as the package's transports describe it. */
  export interface SipRemote {
    protocol: string
    address: string
    port: number
    local?: { address: string, port: number }
  }
  /** Undocumented in the package's API notes but read by its transport: `recv` sees every parsed incoming message. */
  export interface StackLogger {
    recv?: (message: SipMessage, remote: SipRemote) => void
    send?: (message: SipMessage, target: SipRemote) => void
    error?: (error: unknown) => void
  }
  export interface StackOptions {
    address?: string
    publicAddress?: string
    port?: number
    udp?: boolean
    tcp?: boolean
    tls?: unknown
    ws?: boolean
    logger?: StackLogger
  }
  export interface Stack {
    send: (message: SipMessage, callback?: (response: SipMessage) => void) => void
    destroy: () => void
    hostname: () => string
  }
  export function parseUri (uri: string): SipUri | undefined
  export function stringifyUri (uri: Partial<SipUri> & { schema: string, host: string }): string
  export function makeResponse (request: SipMessage, status: number, reason: string, extension?: Partial<SipMessage>): SipMessage
  export function create (options: StackOptions, onRequest: (request: SipMessage, remote: SipRemote) => void): Stack
  const sip: {
    parseUri: typeof parseUri
    stringifyUri: typeof stringifyUri
    makeResponse: typeof makeResponse
    create: typeof create
  }
  export default sip
}
