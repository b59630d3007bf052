/** A pino logger whose JSON lines are kept in memory, so a test can read what was logged (and what was not). */
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import type { LogLevel } from '../../../src/config.js'

export interface CapturedLogs {
  readonly log: Logger
  readonly lines: string[]
  /** Messages (`msg`) of the lines logged so far. */
  messages: () => string[]
}

export function captureLogs (level: LogLevel = 'info'): CapturedLogs {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line)
      callback()
    }
  })
  const log = pino({ level }, stream)
  return {
    log,
    lines,
    messages: () => lines.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '')
  }
}
