/** No Docker engine runs in CI: this reads docker-compose.yml and the Dockerfile and checks they agree with the code. */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
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
  profiles?: string[]
}
type Compose = { services: Record<string, Service>, volumes?: Record<string, unknown>, networks?: Record<string, { ipam?: { config?: Array<{ subnet?: string }> } }> }
const composeText = readFileSync(path.join(PACKAGE_ROOT, 'docker-compose.yml'), 'utf8')
/** The file as written (`${…}` left in); merge keys applied, as compose does. */
const raw = parse(composeText, { merge: true }) as Compose

/** What a user sets before `docker compose up` (the file has no default for these). */
const REQUIRED = { RTROUTE_ADMIN_TOKEN: 'compose-test-admin-token-0123456789', RTROUTE_PROXY_SECRET: 'compose-test-proxy-secret-0123456789' }

/**
 * Compose's interpolation with REQUIRED set and nothing else: `${NAME:-default}` gives the default,
 * `${NAME:?message}` the REQUIRED value (an unknown one fails, as compose refuses to start).
 */
const substitute = (value: string): string => value
  .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
  .replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_match, name: string) => {
    const set = (REQUIRED as Record<string, string>)[name]
    if (set === undefined) throw new Error(`docker-compose.yml requires ${name}, which this test does not set`)
    return set
  })
const compose = parse(substitute(composeText), { merge: true }) as Compose
const dockerfile = readFileSync(path.join(PACKAGE_ROOT, 'Dockerfile'), 'utf8')
const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }

describe('docker-compose.yml', () => {
  const { postgres, rtroute } = compose.services
  const env = Object.fromEntries(Object.entries(rtroute?.environment ?? {}).map(([k, v]) => [k, String(v)]))

  it('has no default admin token or proxy secret: compose refuses to start without them, saying how to set them', () => {
    for (const name of ['RTROUTE_ADMIN_TOKEN', 'RTROUTE_PROXY_SECRET']) {
      const value = String(raw.services.rtroute?.environment?.[name])
      const message = new RegExp(`^\\$\\{${name}:\\?(.+)\\}$`).exec(value)?.[1]
      expect(message, `${name}: ${value}`).toBeDefined()
      expect(message).toContain(name)
      expect(message).toMatch(/openssl rand -hex 32/)
      expect(message).toMatch(/README/)
    }
    expect(composeText).not.toContain('dev-only')
    // A test value the config accepts stands in for them everywhere else.
    expect(env.RTROUTE_ADMIN_TOKEN).toBe(REQUIRED.RTROUTE_ADMIN_TOKEN)
    expect(() => substitute(['$', '{RTROUTE_ADMIN_TOKEN_TYPO:?needed}'].join(''))).toThrow(/requires/)
  })

  it('publishes every port on 127.0.0.1 unless RTROUTE_BIND says otherwise', () => {
    const published = Object.entries(raw.services).flatMap(([name, service]) => (service.ports ?? []).map((p) => [name, p] as const))
    expect(published.length).toBeGreaterThanOrEqual(5)
    for (const [name, port] of published) expect(port, name).toMatch(/^\$\{RTROUTE_BIND:-127\.0\.0\.1\}:\d+:\d+(\/udp)?$/)
  })

  it('runs two rtroute instances with the same settings on the one PostgreSQL, each probed on /readyz', () => {
    const second = compose.services['rtroute-2']
    expect(second?.build).toBe('.')
    expect(second?.environment).toEqual(rtroute?.environment)
    expect(second?.healthcheck).toEqual(rtroute?.healthcheck)
    expect(second?.depends_on).toEqual(rtroute?.depends_on)
    const hostPorts = [rtroute, second].map((s) => s?.ports?.[0]?.split(':').slice(0, 2).join(':'))
    expect(hostPorts).toEqual(['127.0.0.1:8080', '127.0.0.1:8081'])
  })

  it('allows the proxy paths from the compose network only, which is pinned to that subnet', () => {
    const subnet = compose.networks?.default?.ipam?.config?.[0]?.subnet ?? ''
    expect(env.RTROUTE_PROXY_ALLOW).toBe(subnet)
    const [address, prefix] = subnet.split('/')
    expect(net.isIPv4(address ?? '')).toBe(true)
    const list = new net.BlockList()
    list.addSubnet(address ?? '', Number(prefix))
    // Docker's own bridge and the host's loopback are outside it.
    expect(list.check('172.17.0.2')).toBe(false)
    expect(list.check('127.0.0.1')).toBe(false)
    expect(loadConfig(env).port).toBe(8080)
  })

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
    expect(rtroute?.ports).toContain(`127.0.0.1:${port}:${port}`)
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
  const rawCommand = raw.services.kamailio?.command ?? []
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
    expect(kamailio?.ports).toContain('127.0.0.1:5060:5060/udp')
    expect(kamailio?.depends_on?.rtroute?.condition).toBe('service_healthy')
    expect(kamailio?.depends_on?.['rtroute-2']?.condition).toBe('service_healthy')
  })

  it('lists both rtroute services in RTROUTE_URL, on the port they listen on', () => {
    const env = Object.fromEntries(Object.entries(rtroute?.environment ?? {}).map(([k, v]) => [k, String(v)]))
    const urls = (define('RTROUTE_URL') ?? '').split(' ').map((u) => new URL(u))
    expect(urls.map((u) => u.hostname)).toEqual(['rtroute', 'rtroute-2'])
    for (const url of urls) {
      expect(compose.services).toHaveProperty(url.hostname)
      expect(url.port).toBe(String(loadConfig(env).port))
      expect(url.pathname).toBe('/')
    }
  })

  it('sends the rtroute services\' RTROUTE_PROXY_SECRET as the RTROUTE_SECRET define, required like theirs', () => {
    expect(define('RTROUTE_SECRET')).toBe(rtroute?.environment?.RTROUTE_PROXY_SECRET)
    const arg = rawCommand.find((a) => a.startsWith('RTROUTE_SECRET='))
    expect(arg).toMatch(/^RTROUTE_SECRET="\$\{RTROUTE_PROXY_SECRET:\?[^}]+\}"$/)
  })
})

