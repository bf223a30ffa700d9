// A user's PostgreSQL application with its own pg Pool; bundled by esbuild and run.
import { defaultIdentity, LeaderElector } from '@baton/core';
import { PostgresLockFactory } from '@baton/lock-postgres';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
const locks = new PostgresLockFactory({ pool, table: `baton_consumer_${process.pid}` });
const shutdown = new AbortController();
const elector = new LeaderElector({
  lock: locks.lock('consumer-app', defaultIdentity()),
  leaseDuration: '3s',
  renewDeadline: '2s',
  retryPeriod: '500ms',
  callbacks: {
    onStartedLeading: ({ fencingToken }) => {
      console.log(`postgres-app: leading with fencing token ${fencingToken}`);
      shutdown.abort();
    },
  },
});
const timeout = setTimeout(() => {
  console.error('postgres-app: not elected within 10 s');
  process.exit(1);
}, 10_000);
await elector.run(shutdown.signal);
clearTimeout(timeout);
await locks.close();
await pool.query(`drop table if exists baton_consumer_${process.pid}`);
await pool.end();
console.log('postgres-app: released');
