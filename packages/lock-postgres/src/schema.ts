/**
 * The record table: created idempotently on first use, safe when many processes start at
 * once, and checked before it is trusted.
 */
import { createHash } from 'node:crypto';
import { InvalidRecordError } from '@baton/core';
import type pg from 'pg';
import type { TableName } from './keys.ts';
import { quoteIdentifier } from './keys.ts';

/**
 * Key of the transaction-level advisory lock every baton process takes around its DDL, so
 * concurrent `CREATE TABLE IF NOT EXISTS` never race on the catalog (which fails with a
 * unique violation in PostgreSQL): first 8 bytes of sha256("baton:schema").
 */
export const DDL_LOCK_KEY = createHash('sha256').update('baton:schema', 'utf8').digest().readBigInt64BE(0);

/** The record table. No CHECK constraints: baton validates on read, so foreign data is reported, not hidden. */
export const CREATE_TABLE = (table: TableName): string => `CREATE TABLE IF NOT EXISTS ${table.quoted} (
  name               text   PRIMARY KEY,
  holder_identity    text   NOT NULL,
  lease_duration_ms  bigint NOT NULL,
  acquire_time_ms    bigint NOT NULL,
  renew_time_ms      bigint NOT NULL,
  leader_transitions bigint NOT NULL,
  fencing_token      bigint NOT NULL,
  version            bigint GENERATED ALWAYS AS IDENTITY
)`;

export const COMMENT_TABLE = (table: TableName): string =>
  `COMMENT ON TABLE ${table.quoted} IS 'baton leader election records (@baton/lock-postgres); times in epoch ms'`;

export const CREATE_SCHEMA = (table: TableName): string => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(table.schema)}`;

/** `$1` quoted schema → whether it exists. `$2` quoted table → whether it exists. */
export const EXISTS = `SELECT pg_catalog.to_regnamespace($1::text) IS NOT NULL AS schema_exists,
  pg_catalog.to_regclass($2::text) IS NOT NULL AS table_exists`;

/** `$1` quoted table → its kind and live columns with their types; no rows when it does not exist. */
export const COLUMNS = `SELECT c.relkind::text AS kind, a.attname::text AS column,
  pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attidentity::text AS identity
FROM pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid = pg_catalog.to_regclass($1::text)`;

/** Columns baton reads and writes, with the type each must have. Extra columns are allowed. */
const EXPECTED: ReadonlyArray<[string, string]> = [
  ['name', 'text'],
  ['holder_identity', 'text'],
  ['lease_duration_ms', 'bigint'],
  ['acquire_time_ms', 'bigint'],
  ['renew_time_ms', 'bigint'],
  ['leader_transitions', 'bigint'],
  ['fencing_token', 'bigint'],
  ['version', 'bigint'],
];

interface ColumnRow {
  kind: string;
  column: string | null;
  type: string | null;
  identity: string | null;
}

/**
 * Makes sure the table exists with the columns baton needs. Creates schema and table when
 * missing (under a transaction-level advisory lock); never alters an existing table.
 * @throws InvalidRecordError when the table exists but is not a baton record table.
 */
export async function ensureSchema(pool: pg.Pool, table: TableName): Promise<void> {
  let rows = (await pool.query<ColumnRow>(COLUMNS, [table.quoted])).rows;
  if (rows.length === 0) {
    await createTable(pool, table);
    rows = (await pool.query<ColumnRow>(COLUMNS, [table.quoted])).rows;
  }
  checkColumns(rows, table);
}

async function createTable(pool: pg.Pool, table: TableName): Promise<void> {
  const client = await pool.connect();
  let failed: unknown;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_catalog.pg_advisory_xact_lock($1::bigint)', [DDL_LOCK_KEY.toString()]);
    // Checked first: CREATE ... IF NOT EXISTS still needs the CREATE privilege.
    const { schema_exists, table_exists } = (
      await client.query<{ schema_exists: boolean; table_exists: boolean }>(EXISTS, [quoteIdentifier(table.schema), table.quoted])
    ).rows[0]!;
    if (!schema_exists) await client.query(CREATE_SCHEMA(table));
    if (!table_exists) {
      await client.query(CREATE_TABLE(table));
      await client.query(COMMENT_TABLE(table));
    }
    await client.query('COMMIT');
  } catch (error) {
    failed = error;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(failed instanceof Error && !('code' in failed) ? failed : undefined);
  }
}

function checkColumns(rows: ColumnRow[], table: TableName): void {
  const where = `${table.schema}.${table.table}`;
  const kind = rows[0]?.kind;
  if (kind !== 'r' && kind !== 'p') {
    throw new InvalidRecordError(`postgres ${where}`, `${where} is not a table (relkind ${String(kind)})`);
  }
  const found = new Map(rows.filter((r) => r.column !== null).map((r) => [r.column!, r]));
  for (const [column, type] of EXPECTED) {
    const row = found.get(column);
    if (row === undefined) {
      throw new InvalidRecordError(`postgres ${where}`, `table ${where} has no column "${column}" (not a baton table, or altered)`);
    }
    if (row.type !== type) {
      throw new InvalidRecordError(`postgres ${where}`, `column ${where}.${column} has type ${String(row.type)}, expected ${type}`);
    }
  }
  if (found.get('version')!.identity === '') {
    throw new InvalidRecordError(`postgres ${where}`, `column ${where}.version must be an identity column (GENERATED ... AS IDENTITY)`);
  }
}
