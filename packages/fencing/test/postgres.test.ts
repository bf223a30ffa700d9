/**
 * The PostgreSQL fence on the shared server, in a schema of its own per run.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { ConfigError } from '@baton/core';
import { InvalidTokenError, StaleTokenError } from '../src/index.ts';
import { PostgresFence, STALE_TOKEN_SQLSTATE } from '../src/postgres.ts';

const CONNECTION = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const schema = `fence_${randomBytes(4).toString('hex')}`;
const pool = new pg.Pool({ ...CONNECTION, max: 6 });
const fence = new PostgresFence({ schema });

beforeAll(async () => {
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.ledger (id serial PRIMARY KEY, writer text NOT NULL, token bigint NOT NULL)`);
  const client = await pool.connect();
  try {
    await fence.ensureSchema(client);
    await fence.ensureSchema(client); // idempotent
  } finally {
    client.release();
  }
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
});

/** One fenced transaction: check, then write a ledger row; commits unless the check refuses. */
async function fencedWrite(writer: string, token: number, resource = 'ledger', beforeCommit?: () => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await fence.check(client, resource, token);
      await client.query(`INSERT INTO ${schema}.ledger (writer, token) VALUES ($1, $2)`, [writer, token]);
      await beforeCommit?.();
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  } finally {
    client.release();
  }
}

/** Polls `condition` (a database state) until it holds, failing after 5 s. */
async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function ledger(): Promise<Array<{ writer: string; token: number }>> {
  const { rows } = await pool.query(`SELECT writer, token::int FROM ${schema}.ledger ORDER BY id`);
  return rows as Array<{ writer: string; token: number }>;
}

describe('PostgresFence', () => {
  it('admits the current term, refuses a superseded one, and aborts its transaction', async () => {
    await fencedWrite('old', 1);
    await fencedWrite('new', 2);
    await fencedWrite('new', 2); // the same term writes again
    await expect(fencedWrite('old', 1)).rejects.toThrow(StaleTokenError);
    expect(await ledger()).toEqual([
      { writer: 'old', token: 1 },
      { writer: 'new', token: 2 },
      { writer: 'new', token: 2 },
    ]);
    expect(await fence.highestToken(pool, 'ledger')).toBe(2);
  });

  it('reports the highest token, and PostgreSQL refuses anything more in the aborted transaction', async () => {
    await fencedWrite('leader', 10, 'orders');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const error = await fence.check(client, 'orders', 9).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StaleTokenError);
      expect(error).toMatchObject({ resource: 'orders', token: 9, highest: 10 });
      expect((error as StaleTokenError).cause).toMatchObject({ code: STALE_TOKEN_SQLSTATE });
      // The stale writer cannot go on writing: the transaction is aborted server-side.
      await expect(client.query(`INSERT INTO ${schema}.ledger (writer, token) VALUES ('stale', 9)`)).rejects.toMatchObject({ code: '25P02' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await ledger()).some((row) => row.writer === 'stale')).toBe(false);
  });

  it('orders concurrent fenced transactions: a newer token waits for an open older one, an older one after a newer commit is refused', async () => {
    let releaseOld!: () => void;
    const oldMayCommit = new Promise<void>((resolve) => (releaseOld = resolve));
    let oldChecked!: () => void;
    const oldHasChecked = new Promise<void>((resolve) => (oldChecked = resolve));
    const older = fencedWrite('t20', 20, 'queue', async () => {
      oldChecked();
      await oldMayCommit;
    });
    await oldHasChecked;
    let newerDone = false;
    const newer = fencedWrite('t21', 21, 'queue').then(() => {
      newerDone = true;
    });
    // While token 20's transaction is open, 21's check waits on the fence row lock.
    await waitUntil(async () => {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%${schema}%fence_check%'`,
      );
      return (rows[0] as { n: number }).n === 1;
    }, 'token 21 waiting on the fence row');
    expect(newerDone).toBe(false);
    releaseOld();
    await Promise.all([older, newer]);
    await expect(fencedWrite('t20-late', 20, 'queue')).rejects.toThrow(StaleTokenError);
    const rows = (await ledger()).filter((row) => row.writer.startsWith('t2'));
    expect(rows.map((row) => row.writer)).toEqual(['t20', 't21']);
  });

  it('rejects bad tokens and identifiers before touching the database, and says when it is not installed', async () => {
    await expect(fence.check(pool, 'ledger', 0)).rejects.toThrow(InvalidTokenError);
    expect(() => new PostgresFence({ table: 'Robert"; drop table x' })).toThrow(ConfigError);
    const missing = new PostgresFence({ schema, table: 'not_installed' });
    await expect(missing.check(pool, 'ledger', 1)).rejects.toMatchObject({ code: 'FENCING_NOT_INSTALLED' });
  });
});
