/** The demo partition seeded into a fresh embedded database, so the README's first curl answers something real. */
import type { Logger } from 'pino'
import { validatePartitionData } from './partition-data.js'
import type { PartitionDataRepository } from './partition-data.repository.js'
import type { PartitionDataInput } from '../routing-data.schema.js'

/** Addresses are from the documentation ranges (RFC 5737): nothing real answers there. */
export const DEMO_DATA: PartitionDataInput = {
  partition: { default_group: 'default', description: 'demo partition (seeded on a fresh embedded database; --no-demo turns this off)' },
  gateways: [
    { id: 'uk-a', address: 'sip:192.0.2.10:5060', description: 'UK carrier A', fr_inv_timer: 30_000 },
    { id: 'uk-b', address: 'sip:192.0.2.11:5060', description: 'UK carrier B', fr_inv_timer: 30_000 },
    { id: 'wholesale', address: 'sip:198.51.100.20:5060;transport=tcp', strip: 1, prefix: '00', fr_timer: 5000, description: 'international wholesale: wants 00 instead of +' }
  ],
  carriers: [
    { id: 'uk', sort: 'weighted', gateways: [{ gateway: 'uk-a', weight: 70 }, { gateway: 'uk-b', weight: 30 }], description: 'UK carriers, 70/30' }
  ],
  rules: [
    { groups: ['default'], id: 1, prefix: '+44', targets: [{ carrier: 'uk' }, { gateway: 'wholesale' }], description: 'UK: the UK carriers by weight, then wholesale' },
    {
      groups: ['default'],
      id: 2,
      prefix: '+4420',
      priority: 10,
      time_window: { timezone: 'Europe/London', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' }] },
      targets: [{ gateway: 'uk-b' }, { gateway: 'uk-a' }],
      fallback: true,
      description: 'London in business hours: carrier B first'
    },
    { groups: ['default'], id: 3, prefix: '+33', targets: [{ gateway: 'wholesale' }], description: 'France: wholesale' },
    { groups: ['default'], id: 4, prefix: '', targets: [{ gateway: 'wholesale' }], description: 'everything else: wholesale' }
  ],
  caller_groups: []
}

/** Seeds `default` when the database holds no partition at all; true when it did. */
export async function seedDemo (repository: PartitionDataRepository, log: Logger): Promise<boolean> {
  if ((await repository.names()).length > 0) return false
  const { data, problems } = validatePartitionData(DEMO_DATA)
  if (problems.length > 0) throw new Error(`demo data is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`)
  await repository.replace('default', data)
  log.info(`seeded the demo partition "default" (${data.gateways.length} gateways, ${data.carriers.length} carrier, ${data.rules.length} rules) into the empty embedded database; --no-demo turns this off`)
  return true
}
