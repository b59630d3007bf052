/**
 * External status groups, the analogue of the status_report module's script groups: created over
 * HTTP, fed by scripts and cron jobs. Definitions are stored so a group required for readiness
 * keeps gating /readyz across restarts; its `main` identifier starts not ready until fed again.
 */
import { AppError } from '../errors.js'
import { RING_SIZES, type Group, type StatusRegistry } from './status-registry.js'
import type { StatusGroupRepository, StoredGroup } from './status-group.repository.js'

export const EXTERNAL_INITIAL = Object.freeze({ status: -1, details: 'no status reported yet' })

export interface ExternalGroups {
  /** Registers the stored groups (at start, once the database answers). */
  load: () => Promise<void>
  /** Creates or updates a group; true when it was created. */
  put: (name: string, required: boolean, ringSize: number | undefined) => Promise<boolean>
  remove: (name: string) => Promise<void>
  /** The group, if it is external; AppError otherwise. */
  writable: (name: string) => Group
}

export function createExternalGroups (registry: StatusRegistry, repository: StatusGroupRepository): ExternalGroups {
  const register = (stored: StoredGroup): Group => {
    const group = registry.createGroup(stored.name, { required: stored.required, external: true, ringSize: stored.ringSize })
    group.add('main', { ...EXTERNAL_INITIAL })
    return group
  }

  const writable = (name: string): Group => {
    const group = registry.requireGroup(name)
    if (!group.options.external) {
      throw new AppError(409, 'private_group', `status group ${JSON.stringify(name)} is maintained by rtroute itself and cannot be written over HTTP`)
    }
    return group
  }

  return {
    async load () {
      for (const stored of await repository.list()) {
        const existing = registry.group(stored.name)
        if (existing === undefined) register(stored)
        else if (existing.options.external) existing.options = { ...existing.options, required: stored.required, ringSize: stored.ringSize }
      }
    },
    async put (name, required, ringSize) {
      const existing = registry.group(name)
      if (existing !== undefined) writable(name)
      const stored = { name, required, ringSize: ringSize ?? existing?.options.ringSize ?? RING_SIZES.external }
      // Stored first: an answer of success means the definition survives a restart.
      await repository.upsert(stored)
      if (existing === undefined) {
        register(stored)
        return true
      }
      existing.options = { ...existing.options, required, ringSize: stored.ringSize }
      return false
    },
    async remove (name) {
      writable(name)
      await repository.remove(name)
      registry.removeGroup(name)
    },
    writable
  }
}
