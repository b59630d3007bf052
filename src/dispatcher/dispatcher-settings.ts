/** The dispatcher's settings (probing, the prober lock, the health queue, capacity sync): its variables and their parser. */
import { bool, int, parseSettings, text, type Env, type SettingsOf } from '../env-vars.js'

/** README rows after the server's, in this order. */
export const DISPATCHER_SETTINGS = {
  probing: bool('RTROUTE_PROBING', true, 'probe gateways with SIP OPTIONS until switched over HTTP (`PUT /v1/probing`, shared by every instance)'),
  probeAddress: text('RTROUTE_PROBE_ADDRESS', '0.0.0.0', 'local address the OPTIONS prober sends from'),
  probePort: int('RTROUTE_PROBE_PORT', 0, [0, 65_535], 'local UDP port of the prober; 0 picks a free port'),
  probePublicAddress: text('RTROUTE_PROBE_PUBLIC_ADDRESS', 'rtroute.invalid', 'the prober\'s SIP host name in Via/Contact (never a gateway\'s address)'),
  probeFromUri: text('RTROUTE_PROBE_FROM', 'sip:rtroute@rtroute.invalid', 'From URI of OPTIONS probes'),
  probeConcurrency: int('RTROUTE_PROBE_CONCURRENCY', 50, [1, 10_000], 'probes in flight at once in a round'),
  leaderHeartbeatMs: int('RTROUTE_LEADER_HEARTBEAT_MS', 2000, [100, 600_000], 'how often a standby tries the prober lock and the prober checks its connection'),
  healthQueueMax: int('RTROUTE_HEALTH_QUEUE_MAX', 100_000, [100, 10_000_000], 'gateway events (feedback, probe results) kept while the database is away'),
  capacitySyncMs: int('RTROUTE_CAPACITY_SYNC_MS', 200, [20, 60_000],
    'how often call events are written and the cluster\'s call counts read (bounds the cross-instance error of capacity limits)')
} as const

export type DispatcherSettings = SettingsOf<typeof DISPATCHER_SETTINGS>

/** Adds what is wrong to `problems` (loadConfig reports every bad key at once). */
export function loadDispatcherSettings (env: Env, problems: string[]): DispatcherSettings {
  return Object.freeze(parseSettings(DISPATCHER_SETTINGS, env, problems))
}
