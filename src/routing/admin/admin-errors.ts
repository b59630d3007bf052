/** The admin API's 400/404/409 answers, worded alike for every entity. */
import { AppError } from '../../errors.js'
import type { Problem } from '../validate-data.js'

export const quote = (name: string): string => JSON.stringify(name)

/** `targets[1].gateway: unknown gateway "gw9"; time_window.timezone: …` */
export function assertValid (problems: readonly Problem[]): void {
  if (problems.length === 0) return
  throw new AppError(400, 'invalid_data', problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; '))
}

export function partitionNotFound (partition: string): AppError {
  return new AppError(404, 'not_found', `partition ${quote(partition)} not found`)
}

/** `what` is already worded: `gateway "gw9"`, `rule 12`. */
export function notFoundIn (what: string, partition: string): AppError {
  return new AppError(404, 'not_found', `${what} not found in partition ${quote(partition)}`)
}

export function alreadyExists (what: string, partition: string): AppError {
  return new AppError(409, 'already_exists', `${what} already exists in partition ${quote(partition)}`)
}

export function immutableId (field: string, given: string | number, expected: string | number): AppError {
  return new AppError(400, 'immutable_id', `${field}: ${JSON.stringify(given)} differs from ${JSON.stringify(expected)} in the URL; it cannot be changed`)
}

/** How many users an in-use answer names; the rest are counted. */
export const USERS_SHOWN = 20

/** Some of the users of an entity, and how many there are in all. */
export interface Users<T> {
  readonly shown: readonly T[]
  readonly total: number
}

/** `rules 12, 14` / `rule 12` / `carriers "a", "b"` / `rules 1, …, 20 and 7 more`. */
export function nameList (singular: string, plural: string, users: Users<string | number>): string {
  const shown = users.shown.map((name) => (typeof name === 'number' ? String(name) : quote(name))).join(', ')
  const more = users.total > users.shown.length ? ` and ${users.total - users.shown.length} more` : ''
  return `${users.total === 1 ? singular : plural} ${shown}${more}`
}

/** `gateway "gw1" is used by rules 12, 14 and carrier "cr1"`; undefined when nothing uses it. */
export function inUse (what: string, users: { rules: Users<number>, carriers?: Users<string> }): AppError | undefined {
  const parts = [
    users.rules.total > 0 ? nameList('rule', 'rules', users.rules) : undefined,
    users.carriers !== undefined && users.carriers.total > 0 ? nameList('carrier', 'carriers', users.carriers) : undefined
  ].filter((part) => part !== undefined)
  if (parts.length === 0) return undefined
  return new AppError(409, 'in_use', `${what} is used by ${parts.join(' and ')}`)
}
