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

describeResourceLockContract({
  name: 'postgres',
  watch: true,
  fastPath: true,
  createLock: (lockName, identity) => createPostgresLock({ ...factoryOptions, name: lockName, identity }),
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
