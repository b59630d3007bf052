/** The process logger: JSON lines, readable on a terminal, secrets redacted. */
import { pino, type Logger, type LoggerOptions } from 'pino'
import type { LogLevel } from './config.js'

/**
 * `fd` 2 keeps stdout clean for commands whose output is data (`rtroute export`). Pretty output
 * (pino-pretty) is used when the chosen stream is a terminal, unless `pretty` says otherwise.
 */
export function createLogger (level: LogLevel, pretty?: boolean, fd: 1 | 2 = 1): Logger {
  const options: LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'password', 'secret', 'token', '*.password', '*.secret', '*.token'],
      censor: '[redacted]'
    }
  }
  const terminal = (fd === 1 ? process.stdout : process.stderr).isTTY === true
  if (pretty ?? terminal) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: fd } } })
  }
  return pino(options, pino.destination({ dest: fd, sync: true }))
}