describe('docker-compose.yml: the monitoring profile', () => {
  const { prometheus, grafana, rtroute } = compose.services
  const env = Object.fromEntries(Object.entries(rtroute?.environment ?? {}).map(([k, v]) => [k, String(v)]))
  /** The host file mounted at `target` in a service, read, and the mount's parts. */
  const mounted = (service: Service | undefined, target: string): { host: string, text: string } => {
    const mount = service?.volumes?.find((v) => v.split(':')[1] === target)
    expect(mount, `${target} is mounted`).toBeDefined()
    const host = path.join(PACKAGE_ROOT, (mount ?? '').split(':')[0] ?? '')
    expect(existsSync(host), host).toBe(true)
    return { host, text: readFileSync(host, 'utf8') }
  }
  const prometheusConfig = mounted(prometheus, '/etc/prometheus/prometheus.yml')
  const dashboardMount = '/etc/grafana/dashboards/rtroute.json'
  const dashboard = JSON.parse(mounted(grafana, dashboardMount).text) as { uid: string, panels: Array<{ type: string, datasource?: { uid: string }, targets?: Array<{ expr: string, datasource?: { uid: string } }> }>, templating: { list: Array<{ name: string, type: string, current?: { value: unknown } }> } }

  it('adds Prometheus and Grafana under the monitoring profile only: plain `docker compose up` is unchanged', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.profiles, name).toEqual(['prometheus', 'grafana'].includes(name) ? ['monitoring'] : undefined)
    }
    expect(prometheus?.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/)
    expect(grafana?.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/)
    for (const volume of [...(prometheus?.volumes ?? []), ...(grafana?.volumes ?? [])]) {
      const source = volume.split(':')[0] ?? ''
      if (source.startsWith('./')) expect(existsSync(path.join(PACKAGE_ROOT, source)), source).toBe(true)
      else expect(compose.volumes, source).toHaveProperty(source)
    }
  })

  it('has Prometheus scrape the rtroute service at /metrics on the port rtroute listens on', () => {
    const config = parse(prometheusConfig.text) as { scrape_configs: Array<{ job_name: string, metrics_path?: string, static_configs: Array<{ targets: string[] }> }> }
    const job = config.scrape_configs.find((j) => j.job_name === 'rtroute')
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics')
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([`rtroute:${loadConfig(env).port}`])
    expect(prometheus?.ports).toContain('127.0.0.1:9090:9090')
  })

  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p))
  it.skipIf(promtool === undefined)('passes promtool check config (skipped without promtool: apt-get install prometheus)', () => {
    expect(execFileSync(promtool ?? '', ['check', 'config', prometheusConfig.host], { encoding: 'utf8' })).toContain('SUCCESS')
  })

  it('provisions Grafana with that Prometheus as the datasource the dashboard defaults to, and the dashboard from its mounted file', () => {
    const provisioning = grafana?.volumes?.find((v) => v.split(':')[1] === '/etc/grafana/provisioning')
    const dir = path.join(PACKAGE_ROOT, (provisioning ?? '').split(':')[0] ?? '')
    const datasources = parse(readFileSync(path.join(dir, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string, type: string, url: string }> }
    const providers = parse(readFileSync(path.join(dir, 'dashboards', 'rtroute.yml'), 'utf8')) as { providers: Array<{ type: string, options: { path: string } }> }
    const [source] = datasources.datasources
    expect(source?.type).toBe('prometheus')
    const url = new URL(source?.url ?? '')
    expect(compose.services).toHaveProperty(url.hostname)
    expect(url.hostname).toBe('prometheus')
    expect(prometheus?.ports?.map((p) => p.split(':')[2])).toContain(url.port)
    expect(providers.providers.map((p) => [p.type, p.options.path])).toEqual([['file', path.posix.dirname(dashboardMount)]])
    expect(grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(dashboardMount)
    expect(grafana?.depends_on).toEqual(['prometheus'])
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource')
    expect(variable?.current?.value).toBe(source?.uid)
  })

  it('has every dashboard panel query through the datasource variable', () => {
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource')?.name
    const panels = dashboard.panels.filter((p) => p.type !== 'row')
    expect(panels.length).toBeGreaterThan(20)
    for (const panel of panels) {
      expect(panel.datasource?.uid).toBe(`\${${variable ?? ''}}`)
      expect(panel.targets?.length).toBeGreaterThan(0)
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid).toBe(`\${${variable ?? ''}}`)
        expect(target.expr).toMatch(/\brtroute_|\bprocess_|\bnodejs_/)
      }
    }
  })
})
