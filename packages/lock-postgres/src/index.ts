/**
 * @packageDocumentation
 * `@baton/lock-postgres` — a baton {@link ResourceLock} on PostgreSQL.
 *
 * - **Mutual exclusion** is a session-level advisory lock (`pg_try_advisory_lock`) on a
 *   64-bit key derived from the lock name ({@link advisoryLockKey}), held by the leader on a
 *   dedicated session connection. A leader that crashes loses it the moment PostgreSQL sees
 *   its socket close; a follower blocked on that lock (its holder-wait connection) notices at
 *   once (`holderGone`) and takes over in well under a second, without waiting for the lease.
 * - **Fast path**: `acquireIfFree` is one statement on the session, a release one more.
 * - **The record** (holder, lease duration, acquire/renew times, transitions, fencing token,
 *   version) is a row of a table created idempotently on first use. Writes are
 *   compare-and-swap on the version, made by the advisory-lock holder; fencing tokens are
 *   assigned server-side and strictly increase with every term.
 * - **A silent leader** (partitioned, paused) loses its advisory locks on the server
 *   `sessionTimeout` after its last statement (`idle_session_timeout`), and steps down on its
 *   own at renewDeadline before that. See the README for the timing argument.
 * - **Watch** is LISTEN/NOTIFY (the new record travels in the payload) on one shared
 *   connection; followers send no statement while it is up; session loss is reported to the
 *   elector at once.
 * - **Connections**: a factory serves any number of lock names with its pool, one session
 *   connection (or a few: `sessionConnections`) and one LISTEN connection.
 *
 * @example
 * import { LeaderElector } from '@baton/core';
 * import { PostgresLockFactory } from '@baton/lock-postgres';
 *
 * const locks = new PostgresLockFactory({ connectionString: process.env.DATABASE_URL });
 * const elector = new LeaderElector({
 *   lock: locks.lock('nightly-report', process.env.HOSTNAME!),
 *   leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s',
 *   callbacks: { onStartedLeading: (term) => runReports(term.signal, term.fencingToken) },
 * });
 * await elector.run(shutdownSignal);
 * await locks.close();
 */
export { PostgresLockFactory, createPostgresLock } from './factory.ts';
export { PostgresLock } from './postgres-lock.ts';
export type { PostgresLockFactoryOptions, PostgresLockOptions } from './options.ts';
export { DEFAULTS as POSTGRES_LOCK_DEFAULTS } from './options.ts';
export { advisoryLockKey, notifyChannel } from './keys.ts';
export { postgresSsl, SSL_MODES } from './tls.ts';
export type { PostgresTlsOptions, SslMode } from './tls.ts';
export type { TableName } from './keys.ts';
