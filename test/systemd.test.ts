/**
 * deploy/systemd/rtroute.service: `systemd-analyze verify` accepts it without a warning, its
 * sandbox scores as `systemd-analyze security` rates it, and what it sets agrees with the code
 * (the binary, the data directory, variables rtroute reads, a stop timeout above the shutdown's
 * own). Without systemd-analyze the systemd checks are skipped with a message.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFIG_VARS, loadConfig } from '../src/config.js'
import { PACKAGE_ROOT } from '../src/paths.js'

const UNIT = path.join(PACKAGE_ROOT, 'deploy', 'systemd', 'rtroute.service')
const text = readFileSync(UNIT, 'utf8')
const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }

/** Every `Key=value` of the [Service] section, in order (keys may repeat). */
const service: Array<[string, string]> = (/^\[Service\]$([\s\S]*?)(?=^\[)/m.exec(text)?.[1] ?? '').split('\n')
  .filter((line) => /^[A-Za-z]+=/.test(line))
  .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
const value = (key: string): string | undefined => service.filter(([k]) => k === key).at(-1)?.[1]

const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p))
if (analyze === undefined) console.log('[systemd] systemd-analyze not found: the unit is not verified (apt-get install systemd)')

describe('deploy/systemd/rtroute.service', () => {
  it.skipIf(analyze === undefined)('passes systemd-analyze verify without a warning about it', () => {
    const run = spawnSync(analyze ?? '', ['verify', UNIT], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    // verify exits 0 on unknown keys and bad values too: they are only warned about.
    expect(run.stderr.split('\n').filter((line) => line.includes('rtroute.service'))).toEqual([])
  })

  it.skipIf(analyze === undefined)('rates as sandboxed by systemd-analyze security', () => {
    const run = spawnSync(analyze ?? '', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' })
    if (run.status !== 0 && /offline/.test(run.stderr)) {
      console.log(`[systemd] this systemd-analyze has no --offline (${run.stderr.trim()}): exposure not rated`)
      return
    }
    const exposure = Number(/Overall exposure level for rtroute\.service: ([\d.]+)/.exec(run.stdout)?.[1])
    console.log(`[systemd] exposure level ${exposure} (0 safest, 10 unprotected)`)
    expect(exposure).toBeLessThan(2)
  })

  it('runs the package binary as a dynamic user in a read-only system, data in its StateDirectory', () => {
    expect(value('ExecStart')).toMatch(new RegExp(`^/usr/bin/env node /opt/rtroute/${pkg.bin.rtroute ?? ''} serve$`))
    for (const [key, expected] of [['DynamicUser', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'], ['PrivateDevices', 'yes'], ['CapabilityBoundingSet', ''], ['StateDirectory', 'rtroute'], ['KillMode', 'mixed']]) {
      expect(value(key ?? ''), key).toBe(expected)
    }
    // V8 compiles to writable, executable memory: this would kill node at start.
    expect(value('MemoryDenyWriteExecute')).not.toBe('yes')
  })

  it('sets only variables rtroute reads, with values it accepts, and stops later than rtroute gives up', () => {
    const env = Object.fromEntries(service.filter(([k]) => k === 'Environment').flatMap(([, v]) => v.split(' ')).map((pair) => pair.split('=') as [string, string]))
    const known = new Set(CONFIG_VARS.map((v) => v.name))
    for (const name of Object.keys(env)) if (name !== 'NODE_ENV') expect(known, name).toContain(name)
    const config = loadConfig(env)
    expect(config.embeddedPgDir).toBe(`/var/lib/${value('StateDirectory') ?? ''}/pg`)
    expect(Number.parseInt(value('TimeoutStopSec') ?? '', 10) * 1000).toBeGreaterThan(config.shutdownDrainMs + config.shutdownTimeoutMs)
  })

  it('names node through env, so verify does not depend on where node is installed', () => {
    expect(execFileSync('/usr/bin/env', ['node', '--version'], { encoding: 'utf8' })).toMatch(/^v\d+/)
  })
})
