/**
 * The shared `@baton/contract` suite against the real PostgreSQL on 127.0.0.1:5432, in a
 * table of this file's own. Every lock gets a factory of its own (its own session and LISTEN
 * connections), as a separate process would have; they share one pool for reads.
 */
import { describeResourceLockContract } from '@baton/contract';
import pg from 'pg';
import { PostgresLockFactory, createPostgresLock } from '../src/index.ts';
import { PG_CONFIG, dropTable, plantGarbageRow, uniqueTable } from './helpers.ts';

const table = uniqueTable('contract');
const pool = new pg.Pool({ ...PG_CONFIG, max: 6, application_name: 'baton-contract' });

// Contract timings: lease 1200, renewDeadline 800, retry 200. The session timeout sits between
// renewDeadline and leaseDuration − retryPeriod (see the README's timing argument).
const factoryOptions = { pool, table, sessionTimeout: 900, holderCheckInterval: 100, applicationName: 'baton-contract' };
const PUSH_ONLY_APP = `baton-contract-push-${process.pid}`;

describeResourceLockContract({
  name: 'postgres',
  watch: true,
  fastPath: true,
  createLock: (lockName, identity) => createPostgresLock({ ...factoryOptions, name: lockName, identity }),
  // The holder check (a poll) slower than the watch cases' 1 s bound: only NOTIFY can meet it.
  createPushOnlyLock: (lockName, identity) =>
    createPostgresLock({ ...factoryOptions, holderCheckInterval: 10_000, applicationName: PUSH_ONLY_APP, name: lockName, identity }),
  interruptWatches: async () => {
    // The server ends the push-only locks' LISTEN connections, as a restart would.
    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`${PUSH_ONLY_APP}:listen`]);
  },
  // Not deleteRecord: a row deleted by hand sends no NOTIFY (only baton's own writes do).
  // Session-bound: the server ends a silent holder's session after sessionTimeout (900 ms) and
  // frees its advisory lock, so a follower may take over before the lease; the leader stepped
  // down at renewDeadline (800 ms) before that. The follower counts from when it *saw* the last
  // renewal (NOTIFY delivery, up to ~90 ms late on a busy machine), so the bound it can check is
  // the timeout less that: 810, still above renewDeadline, which is what safety needs.
  takeoverBoundMs: 810,
  // Native reader-writer locks on advisory locks, each factory a process of its own.
  createFactory: () => new PostgresLockFactory(factoryOptions),
  childProcessLock: () => ({
    module: new URL('./contract-child.ts', import.meta.url),
    options: { poolConfig: { ...PG_CONFIG, max: 2 }, table, sessionTimeout: factoryOptions.sessionTimeout, holderCheckInterval: factoryOptions.holderCheckInterval },
  }),
  async plantCorruptRecord(lockName) {
    const factory = new PostgresLockFactory(factoryOptions);
    try {
      await factory.ensureTable();
    } finally {
      await factory.close();
    }
    await plantGarbageRow(pool, table, lockName);
  },
  async teardown() {
    await dropTable(pool, table);
    await pool.end();
  },
});
