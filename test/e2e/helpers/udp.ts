/** UDP on 127.0.0.1: free ports, "is something listening there", and a SIP OPTIONS ping. */
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'

async function bind (port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4')
  return await new Promise((resolve, reject) => {
    socket.once('error', (err) => { socket.close(); reject(err) })
    socket.bind(port, '127.0.0.1', () => { resolve(socket) })
  })
}

/** A UDP port nobody holds right now (the caller binds it a moment later; the race is accepted). */
export async function freeUdpPort (): Promise<number> {
  const socket = await bind(0)
  const { port } = socket.address()
  socket.close()
  return port
}

/** True when another process already holds the port: the way to see that SIPp is listening. */
export async function udpPortInUse (port: number): Promise<boolean> {
  try {
    const socket = await bind(port)
    socket.close()
    return false
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return true
    throw err
  }
}

/** Sends one OPTIONS to 127.0.0.1:port and resolves with the reply's status code, or undefined after `timeoutMs`. */
export async function sipOptions (port: number, timeoutMs = 500): Promise<number | undefined> {
  const socket = await bind(0)
  const local = socket.address().port
  const tag = randomBytes(6).toString('hex')
  const request = [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${tag};rport`,
    `From: <sip:probe@127.0.0.1:${local}>;tag=${tag}`,
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: ${tag}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    ''
  ].join('\r\n')
  return await new Promise((resolve) => {
    const done = (code: number | undefined): void => {
      clearTimeout(timer)
      socket.close()
      resolve(code)
    }
    const timer = setTimeout(() => { done(undefined) }, timeoutMs)
    socket.on('message', (message) => {
      const status = /^SIP\/2\.0 (\d{3})/.exec(message.toString('utf8'))
      if (status?.[1] !== undefined && Number(status[1]) >= 200) done(Number(status[1]))
    })
    socket.send(request, port, '127.0.0.1')
  })
}
