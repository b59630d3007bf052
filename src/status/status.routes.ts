/** Status and reports API (OpenSIPS status_report MI in HTTP form) and the external-group writes. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { ExternalGroups } from './external-groups.js'
import { ErrorSchema } from '../errors.js'
import {
  AddReportSchema, CreateGroupSchema, GroupIdentifiersSchema, GroupParamsSchema, GroupReportsSchema,
  GroupStatusSchema, IdentifierParamsSchema, IdentifierReportsSchema, SetStatusSchema, StatusSchema
} from './status.schema.js'
import type { Group, StatusRegistry } from './status-registry.js'

export interface StatusRoutesOptions {
  readonly registry: StatusRegistry
  readonly externalGroups: ExternalGroups
}

const groupStatus = (group: Group) => ({
  name: group.name,
  readiness: group.ready,
  required: group.options.required,
  external: group.options.external,
  identifiers: group.identifiers().map((id) => ({ name: id.name, readiness: id.ready, status: id.status, details: id.details }))
})

const groupReports = (group: Group) => ({
  name: group.name,
  identifiers: group.identifiers().map((id) => ({ name: id.name, reports: id.reports() }))
})

const ERRORS = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema }

export const statusRoutes: FastifyPluginAsyncTypebox<StatusRoutesOptions> = async (app, { registry, externalGroups }) => {
  app.get('/v1/status', {
    schema: { tags: ['status'], summary: 'Every group with its identifiers (status_report:status)', response: { 200: Type.Array(GroupStatusSchema) } }
  }, async () => registry.groups().map(groupStatus))

  app.get('/v1/status/:group', {
    schema: { tags: ['status'], summary: 'One group (status_report:status group)', params: GroupParamsSchema, response: { 200: GroupStatusSchema, ...ERRORS } }
  }, async (request) => groupStatus(registry.requireGroup(request.params.group)))

  app.get('/v1/status/:group/:identifier', {
    schema: {
      tags: ['status'],
      summary: 'One identifier, or `all` for the aggregate (status_report:get group identifier)',
      params: IdentifierParamsSchema,
      response: { 200: StatusSchema, ...ERRORS }
    }
  }, async (request) => {
    const { group, identifier } = request.params
    const state = identifier === 'all' ? registry.requireGroup(group).aggregate() : registry.requireIdentifier(group, identifier).state()
    return { readiness: state.readiness, status: state.status, details: state.details }
  })

  app.get('/v1/reports', {
    schema: { tags: ['status'], summary: 'Reports of every identifier (status_report:reports)', response: { 200: Type.Array(GroupReportsSchema) } }
  }, async () => registry.groups().map(groupReports))

  app.get('/v1/reports/:group', {
    schema: { tags: ['status'], summary: 'Reports of one group', params: GroupParamsSchema, response: { 200: GroupReportsSchema, ...ERRORS } }
  }, async (request) => groupReports(registry.requireGroup(request.params.group)))

  app.get('/v1/reports/:group/:identifier', {
    schema: { tags: ['status'], summary: 'Reports of one identifier, oldest first', params: IdentifierParamsSchema, response: { 200: IdentifierReportsSchema, ...ERRORS } }
  }, async (request) => {
    const identifier = registry.requireIdentifier(request.params.group, request.params.identifier)
    return { name: identifier.name, reports: identifier.reports() }
  })

  app.get('/v1/identifiers', {
    schema: { tags: ['status'], summary: 'Identifier names per group (status_report:identifiers)', response: { 200: Type.Array(GroupIdentifiersSchema) } }
  }, async () => registry.groups().map((group) => ({ group: group.name, identifiers: group.identifiers().map((id) => id.name) })))

  app.get('/v1/identifiers/:group', {
    schema: { tags: ['status'], summary: 'Identifier names of one group', params: GroupParamsSchema, response: { 200: GroupIdentifiersSchema, ...ERRORS } }
  }, async (request) => {
    const group = registry.requireGroup(request.params.group)
    return { group: group.name, identifiers: group.identifiers().map((id) => id.name) }
  })

  app.put('/v1/status/:group', {
    schema: {
      tags: ['status'],
      summary: 'Create or update an external group; it starts with identifier `main` not ready',
      params: GroupParamsSchema,
      body: CreateGroupSchema,
      response: { 200: GroupStatusSchema, 201: GroupStatusSchema, ...ERRORS }
    }
  }, async (request, reply) => {
    const { group } = request.params
    const created = await externalGroups.put(group, request.body.required ?? false, request.body.ring_size)
    return await reply.code(created ? 201 : 200).send(groupStatus(registry.requireGroup(group)))
  })

  app.delete('/v1/status/:group', {
    schema: { tags: ['status'], summary: 'Remove an external group', params: GroupParamsSchema, response: { 204: Type.Null(), ...ERRORS } }
  }, async (request, reply) => {
    await externalGroups.remove(request.params.group)
    return await reply.code(204).send(null)
  })

  app.put('/v1/status/:group/:identifier', {
    schema: {
      tags: ['status'],
      summary: 'Set the status of an identifier of an external group (created when missing)',
      params: IdentifierParamsSchema,
      body: SetStatusSchema,
      response: { 200: StatusSchema, ...ERRORS }
    }
  }, async (request) => {
    const group = externalGroups.writable(request.params.group)
    const { status, details } = request.body
    const identifier = group.ensure(request.params.identifier, { status, details })
    identifier.set(status, details)
    return { readiness: identifier.ready, status: identifier.status, details: identifier.details }
  })

  app.post('/v1/reports/:group/:identifier', {
    schema: {
      tags: ['status'],
      summary: 'Add a report to an identifier of an external group (sr_add_report)',
      params: IdentifierParamsSchema,
      body: AddReportSchema,
      response: { 201: IdentifierReportsSchema, ...ERRORS }
    }
  }, async (request, reply) => {
    externalGroups.writable(request.params.group)
    const identifier = registry.requireIdentifier(request.params.group, request.params.identifier)
    identifier.report(request.body.log)
    return await reply.code(201).send({ name: identifier.name, reports: identifier.reports() })
  })
}
