/**
 * PostgreSQL errors turned into answers, and the transaction runner that applies the mapping.
 * Repositories check conflicts themselves and say which rows are involved; this is the safety
 * net for what slips past them (a concurrent writer, a constraint the checks do not know).
 */
import type { Kysely, Transaction } from 'kysely'
import type { Database } from './db.js'
import { AppError } from './errors.js'

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03'
])
const CONNECTION_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /Client has encountered a connection error/i]

interface PgErrorFields {
  code?: unknown
  message?: unknown
  detail?: unknown
  constraint?: unknown
  table?: unknown
  errors?: unknown
}

const fields = (err: unknown): PgErrorFields => (err !== null && typeof err === 'object' ? err as PgErrorFields : {})
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)

/** Node reports a refused dual-stack connect as an AggregateError whose parts carry the codes. */
export function isConnectionError (err: unknown): boolean {
  const { code, message, errors } = fields(err)
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true
  if (typeof message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return true
  return Array.isArray(errors) && errors.some(isConnectionError)
}

function describe (err: PgErrorFields): string {
  const parts = [text(err.table), text(err.constraint) === undefined ? undefined : `constraint ${String(err.constraint)}`]
    .filter((part) => part !== undefined)
  const where = parts.length > 0 ? ` (${parts.join(', ')})` : ''
  return `${text(err.detail) ?? text(err.message) ?? 'refused by the database'}${where}`
}

/** The answer for a database error, or undefined when the error is not one we can name. */
export function dbErrorToAppError (err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined
  if (isConnectionError(err)) return new AppError(503, 'db_unavailable', 'database unavailable; nothing was written')
  const pg = fields(err)
  switch (pg.code) {
    case '23505': return new AppError(409, 'already_exists', `conflicts with existing data: ${describe(pg)}`)
    case '23503':
    case '23001': return new AppError(409, 'in_use', `a reference would break: ${describe(pg)}`)
    case '23514': return new AppError(400, 'invalid_data', `refused by a database check: ${describe(pg)}`)
    case '23502': return new AppError(400, 'invalid_data', `a required value is missing: ${describe(pg)}`)
  }
  if (typeof pg.code === 'string' && pg.code.startsWith('22')) return new AppError(400, 'invalid_data', `invalid value: ${describe(pg)}`)
  return undefined
}

/** Runs `work`, rethrowing database errors as AppErrors; other errors pass unchanged. */
export async function mapDbErrors<T> (work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw dbErrorToAppError(err) ?? err
  }
}

/**
 * One transaction, errors mapped. Any throw inside rolls back, so a refused write leaves the
 * database as it was. `read` takes a repeatable-read snapshot so a page and its total agree.
 */
export async function inTransaction<T> (db: Kysely<Database>, mode: 'read' | 'write', work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const builder = mode === 'read'
    ? db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only')
    : db.transaction()
  return await mapDbErrors(async () => await builder.execute(work))
}
