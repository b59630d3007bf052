import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, redactUrl } from '../src/config.js'

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({}, '/srv')
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: '/srv/.rtroute',
      embeddedPgDir: path.join('/srv/.rtroute', 'pg'),
      adminTokens: [],
      logLevel: 'info',
      demo: true
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('names every bad key in one error', () => {
    let error: unknown
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', RTROUTE_DEMO: 'maybe' })
    } catch (err) { error = err }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    for (const key of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'RTROUTE_DEMO']) expect(message).toContain(key)
    expect((error as ConfigError).problems).toHaveLength(4)
  })

  it.each([['PORT', '70000'], ['PORT', '-1'], ['PORT', '80.5'], ['RTROUTE_DB_POOL_MAX', '0']])('rejects %s=%s', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(key)
  })

  it('never echoes an admin token, even a bad one', () => {
    expect(() => loadConfig({ RTROUTE_ADMIN_TOKEN: 'short-secret' })).toThrow(/RTROUTE_ADMIN_TOKEN/)
    expect(() => loadConfig({ RTROUTE_ADMIN_TOKEN: 'short-secret' })).not.toThrow(/short-secret/)
  })

  it('splits admin tokens on commas', () => {
    const config = loadConfig({ RTROUTE_ADMIN_TOKEN: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb' })
    expect(config.adminTokens).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'])
  })

  it('reads the required partitions and the import drop share, and names a bad partition name', () => {
    expect(loadConfig({ RTROUTE_REQUIRED_PARTITIONS: ' eu, us ,eu,', RTROUTE_IMPORT_MAX_DROP_PERCENT: '90' })).toMatchObject({ requiredPartitions: ['eu', 'us'], importMaxDropPercent: 90 })
    expect(loadConfig({})).toMatchObject({ requiredPartitions: [], importMaxDropPercent: 50 })
    expect(() => loadConfig({ RTROUTE_REQUIRED_PARTITIONS: 'eu,bad name' })).toThrow(/RTROUTE_REQUIRED_PARTITIONS: "bad name": expected partition names/)
    expect(() => loadConfig({ RTROUTE_IMPORT_MAX_DROP_PERCENT: '101' })).toThrow(/RTROUTE_IMPORT_MAX_DROP_PERCENT="101": expected an integer from 0 to 100/)
  })

  it('refuses a retry ceiling below the floor', () => {
    expect(() => loadConfig({ RTROUTE_DB_RETRY_MIN_MS: '1000', RTROUTE_DB_RETRY_MAX_MS: '500' })).toThrow(/RTROUTE_DB_RETRY_MAX_MS/)
  })

  it('redacts passwords from URLs', () => {
    expect(redactUrl('postgres://u:secret@h:5432/d')).toBe('postgres://u:***@h:5432/d')
  })
})
