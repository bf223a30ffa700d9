/**
 * @packageDocumentation
 * `@baton/fencing/postgres` — fencing tokens enforced inside the user's own PostgreSQL
 * transaction.
 *
 * A fence table holds, per resource, the highest token that has written. `check` runs one
 * statement (a function installed by {@link PostgresFence.ensureSchema}) that raises SQLSTATE
 * `BF001` when a larger token has already written — so PostgreSQL itself aborts the
 * transaction, and nothing the stale writer does in it can commit. Otherwise it raises the
 * resource's token and keeps the row locked until the transaction ends.
 *
 * That row lock is what makes the fence exact: fenced transactions on one resource commit
 * one after another, in token order. A writer with token 5 that checked first commits before
 * token 6 can pass its check; a writer with token 5 that arrives after token 6 committed (or
 * while 6's transaction is open, once it commits) is refused. Call `check` first in the
 * transaction, before the writes it guards, on the same client.
 */
import { BatonError, ConfigError } from '@baton/core';
import { StaleTokenError } from './errors.ts';
import { checkToken } from './token.ts';

/** What the fence needs of a pg `Client` or `PoolClient`: `query(text, values)`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Where the fence table lives. */
export interface PostgresFenceOptions {
  /** Schema of the table and function. Default `public`. */
  schema?: string;
  /** The table; the function is named `<table>_check`. Default `baton_fence`. */
  table?: string;
}

/** The SQLSTATE `check` raises for a stale token (a code of baton's own, not PostgreSQL's). */
export const STALE_TOKEN_SQLSTATE = 'BF001';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Fencing for writes to PostgreSQL: see the module documentation. */
export class PostgresFence {
  private readonly table: string;
  private readonly fn: string;
  private readonly checkSql: string;

  /** @throws ConfigError for a schema or table that is not a plain lower-case identifier. */
  constructor(options: PostgresFenceOptions = {}) {
    const schema = options.schema ?? 'public';
    const table = options.table ?? 'baton_fence';
    if (!IDENTIFIER.test(schema)) throw new ConfigError('schema', `"${schema}" is not a lower-case SQL identifier`);
    if (!IDENTIFIER.test(table) || table.length > 56) throw new ConfigError('table', `"${table}" is not a lower-case SQL identifier of at most 56 characters`);
    this.table = `"${schema}"."${table}"`;
    this.fn = `"${schema}"."${table}_check"`;
    this.checkSql = `SELECT ${this.fn}($1, $2) AS highest`;
  }

  /**
   * The DDL that installs the fence: the table and its check function. Idempotent; apply it
   * in a migration, or let {@link ensureSchema} run it.
   */
  schemaSql(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.table} (
  resource   text PRIMARY KEY,
  token      bigint NOT NULL CHECK (token > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION ${this.fn}(p_resource text, p_token bigint) RETURNS bigint
LANGUAGE plpgsql AS $fence$
DECLARE
  v_highest bigint;
BEGIN
  INSERT INTO ${this.table} AS f (resource, token) VALUES (p_resource, p_token)
  ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token, updated_at = now()
    WHERE f.token <= EXCLUDED.token
  RETURNING f.token INTO v_highest;
  IF NOT FOUND THEN
    SELECT f.token INTO v_highest FROM ${this.table} AS f WHERE f.resource = p_resource;
    RAISE EXCEPTION 'stale fencing token % for "%": token % has already written', p_token, p_resource, v_highest
      USING ERRCODE = '${STALE_TOKEN_SQLSTATE}', DETAIL = v_highest::text;
  END IF;
  RETURN v_highest;
END
$fence$;`;
  }

  /**
   * Installs the table and function when missing. Concurrent callers are serialised by a
   * transaction-level advisory lock, so replicas starting together do not race on the DDL.
   */
  async ensureSchema(client: Queryable): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('baton:fence:' || $1))", [this.table]);
      await client.query(this.schemaSql());
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Admits the current transaction's writes to `resource` under `token`. Run it on the
   * client that holds the transaction, before the writes it guards.
   * @returns the resource's token after the check (equal to `token`).
   * @throws StaleTokenError when a larger token has already written — the transaction is
   *   then aborted by PostgreSQL and can only be rolled back; InvalidTokenError for a token
   *   that is not a positive integer; a BatonError `FENCING_NOT_INSTALLED` when the fence
   *   function is missing; other database errors as pg threw them.
   */
  async check(client: Queryable, resource: string, token: number): Promise<number> {
    checkToken(token);
    try {
      const { rows } = await client.query(this.checkSql, [resource, token]);
      return Number((rows[0] as { highest: string | number }).highest);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === STALE_TOKEN_SQLSTATE) {
        const highest = Number((error as { detail?: unknown }).detail);
        throw new StaleTokenError(resource, token, Number.isSafeInteger(highest) ? highest : token + 1, { cause: error });
      }
      if (code === '42883' || code === '42P01') {
        throw new BatonError('FENCING_NOT_INSTALLED', `fence ${this.fn} is not installed: call ensureSchema() or apply schemaSql() in a migration`, { cause: error });
      }
      throw error;
    }
  }

  /** The highest token that has written to `resource` (committed), 0 when none has. */
  async highestToken(client: Queryable, resource: string): Promise<number> {
    const { rows } = await client.query(`SELECT token FROM ${this.table} WHERE resource = $1`, [resource]);
    const row = rows[0] as { token: string | number } | undefined;
    return row === undefined ? 0 : Number(row.token);
  }
}
