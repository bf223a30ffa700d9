import { BackendUnavailableError, ConfigError } from '@baton/core';
import type { LockCallOptions, ResourceLockFactory } from '@baton/core';
import pg from 'pg';
import { withCallSignal } from './abort.ts';
import { ChangeFeed } from './change-feed.ts';
import { toLockError } from './errors.ts';
import { notifyChannel, quoteIdentifier, tableName } from './keys.ts';
import type { TableName } from './keys.ts';
import { LockStore } from './lock-store.ts';
import { DEFAULTS, resolveFactoryOptions, validateLockName } from './options.ts';
import type { PostgresLockFactoryOptions, PostgresLockOptions, ResolvedFactoryOptions } from './options.ts';
import { PostgresLock } from './postgres-lock.ts';
import { PostgresPrimitives } from './postgres-primitives.ts';
import { SessionConnection } from './session.ts';
import { buildStatements } from './statements.ts';

/**
 * Makes {@link PostgresLock}s that share connections. However many lock names a process
 * campaigns for, it uses:
 * - the pool, for reads and for writes that do not make this process the holder;
 * - one dedicated **session** connection (or `sessionConnections` of them, each lock name
 *   bound to one by its key), opened on the first acquisition, holding every advisory lock
 *   this process has; a leader's writes and renewals run on it, which proves at each renewal
 *   that the session (and so the lock) is still there;
 * - one **LISTEN** connection, while anything is watched (no statements while it is up;
 *   polling every `holderCheckInterval` while it is down);
 * - one **holder-wait** connection, blocked on the advisory lock of one watched lock held by
 *   another process, so its holder's crash is heard at once (see `HolderWait`).
 *
 * Two identities of the same factory never hold the same name at once (checked locally), but
 * they share the session: use one factory per process, and separate factories to model
 * separate processes.
 *
 * @example
 * const factory = new PostgresLockFactory({ connectionString: process.env.DATABASE_URL });
 * const elector = new LeaderElector({ lock: factory.lock('billing-cron', defaultIdentity()), callbacks });
 */
export class PostgresLockFactory implements ResourceLockFactory {
  /** The record table, as given (validated). */
  readonly table: TableName;
  private readonly options: ResolvedFactoryOptions;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly channel: string;
  private readonly sessions: SessionConnection[];
  /** Session connections on which distributed-lock waiters wait at the server (see `ServerWaits`). */
  private readonly waitSessions: SessionConnection[];
  private readonly feed: ChangeFeed;
  /** The operations the locks call, and the advisory locks this process holds. */
  private readonly store: LockStore;
  /** Native semaphores and reader-writer locks on advisory locks: what `DistributedLocks` uses for them. */
  readonly primitives: PostgresPrimitives;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** @throws ConfigError naming the bad option. Connects lazily: nothing is opened yet. */
  constructor(options: PostgresLockFactoryOptions) {
    this.options = resolveFactoryOptions(options);
    const o = this.options;
    this.table = tableName(o.schema, o.table);
    this.ownsPool = o.pool === undefined;
    this.pool = o.pool ?? new pg.Pool(o.poolConfig);
    if (this.ownsPool) {
      // An idle pooled connection that dies must not crash the process; the next query reconnects.
      this.pool.on('error', (error) => o.logger.debug({ error: error.message }, 'baton postgres pool connection failed'));
    }
    this.channel = notifyChannel(o.schema, o.table);
    const statements = buildStatements(this.table, quoteIdentifier(this.channel));
    const newSession = (): SessionConnection => {
      const session: SessionConnection = new SessionConnection({
        clientConfig: o.clientConfig,
        applicationName: o.applicationName,
        connectTimeoutMs: o.connectTimeoutMs,
        sessionTimeoutMs: o.sessionTimeoutMs,
        replyTimeoutMs: o.sessionTimeoutMs + DEFAULTS.sessionReplyMarginMs,
        logger: o.logger,
        clock: o.clock,
        onLost: (generation, reason) => {
          this.store.onSessionLost(session, generation, reason);
          this.primitives.sessionLost(session, generation, reason);
        },
      });
      return session;
    };
    this.sessions = Array.from({ length: o.sessionConnections }, newSession);
    this.waitSessions = Array.from({ length: DEFAULTS.serverWaitConnections }, newSession);
    this.feed = new ChangeFeed({
      clientConfig: o.clientConfig,
      applicationName: o.applicationName,
      connectTimeoutMs: o.connectTimeoutMs,
      pool: this.pool,
      statements,
      channel: this.channel,
      holderCheckIntervalMs: o.holderCheckIntervalMs,
      operationTimeoutMs: o.operationTimeoutMs,
      logger: o.logger,
      clock: o.clock,
      describe: (name) => this.describe(name),
      // Held here, or being acquired here (a read may see the hold committed before the call returns).
      heldHere: (name) => this.store.holds.live(name) !== undefined || this.store.holds.busy(name),
    });
    this.store = new LockStore({ options: o, table: this.table, pool: this.pool, statements, channel: this.channel, sessions: this.sessions, waitSessions: this.waitSessions, feed: this.feed });
    this.primitives = new PostgresPrimitives({
      table: this.table,
      clock: o.clock,
      logger: o.logger,
      clientConfig: o.clientConfig,
      applicationName: o.applicationName,
      connectTimeoutMs: o.connectTimeoutMs,
      operationTimeoutMs: o.operationTimeoutMs,
      sessionFor: (key) => this.store.sessionFor(key),
      ready: (signal) => this.store.ready(signal ?? new AbortController().signal),
      keyOf: (name) => this.store.keyOf(name),
      describe: (name) => this.store.describe(name),
    });
  }

