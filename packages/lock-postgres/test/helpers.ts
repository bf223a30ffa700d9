/**
 * Shared test plumbing: the local PostgreSQL, unique tables, and an admin connection.
 * Every test file works in tables of its own, so files can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { LeaderElector } from '@baton/core';
import type { LeaderElectorConfig, ResourceLock } from '@baton/core';
import pg from 'pg';

/** The PostgreSQL these tests run against (trust auth). Override with BATON_PG_URL. */
export const PG_CONFIG: pg.PoolConfig = process.env.BATON_PG_URL
  ? { connectionString: process.env.BATON_PG_URL }
  : { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

/** A table name nobody else uses: `<prefix>_<pid>_<random>`. */
export function uniqueTable(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** An application_name unique to one test, to count its connections in pg_stat_activity. */
export function uniqueAppName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A connection for the test's own inspection and sabotage. */
export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ ...PG_CONFIG, application_name: 'baton-test-admin' });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export async function dropTable(admin: pg.Client | pg.Pool, table: string, schema = 'public'): Promise<void> {
  await admin.query(`DROP TABLE IF EXISTS "${schema}"."${table}"`);
}

/** Connections open right now whose application_name starts with `prefix`. */
export async function connectionsOf(admin: pg.Client | pg.Pool, prefix: string): Promise<Array<{ pid: number; application_name: string }>> {
  const { rows } = await admin.query<{ pid: number; application_name: string }>(
    `SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE $1 || '%' ORDER BY pid`,
    [prefix],
  );
  return rows;
}

/** Plants a row baton must refuse: negative lease, a null-looking holder, a token out of range. */
export async function plantGarbageRow(admin: pg.Client | pg.Pool, table: string, name: string): Promise<void> {
  await admin.query(
    `INSERT INTO "public"."${table}" (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
     VALUES ($1, 'intruder', -5, 0, 0, 0, 9223372036854775807)`,
    [name],
  );
}

/** Elector timings in ms. */
export interface Timings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** An elector under test, with what it reported and when (performance.now()). */
export interface Candidate {
  elector: LeaderElector;
  started: Array<{ token: number; at: number }>;
  stopped: number[];
  errors: unknown[];
  stop: AbortController;
  done: Promise<void>;
}

/** Starts an elector on `lock` that records its terms. Stop it with `candidate.stop.abort()`. */
export function runCandidate(lock: ResourceLock, timings: Timings, overrides: Partial<LeaderElectorConfig> = {}): Candidate {
  const c = { started: [], stopped: [], errors: [], stop: new AbortController() } as unknown as Candidate;
  c.elector = new LeaderElector({
    lock,
    leaseDuration: timings.leaseDurationMs,
    renewDeadline: timings.renewDeadlineMs,
    retryPeriod: timings.retryPeriodMs,
    onError: (error) => c.errors.push(error),
    callbacks: {
      onStartedLeading: (term) => {
        c.started.push({ token: term.fencingToken, at: performance.now() });
      },
      onStoppedLeading: () => c.stopped.push(performance.now()),
    },
    ...overrides,
  });
  c.done = c.elector.run(c.stop.signal);
  return c;
}

/** Stops candidates and waits until they have settled. */
export async function stopAll(candidates: Candidate[]): Promise<void> {
  for (const c of candidates) c.stop.abort();
  await Promise.all(candidates.map((c) => c.done));
}

/** Whether any session holds the advisory lock `key` in this database, and which backend. */
export async function advisoryHolder(admin: pg.Client | pg.Pool, key: bigint): Promise<number | undefined> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
    [key.toString()],
  );
  return rows[0]?.pid;
}

/** Collects things to close after each test, closed in reverse order. */
export class Closer {
  private readonly items: Array<() => Promise<unknown> | unknown> = [];

  add<T extends { close(): Promise<unknown> | unknown }>(item: T): T {
    this.items.push(() => item.close());
    return item;
  }

  defer(fn: () => Promise<unknown> | unknown): void {
    this.items.push(fn);
  }

  async closeAll(): Promise<void> {
    for (const fn of this.items.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
  }
}

/**
 * A test file's own table, an admin connection (from `beforeAll`) and a {@link Closer}
 * emptied after every test; the table is dropped and the connection closed after the file.
 */
export function tableFixture(prefix: string): { table: string; closer: Closer; admin(): pg.Client } {
  const table = uniqueTable(prefix);
  const closer = new Closer();
  let admin: pg.Client | undefined;
  beforeAll(async () => {
    admin = await adminClient();
  });
  afterEach(() => closer.closeAll());
  afterAll(async () => {
    if (admin === undefined) return;
    await dropTable(admin, table);
    await admin.end();
  });
  return { table, closer, admin: () => admin! };
}
