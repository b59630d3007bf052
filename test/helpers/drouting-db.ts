/**
 * A throwaway PostgreSQL database holding OpenSIPS drouting's own tables (test/fixtures/
 * drouting-create.sql, vendored from the 3.6.8 tarball) and the rows a test puts in them.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { PACKAGE_ROOT } from '../../src/paths.js'
import type { DrCarrierRow, DrGatewayRow, DrGroupRow, DrRuleRow } from '../../src/routing/admin/drouting-tables.js'
import { createTestDatabase, type TestDatabase } from './pg.js'

export const DROUTING_CREATE_SQL = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'drouting-create.sql')

export type GatewayRow = Omit<DrGatewayRow, 'id'>
export type CarrierRow = Omit<DrCarrierRow, 'id'>
export type RuleRow = DrRuleRow
export type GroupRow = Omit<DrGroupRow, 'id'>

export interface DroutingRows {
  readonly gateways?: ReadonlyArray<Partial<GatewayRow> & Pick<GatewayRow, 'gwid' | 'address'>>
  readonly carriers?: ReadonlyArray<Partial<CarrierRow> & Pick<CarrierRow, 'carrierid' | 'gwlist'>>
  readonly rules?: ReadonlyArray<Partial<RuleRow> & Pick<RuleRow, 'ruleid' | 'groupid'>>
  readonly groups?: ReadonlyArray<Partial<GroupRow> & Pick<GroupRow, 'username' | 'groupid'>>
}

async function insert (client: pg.Client, table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (const row of rows) {
    const columns = Object.keys(row)
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => row[c]))
  }
}

/** Fills the tables; columns left out take drouting-create.sql's defaults (a rule's prefix is '' and its gwlist null). */
export async function insertDroutingRows (url: string, rows: DroutingRows, tables = { gateways: 'dr_gateways', carriers: 'dr_carriers', rules: 'dr_rules', groups: 'dr_groups' }): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('BEGIN')
    await insert(client, tables.gateways, rows.gateways ?? [])
    await insert(client, tables.carriers, rows.carriers ?? [])
    await insert(client, tables.rules, (rows.rules ?? []).map((r) => ({ prefix: '', ...r })))
    await insert(client, tables.groups, rows.groups ?? [])
    await client.query('COMMIT')
  } finally {
    await client.end()
  }
}

/** A fresh database with drouting-create.sql applied (and nothing of rtroute's). */
export async function createDroutingDatabase (): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrate: false })
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  try {
    await client.query(await readFile(DROUTING_CREATE_SQL, 'utf8'))
  } finally {
    await client.end()
  }
  return database
}