  /**
   * A lock on `name` for `identity`. Cheap: locks of one factory share its connections.
   * @throws ConfigError for an empty name or identity, or text PostgreSQL cannot store.
   */
  lock(name: string, identity: string): PostgresLock {
    if (this.closed) throw new BackendUnavailableError('the lock factory is closed');
    return new PostgresLock(this.store, name, identity);
  }

  /** The advisory-lock key of `name` in this factory's table (see `advisoryLockKey`). */
  keyOf(name: string): bigint {
    return this.store.keyOf(name);
  }

  /** `postgres <schema>.<table>/<name>`. */
  describe(name: string): string {
    return this.store.describe(name);
  }

  /** A lock whose `close()` closes this factory too (see {@link createPostgresLock}). @internal */
  ownLock(name: string, identity: string): PostgresLock {
    return new PostgresLock(this.store, name, identity, () => this.close());
  }

  /** The NOTIFY channel of the table (see {@link notifyChannel}). */
  get notifyChannel(): string {
    return this.channel;
  }

  /**
   * Backend pid (what `pg_terminate_backend` takes) of the session connection that holds the
   * advisory lock of `name`, or of the first session connection when no name is given; undefined
   * while it is not open.
   */
  sessionProcessId(name?: string): number | undefined {
    return (name === undefined ? this.sessions[0]! : this.store.sessionOf(name)).processId;
  }

  /** Backend pid of the LISTEN connection, when open. */
  get listenerProcessId(): number | undefined {
    return this.feed.processId;
  }

  /**
   * Creates the schema and table when missing and checks an existing table's columns; every
   * lock call does this once on its own, so calling it is optional (e.g. at deploy time).
   * @throws InvalidRecordError when the table exists but is not a baton record table.
   */
  async ensureTable(options?: LockCallOptions): Promise<void> {
    const describe = `postgres ${this.table.schema}.${this.table.table}`;
    if (this.closed) throw new BackendUnavailableError(`${describe}: the lock factory is closed`);
    await withCallSignal(this.options.clock, options?.signal, this.options.operationTimeoutMs, describe, async (signal) => {
      try {
        await this.store.ready(signal);
      } catch (error) {
        throw toLockError(error, describe);
      }
    });
  }

  /** Names whose advisory lock this process holds right now. */
  heldLocks(): string[] {
    return this.store.holds.heldNames();
  }

  /**
   * Closes the connections this factory opened: the session (so every advisory lock it held
   * is released at once and followers see `holderGone`), the LISTEN connection, and the pool
   * when it was opened from `connectionString` or `poolConfig`. A pool passed in stays open.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    await this.primitives.close();
    await this.feed.close();
    await Promise.all([...this.sessions, ...this.waitSessions].map((session) => session.close()));
    // Operations in flight fail now that the session is gone; let them finish before clearing up.
    await this.store.close();
    if (this.ownsPool) await this.pool.end().catch(() => {});
  }
}

/**
 * A lock with connections of its own (a pool, a session and a LISTEN connection, all opened
 * lazily), for a process that campaigns for one lock. `close()` closes them all.
 * @throws ConfigError naming the bad option.
 */
export function createPostgresLock(options: PostgresLockOptions): PostgresLock {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'expected an object');
  const { name, identity, ...factoryOptions } = options;
  validateLockName(name, identity);
  const factory = new PostgresLockFactory(factoryOptions);
  return factory.ownLock(name, identity);
}
