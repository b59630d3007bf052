/**
 * The status/report registry, after OpenSIPS's status_report framework: groups hold identifiers;
 * an identifier has an integer status (> 0 ready, < 0 not ready), a details text and a ring of its
 * last N reports. Every change of the integer raises E_CORE_SR_STATUS_CHANGED.
 */
import { AppError } from '../errors.js'
import type { EventBus } from '../events.js'
import { ReportRing, type Report } from './report-ring.js'

export type { Report } from './report-ring.js'

/** Ring sizes used by OpenSIPS, which operators already know. */
export const RING_SIZES = Object.freeze({ core: 10, partition: 20, events: 200, external: 50 })

export interface IdentifierState {
  readonly group: string
  readonly identifier: string
  readonly readiness: boolean
  readonly status: number
  readonly details: string
}

export interface GroupOptions {
  /** /readyz needs every identifier of a required group to be ready. */
  readonly required: boolean
  /** External (script) groups accept status and reports over HTTP; private ones do not. */
  readonly external: boolean
  /** Ring size for identifiers created without one. */
  readonly ringSize: number
}

export interface IdentifierOptions {
  readonly status: number
  readonly details?: string
  readonly ringSize?: number
}

type StatusErrorCode = 'unknown_group' | 'unknown_identifier' | 'duplicate' | 'invalid_status'
const STATUS_ERROR_HTTP = { unknown_group: 404, unknown_identifier: 404, duplicate: 409, invalid_status: 400 } as const

export class StatusError extends AppError {
  constructor (code: StatusErrorCode, message: string) {
    super(STATUS_ERROR_HTTP[code], code, message)
    this.name = 'StatusError'
  }
}

function checkStatus (status: number): void {
  if (!Number.isSafeInteger(status) || status === 0) {
    throw new StatusError('invalid_status', `status must be a non-zero integer (> 0 ready, < 0 not ready), got ${status}`)
  }
}

/** One identifier: a handle its owner keeps, so updates cost O(1) with no lookup. */
export class Identifier {
  #status: number
  #details: string
  readonly #ring: ReportRing

  constructor (
    readonly group: Group,
    readonly name: string,
    options: IdentifierOptions,
    private readonly emit: EventBus['emit'],
    private readonly now: () => number
  ) {
    checkStatus(options.status)
    this.#status = options.status
    this.#details = options.details ?? ''
    this.#ring = new ReportRing(options.ringSize ?? group.options.ringSize)
  }

  get status (): number { return this.#status }
  get details (): string { return this.#details }
  get ready (): boolean { return this.#status > 0 }
  get ringSize (): number { return this.#ring.capacity }

  /** Sets status and details; raises E_CORE_SR_STATUS_CHANGED only when the integer changes. */
  set (status: number, details?: string): void {
    checkStatus(status)
    const old = this.#status
    this.#status = status
    if (details !== undefined) this.#details = details
    if (old !== status) {
      this.emit('E_CORE_SR_STATUS_CHANGED', {
        group: this.group.name, identifier: this.name, status, details: this.#details, old_status: old
      })
    }
  }

  setDetails (details: string): void {
    this.#details = details
  }

  report (log: string): void {
    this.#ring.push(this.now(), log)
  }

  reports (): Report[] {
    return this.#ring.toArray()
  }

  state (): IdentifierState {
    return { group: this.group.name, identifier: this.name, readiness: this.ready, status: this.#status, details: this.#details }
  }
}

export class Group {
  readonly #identifiers = new Map<string, Identifier>()

  constructor (
    readonly name: string,
    public options: GroupOptions,
    private readonly emit: EventBus['emit'],
    private readonly now: () => number
  ) {}

  /** Creates an identifier; throws if the name is taken. */
  add (name: string, options: IdentifierOptions): Identifier {
    if (name === '' || name === 'all') throw new StatusError('duplicate', `identifier name ${JSON.stringify(name)} is reserved`)
    if (this.#identifiers.has(name)) throw new StatusError('duplicate', `identifier ${this.name}/${name} already exists`)
    const identifier = new Identifier(this, name, options, this.emit, this.now)
    this.#identifiers.set(name, identifier)
    return identifier
  }

  /** The identifier, created with `options` when missing. */
  ensure (name: string, options: IdentifierOptions): Identifier {
    return this.#identifiers.get(name) ?? this.add(name, options)
  }

  get (name: string): Identifier | undefined {
    return this.#identifiers.get(name)
  }

  remove (name: string): boolean {
    return this.#identifiers.delete(name)
  }

  identifiers (): Identifier[] {
    return [...this.#identifiers.values()]
  }

  /** A group is ready when every identifier is; an empty group has nothing to wait for. */
  get ready (): boolean {
    for (const identifier of this.#identifiers.values()) if (!identifier.ready) return false
    return true
  }

  /** The `all` pseudo-identifier of status_report: 1 or -1, details "aggregated". */
  aggregate (): IdentifierState {
    const ready = this.ready
    return { group: this.name, identifier: 'all', readiness: ready, status: ready ? 1 : -1, details: 'aggregated' }
  }
}

export interface Readiness {
  readonly ready: boolean
  /** Identifiers of required groups that are not ready. */
  readonly notReady: IdentifierState[]
}

export class StatusRegistry {
  readonly #groups = new Map<string, Group>()

  constructor (private readonly bus: EventBus, private readonly now: () => number = Date.now) {}

  createGroup (name: string, options: Partial<GroupOptions> = {}): Group {
    if (this.#groups.has(name)) throw new StatusError('duplicate', `status group ${name} already exists`)
    const group = new Group(name, {
      required: options.required ?? false,
      external: options.external ?? false,
      ringSize: options.ringSize ?? (options.external === true ? RING_SIZES.external : RING_SIZES.partition)
    }, (event, payload) => { this.bus.emit(event, payload) }, this.now)
    this.#groups.set(name, group)
    return group
  }

  group (name: string): Group | undefined {
    return this.#groups.get(name)
  }

  removeGroup (name: string): boolean {
    return this.#groups.delete(name)
  }

  groups (): Group[] {
    return [...this.#groups.values()]
  }

  /** The group, or a StatusError naming what is missing. */
  requireGroup (name: string): Group {
    const group = this.#groups.get(name)
    if (group === undefined) throw new StatusError('unknown_group', `unknown status group ${JSON.stringify(name)}`)
    return group
  }

  requireIdentifier (groupName: string, name: string): Identifier {
    const identifier = this.requireGroup(groupName).get(name)
    if (identifier === undefined) {
      throw new StatusError('unknown_identifier', `unknown identifier ${JSON.stringify(name)} in status group ${JSON.stringify(groupName)}`)
    }
    return identifier
  }

  /** What /readyz answers: every identifier of every required group must be ready. */
  readiness (): Readiness {
    const notReady: IdentifierState[] = []
    for (const group of this.#groups.values()) {
      if (!group.options.required) continue
      for (const identifier of group.identifiers()) if (!identifier.ready) notReady.push(identifier.state())
    }
    return { ready: notReady.length === 0, notReady }
  }
}
