/** No Docker engine runs in CI: this reads docker-compose.yml and the Dockerfile and checks they agree with the code. */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { CONFIG_VARS, loadConfig } from '../src/config.js'
import { PACKAGE_ROOT } from '../src/paths.js'

interface Service {
  image?: string
  build?: string
  environment?: Record<string, string>
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  volumes?: string[]
  command?: string[]
}
const compose = parse(readFileSync(path.join(PACKAGE_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> }
const dockerfile = readFileSync(path.join(PACKAGE_ROOT, 'Dockerfile'), 'utf8')
const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }

/** `${NAME:-default}` as compose substitutes it when NAME is unset. */
const substitute = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')

describe('docker-compose.yml', () => {
  const { postgres, rtroute } = compose.services
  const env = Object.fromEntries(Object.entries(rtroute?.environment ?? {}).map(([k, v]) => [k, substitute(String(v))]))

  it('runs PostgreSQL with a healthcheck, and rtroute only once it is healthy', () => {
    expect(postgres?.image).toMatch(/^postgres:/)
    expect(postgres?.healthcheck?.test.join(' ')).toContain('pg_isready')
    expect(rtroute?.build).toBe('.')
    expect(rtroute?.depends_on?.postgres?.condition).toBe('service_healthy')
  })

  it('sets only variables rtroute reads, with values it accepts', () => {
    const known = new Set(CONFIG_VARS.map((v) => v.name))
    for (const name of Object.keys(env)) expect(known, name).toContain(name)
    expect(() => loadConfig(env)).not.toThrow()
  })

  it('points DATABASE_URL at the postgres service with its credentials', () => {
    const url = new URL(env.DATABASE_URL ?? '')
    const pgEnv = postgres?.environment ?? {}
    expect(url.hostname).toBe('postgres')
    expect(url.username).toBe(pgEnv.POSTGRES_USER)
    expect(url.password).toBe(pgEnv.POSTGRES_PASSWORD)
    expect(url.pathname).toBe(`/${pgEnv.POSTGRES_DB}`)
  })

  it('publishes the port rtroute listens on and probes /readyz there', () => {
    const port = String(loadConfig(env).port)
    expect(rtroute?.ports).toContain(`${port}:${port}`)
    expect(rtroute?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${port}/readyz`)
    expect(dockerfile).toContain(`EXPOSE ${port}`)
  })
})

describe('Dockerfile', () => {
  it('builds in one stage and runs the compiled CLI as a non-root user with production dependencies', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2)
    expect(dockerfile).toContain('npm ci --omit=dev')
    expect(dockerfile).toMatch(/^USER node$/m)
    const cmd = /^CMD \["node", "([^"]+)", "serve"\]$/m.exec(dockerfile)?.[1]
    expect(cmd).toBe(pkg.bin.rtroute)
    expect(existsSync(path.join(PACKAGE_ROOT, 'migrations'))).toBe(true)
    expect(dockerfile).toContain('COPY migrations ./migrations')
  })
})

describe('docker-compose.yml: kamailio', () => {
  const { kamailio, rtroute } = compose.services
  const command = kamailio?.command ?? []
  /** The value of a `-A NAME=value` define on the command line, quotes removed. */
  const define = (name: string): string | undefined => {
    const arg = command.find((a, i) => command[i - 1] === '-A' && (a === name || a.startsWith(`${name}=`)))
    return arg === undefined ? undefined : arg.slice(name.length + 1).replace(/^"(.*)"$/, '$1')
  }

  it('builds Kamailio from the Debian packages that hold the modules the config loads', () => {
    expect(kamailio?.build).toBe('deploy/kamailio')
    const kamailioDockerfile = readFileSync(path.join(PACKAGE_ROOT, 'deploy', 'kamailio', 'Dockerfile'), 'utf8')
    for (const pkg of ['kamailio', 'kamailio-extra-modules', 'kamailio-utils-modules']) expect(kamailioDockerfile).toMatch(new RegExp(`\\s${pkg}(\\s|$)`, 'm'))
  })

  it('runs the shipped config, mounted from deploy/kamailio, in the foreground with the http_client define', () => {
    const mount = kamailio?.volumes?.find((v) => v.startsWith('./deploy/kamailio/kamailio.cfg:'))
    expect(mount).toBeDefined()
    const [host, target] = (mount ?? '').split(':')
    expect(existsSync(path.join(PACKAGE_ROOT, host ?? ''))).toBe(true)
    expect(command[0]).toBe('kamailio')
    expect(command[command.indexOf('-f') + 1]).toBe(target)
    expect(command).toContain('-DD')
    expect(command).toContain('-E')
    expect(define('WITH_HTTP_CLIENT')).toBe('')
    const cfg = readFileSync(path.join(PACKAGE_ROOT, host ?? ''), 'utf8')
    expect(cfg).toContain('#!ifdef WITH_HTTP_CLIENT')
    expect(cfg).toContain('#!ifndef RTROUTE_URL')
  })

  it('publishes SIP on 5060/udp and starts once rtroute is healthy', () => {
    expect(kamailio?.ports).toContain('5060:5060/udp')
    expect(kamailio?.depends_on?.rtroute?.condition).toBe('service_healthy')
  })

  it('points RTROUTE_URL at the rtroute service and the port it listens on', () => {
    const env = Object.fromEntries(Object.entries(rtroute?.environment ?? {}).map(([k, v]) => [k, substitute(String(v))]))
    const url = new URL(define('RTROUTE_URL') ?? '')
    expect(url.hostname).toBe('rtroute')
    expect(compose.services).toHaveProperty(url.hostname)
    expect(url.port).toBe(String(loadConfig(env).port))
    expect(url.pathname).toBe('/')
  })
})
