/** The process logger: JSON lines, readable when stdout is a terminal, secrets redacted. */
import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.js'

export function createLogger (level: LogLevel, pretty: boolean = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'password', 'secret', 'token', '*.password', '*.secret', '*.token'],
      censor: '[redacted]'
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  })
}
