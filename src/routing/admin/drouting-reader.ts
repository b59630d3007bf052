/**
 * Reads OpenSIPS drouting tables from PostgreSQL (the tables db_postgres serves drouting): the
 * dr_partitions rows when that table has any (use_partitions=1), and each partition's four tables
 * under the names its row, or the modparams, give. Read only, in one REPEATABLE READ transaction
 * per database, so a partition is read as one consistent state.
 */
import pg from 'pg'
import { DEFAULT_TABLE_NAMES, type DroutingTableNames, type DroutingTables } from './drouting-tables.js'

export interface DroutingSource {
  /** dr_partitions.partition_name, or the name given for a database without partitions. */
  readonly partition: string
  readonly url: string
  readonly tables: DroutingTableNames
}

/** `schema.table` or `table`, each part double-quoted. */
export function quoteTable (name: string): string {
  return name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.')
}

const COLUMNS = {
  gateways: { version: 6, order: 'id', list: 'id, gwid, type, address, strip, pri_prefix, attrs, probe_mode, state, socket, description' },
  carriers: { version: 3, order: 'id', list: 'id, carrierid, gwlist, flags, sort_alg, state, attrs, description' },
  rules: { version: 4, order: 'ruleid', list: 'ruleid, groupid, prefix, timerec, priority, routeid, gwlist, sort_alg, sort_profile, attrs, description' },
  groups: { version: 2, order: 'id', list: 'id, username, domain, groupid, description' }
} as const

async function withClient<T> (url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'rtroute import --from-drouting' })
  await client.connect()
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } finally {
    await client.end()
  }
}

async function tableExists (client: pg.Client, table: string): Promise<boolean> {
  const { rows } = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [quoteTable(table)])
  return rows[0]?.found !== null && rows[0]?.found !== undefined
}

/** The one statement built here: constant column lists, and a table name quoted as an identifier. */
async function selectAll<T> (client: pg.Client, columns: string, table: string, order: string): Promise<T[]> {
  const { rows } = await client.query(`SELECT ${columns} FROM ${quoteTable(table)} ORDER BY ${order}`)
  return rows as T[]
}

async function selectTable<T> (client: pg.Client, kind: keyof typeof COLUMNS, table: string): Promise<T[]> {
  const spec = COLUMNS[kind]
  try {
    return await selectAll<T>(client, spec.list, table, spec.order)
  } catch (err) {
    const message = (err as Error).message
    throw new Error(`table ${table}: ${message} (expected the drouting ${kind} table, version ${spec.version}: columns ${spec.list})`, { cause: err })
  }
}

const orDefault = (value: string | null | undefined, fallback: string): string => (value === null || value === undefined || value === '' ? fallback : value)

/**
 * The partitions of dr_partitions (`table`), each with its db_url (empty: `url`) and table names
 * (empty: the defaults); undefined when the table is missing or empty: one partition, `url` itself.
 */
export async function readDroutingPartitions (url: string, table: string, defaults: DroutingTableNames = DEFAULT_TABLE_NAMES): Promise<DroutingSource[] | undefined> {
  return await withClient(url, async (client) => {
    if (!await tableExists(client, table)) return undefined
    const rows = await selectAll<{ partition_name: string, db_url: string | null, drd_table: string | null, drr_table: string | null, drg_table: string | null, drc_table: string | null }>(
      client, 'partition_name, db_url, drd_table, drr_table, drg_table, drc_table', table, 'id')
    if (rows.length === 0) return undefined
    return rows.map((row) => ({
      partition: row.partition_name,
      url: orDefault(row.db_url, url),
      tables: {
        gateways: orDefault(row.drd_table, defaults.gateways),
        rules: orDefault(row.drr_table, defaults.rules),
        groups: orDefault(row.drg_table, defaults.groups),
        carriers: orDefault(row.drc_table, defaults.carriers)
      }
    }))
  })
}

/** The four tables of one partition. dr_groups is optional, as it is to drouting (only do_routing without a group reads it). */
export async function readDroutingTables (url: string, tables: DroutingTableNames): Promise<DroutingTables> {
  return await withClient(url, async (client) => ({
    gateways: await selectTable(client, 'gateways', tables.gateways),
    carriers: await selectTable(client, 'carriers', tables.carriers),
    rules: await selectTable(client, 'rules', tables.rules),
    groups: await tableExists(client, tables.groups) ? await selectTable(client, 'groups', tables.groups) : []
  }))
}
