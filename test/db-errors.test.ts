import { describe, expect, it } from 'vitest'
import { dbErrorToAppError, isConnectionError, mapDbErrors } from '../src/db-errors.js'
import { AppError } from '../src/errors.js'

const pgError = (fields: Record<string, string>) => Object.assign(new Error(fields.message ?? 'pg error'), fields)

describe('dbErrorToAppError', () => {
  it.each([
    [pgError({ code: '23505', detail: 'Key (name)=(x) already exists.', table: 'partition', constraint: 'partition_name_key' }), 409, 'already_exists'],
    [pgError({ code: '23503', table: 'rule_target' }), 409, 'in_use'],
    [pgError({ code: '23001' }), 409, 'in_use'],
    [pgError({ code: '23514', constraint: 'gateway_strip_check' }), 400, 'invalid_data'],
    [pgError({ code: '22P02' }), 400, 'invalid_data']
  ])('maps %o', (err, status, code) => {
    expect(dbErrorToAppError(err)).toMatchObject({ statusCode: status, code })
  })

  it('names the detail, table and constraint of a unique violation', () => {
    const err = pgError({ code: '23505', detail: 'Key (name)=(x) already exists.', table: 'partition', constraint: 'partition_name_key' })
    expect(dbErrorToAppError(err)?.message).toBe('conflicts with existing data: Key (name)=(x) already exists. (partition, constraint partition_name_key)')
  })

  it.each([
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    Object.assign(new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })], 'connect failed')),
    Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }),
    pgError({ code: '57P01', message: 'terminating connection due to administrator command' }),
    pgError({ code: '08006', message: 'connection failure' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect')
  ])('answers 503 for %s', (err) => {
    expect(isConnectionError(err)).toBe(true)
    expect(dbErrorToAppError(err)).toMatchObject({ statusCode: 503, code: 'db_unavailable', message: 'database unavailable; nothing was written' })
  })

  it('leaves AppErrors and unknown errors alone', async () => {
    expect(dbErrorToAppError(new AppError(404, 'not_found', 'x'))).toBeUndefined()
    expect(dbErrorToAppError(new TypeError('bug'))).toBeUndefined()
    const bug = new TypeError('bug')
    await expect(mapDbErrors(async () => { throw bug })).rejects.toBe(bug)
    await expect(mapDbErrors(async () => { throw pgError({ code: '23505' }) })).rejects.toBeInstanceOf(AppError)
  })
})
