import { BackendUnavailableError, ConfigError, LockConflictError, LockLostError, LockNotFoundError, validateRecord } from '@baton/core';
import type { LeaderElectionRecord, LockCallOptions, LockSnapshot, WatchHandlers } from '@baton/core';
import pg from 'pg';
import { abortError, settleOnAbort, withCallSignal } from './abort.ts';
import { ChangeFeed } from './change-feed.ts';
import { decodeRow } from './codec.ts';
import type { RecordRow } from './codec.ts';
import { toLockError } from './errors.ts';
import { advisoryLockKey, notifyChannel, quoteIdentifier, tableName } from './keys.ts';
import type { TableName } from './keys.ts';
import { DEFAULTS, resolveFactoryOptions, validateLockName } from './options.ts';
import type { PostgresLockFactoryOptions, PostgresLockOptions, ResolvedFactoryOptions } from './options.ts';
import { PostgresLock } from './postgres-lock.ts';
import { ensureSchema } from './schema.ts';
import { SessionConnection } from './session.ts';
import { buildStatements, prepared } from './statements.ts';
import type { Statements } from './statements.ts';

/** An advisory lock this process holds on a session connection, for one lock name. */
interface Hold {
  readonly identity: string;
  readonly key: bigint;
  readonly session: SessionConnection;
  /** The connection of `session` it was taken on; it lasts exactly as long as that connection. */
  readonly generation: number;
  /** Lets go of the hold when it was not renewed within the lease duration it last wrote. */
  expiry: NodeJS.Timeout | undefined;
}

interface GetRow extends RecordRow {
  held: boolean;
}

/**
 * Makes {@link PostgresLock}s that share connections. However many lock names a process
 * campaigns for, it uses:
 * - the pool, for reads and for writes that do not make this process the holder;
 * - one dedicated **session** connection (or `sessionConnections` of them, each lock name
 *   bound to one by its key), opened on the first acquisition, holding every advisory lock
 *   this process has; a leader's writes and renewals run on it, which proves at each renewal
 *   that the session (and so the lock) is still there;
 * - one **LISTEN** connection, while anything is watched, plus one holder-check query every
 *   `holderCheckInterval` for all watched names.
 *
 * Two identities of the same factory never hold the same name at once (checked locally), but
 * they share the session: use one factory per process, and separate factories to model
 * separate processes.
 *
 * @example
 * const factory = new PostgresLockFactory({ connectionString: process.env.DATABASE_URL });
 * const elector = new LeaderElector({ lock: factory.lock('billing-cron', defaultIdentity()), callbacks });
 */
export class PostgresLockFactory {
  /** The record table, as given (validated). */
  readonly table: TableName;
  private readonly options: ResolvedFactoryOptions;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly statements: Statements;
  private readonly channel: string;
  private readonly sessions: SessionConnection[];
  private readonly feed: ChangeFeed;
  private readonly holds = new Map<string, Hold>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly locks = new Map<string, Set<PostgresLock>>();
  private schemaReady: Promise<void> | undefined;
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
    this.statements = buildStatements(this.table, quoteIdentifier(this.channel));
    this.sessions = Array.from({ length: o.sessionConnections }, () => {
      const session: SessionConnection = new SessionConnection({
        clientConfig: o.clientConfig,
        applicationName: o.applicationName,
        connectTimeoutMs: o.connectTimeoutMs,
        sessionTimeoutMs: o.sessionTimeoutMs,
        replyTimeoutMs: o.sessionTimeoutMs + DEFAULTS.sessionReplyMarginMs,
        logger: o.logger,
        onLost: (generation, reason) => this.onSessionLost(session, generation, reason),
      });
      return session;
    });
    this.feed = new ChangeFeed({
      clientConfig: o.clientConfig,
      applicationName: o.applicationName,
      connectTimeoutMs: o.connectTimeoutMs,
      pool: this.pool,
      statements: this.statements,
      channel: this.channel,
      holderCheckIntervalMs: o.holderCheckIntervalMs,
      operationTimeoutMs: o.operationTimeoutMs,
      logger: o.logger,
      describe: (name) => this.describe(name),
    });
  }

  /**
   * A lock on `name` for `identity`. Cheap: locks of one factory share its connections.
   * @throws ConfigError for an empty name or identity, or text PostgreSQL cannot store.
   */
  lock(name: string, identity: string): PostgresLock {
    if (this.closed) throw new BackendUnavailableError('the lock factory is closed');
    return new PostgresLock(this, name, identity);
  }

  /** The advisory-lock key of `name` in this factory's table (see {@link advisoryLockKey}). */
  keyOf(name: string): bigint {
    return advisoryLockKey(name, this.table.schema, this.table.table);
  }

  /** `postgres <schema>.<table>/<name>`. */
  describe(name: string): string {
    return `postgres ${this.table.schema}.${this.table.table}/${name}`;
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
    return (name === undefined ? this.sessions[0]! : this.sessionFor(this.keyOf(name))).processId;
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
    await withCallSignal(options?.signal, this.options.operationTimeoutMs, describe, async (signal) => {
      try {
        await this.ready(signal);
      } catch (error) {
        throw toLockError(error, describe);
      }
    });
  }

  /** Names whose advisory lock this process holds right now. */
  heldLocks(): string[] {
    return [...this.holds].filter(([, hold]) => hold.generation === hold.session.liveGeneration).map(([name]) => name);
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
    await this.feed.close();
    await Promise.all(this.sessions.map((session) => session.close()));
    // Operations in flight fail now that the session is gone; let them finish before clearing up.
    await Promise.allSettled([...this.chains.values()]);
    for (const hold of this.holds.values()) clearTimeout(hold.expiry);
    this.holds.clear();
    if (this.ownsPool) await this.pool.end().catch(() => {});
  }

  // ---- called by PostgresLock ---------------------------------------------------------------

  /** @internal */
  register(lock: PostgresLock): void {
    validateLockName(lock.name, lock.identity);
    let set = this.locks.get(lock.name);
    if (set === undefined) this.locks.set(lock.name, (set = new Set()));
    set.add(lock);
  }

  /** @internal Lets go of the lock's advisory lock (unless another open lock shares its identity) and forgets it. */
  async unregister(lock: PostgresLock): Promise<void> {
    const set = this.locks.get(lock.name);
    set?.delete(lock);
    if (set?.size === 0) this.locks.delete(lock.name);
    const twin = [...(set ?? [])].some((other) => other.identity === lock.identity);
    const hold = this.holds.get(lock.name);
    if (twin || hold === undefined || hold.identity !== lock.identity || this.closed) return;
    await this.serialize(lock.name, () => this.letGo(lock.name, hold));
  }

  /** @internal */
  get(lock: PostgresLock, options: LockCallOptions | undefined): Promise<LockSnapshot | null> {
    return this.call(lock, options, async (signal) => {
      await this.ready(signal);
      const { rows } = await this.pool.query<GetRow>(prepared(this.statements.get, [lock.name, lock.key.toString()]));
      const row = rows[0];
      if (row === undefined) return null;
      const snapshot = this.toSnapshot(row, lock.describe());
      return snapshot.record.holderIdentity !== '' && !row.held ? { ...snapshot, holderGone: true } : snapshot;
    });
  }

  /** @internal */
  create(lock: PostgresLock, record: LeaderElectionRecord, options: LockCallOptions | undefined): Promise<LockSnapshot> {
    return this.call(lock, options, async (signal) => {
      const r = validateRecord(record, lock.describe());
      const params = [lock.name, r.holderIdentity, r.leaseDurationMs, r.acquireTime, r.renewTime, r.leaderTransitions, r.fencingToken, this.channel];
      const miss = (): Error => new LockConflictError(`${lock.describe()} already exists`);
      if (r.holderIdentity === lock.identity) {
        return this.writeAsHolder(lock, signal, this.statements.insert, params, miss);
      }
      await this.ready(signal);
      const row = (await this.pool.query<RecordRow>(this.statements.insert, params)).rows[0];
      if (row === undefined) throw miss();
      return this.toSnapshot(row, lock.describe());
    });
  }

  /** @internal */
  update(lock: PostgresLock, record: LeaderElectionRecord, expectedVersion: string, options: LockCallOptions | undefined): Promise<LockSnapshot> {
    return this.call(lock, options, async (signal) => {
      const r = validateRecord(record, lock.describe());
      if (typeof expectedVersion !== 'string' || !/^\d{1,19}$/.test(expectedVersion)) {
        throw new LockConflictError(`${lock.describe()}: version ${JSON.stringify(expectedVersion)} is not a version of this lock`);
      }
      const params = [
        lock.name,
        expectedVersion,
        r.holderIdentity,
        r.leaseDurationMs,
        r.acquireTime,
        r.renewTime,
        r.leaderTransitions,
        r.fencingToken,
        this.channel,
      ];
      const miss = (): Promise<Error> => this.explainMiss(lock, expectedVersion);
      if (r.holderIdentity === lock.identity) {
        return this.writeAsHolder(lock, signal, this.statements.update, params, miss);
      }
      return this.writeAndLetGo(lock, signal, params, miss);
    });
  }

  /** @internal */
  watch(lock: PostgresLock, handlers: WatchHandlers): () => void {
    return this.feed.add(lock.name, lock.key, lock.identity, handlers);
  }

  /** @internal True while `lock`'s identity holds its advisory lock on the live session. */
  isHeldBy(lock: PostgresLock): boolean {
    const hold = this.holds.get(lock.name);
    return hold !== undefined && hold.identity === lock.identity && hold.generation === hold.session.liveGeneration;
  }

  // ---- writes -------------------------------------------------------------------------------

  /**
   * A write that names `lock`'s identity as holder (an acquisition or a renewal): it runs on
   * the session connection, after taking the advisory lock there when this identity does not
   * hold it yet. Someone else holding it → `LockConflictError`, before anything is written.
   */
  private writeAsHolder(
    lock: PostgresLock,
    signal: AbortSignal,
    statement: string,
    params: unknown[],
    miss: () => Error | Promise<Error>,
  ): Promise<LockSnapshot> {
    const describe = lock.describe();
    return this.serialize(lock.name, async () => {
      await this.ready(signal);
      let hold = this.liveHold(lock.name);
      if (hold !== undefined && hold.identity !== lock.identity) {
        throw new LockConflictError(`${describe} is held by "${hold.identity}" in this process`);
      }
      let fresh = false;
      if (hold === undefined) {
        const session = this.sessionFor(lock.key);
        const generation = await session.open();
        if (signal.aborted) throw abortError(signal);
        const [row] = await session.query<{ locked: boolean }>(generation, this.statements.tryLock, [lock.key.toString()]);
        if (row?.locked !== true) {
          throw new LockConflictError(`${describe} is held by another session (advisory lock ${lock.key})`);
        }
        hold = { identity: lock.identity, key: lock.key, session, generation, expiry: undefined };
        this.holds.set(lock.name, hold);
        fresh = true;
      }
      const started = performance.now();
      let rows: RecordRow[];
      try {
        if (signal.aborted) throw abortError(signal);
        rows = await hold.session.query<RecordRow>(hold.generation, statement, params);
      } catch (error) {
        if (fresh) await this.letGo(lock.name, hold);
        throw error;
      }
      const row = rows[0];
      if (row === undefined) {
        const error = await miss();
        // Keep a hold taken earlier only while the stored record still names this identity.
        if (fresh || !(await this.storedHolderIs(lock))) await this.letGo(lock.name, hold);
        throw error;
      }
      const snapshot = this.toSnapshot(row, describe);
      this.armExpiry(lock.name, hold, started, snapshot.record.leaseDurationMs);
      return snapshot;
    });
  }

  /**
   * A write that does not name `lock`'s identity (a release, or a handover to someone else).
   * When this identity holds the advisory lock, the write runs on the session and the advisory
   * lock is given back after it; otherwise it is a plain compare-and-swap through the pool.
   */
  private writeAndLetGo(lock: PostgresLock, signal: AbortSignal, params: unknown[], miss: () => Promise<Error>): Promise<LockSnapshot> {
    return this.serialize(lock.name, async () => {
      await this.ready(signal);
      if (signal.aborted) throw abortError(signal);
      const hold = this.liveHold(lock.name);
      const mine = hold !== undefined && hold.identity === lock.identity ? hold : undefined;
      const rows =
        mine !== undefined
          ? await mine.session.query<RecordRow>(mine.generation, this.statements.updateAndUnlock, [...params, mine.key.toString()])
          : (await this.pool.query<RecordRow>(prepared(this.statements.update, params))).rows;
      const row = rows[0];
      if (row === undefined) {
        const error = await miss();
        if (mine !== undefined && !(await this.storedHolderIs(lock))) await this.letGo(lock.name, mine);
        throw error;
      }
      // The statement already unlocked the key: only forget the hold.
      if (mine !== undefined) this.forget(lock.name, mine);
      return this.toSnapshot(row, lock.describe());
    });
  }

  /** Why a compare-and-swap matched no row: gone, corrupt (never overwritten), or a newer version. */
  private async explainMiss(lock: PostgresLock, expectedVersion: string): Promise<Error> {
    try {
      const row = (await this.pool.query<RecordRow>(this.statements.current, [lock.name])).rows[0];
      if (row === undefined) return new LockNotFoundError(`${lock.describe()} does not exist`);
      decodeRow(row, lock.describe());
      return new LockConflictError(`${lock.describe()} was modified (version ${row.version}, expected ${expectedVersion})`);
    } catch (error) {
      return toLockError(error, lock.describe());
    }
  }

  private async storedHolderIs(lock: PostgresLock): Promise<boolean> {
    try {
      const row = (await this.pool.query<RecordRow>(this.statements.current, [lock.name])).rows[0];
      return row !== undefined && row.holder_identity === lock.identity;
    } catch {
      return true; // unknown: keep it; the expiry timer still bounds it
    }
  }

  // ---- holds --------------------------------------------------------------------------------

  /** The hold on `name`, dropping one whose session connection is gone. */
  private liveHold(name: string): Hold | undefined {
    const hold = this.holds.get(name);
    if (hold !== undefined && hold.generation !== hold.session.liveGeneration) {
      clearTimeout(hold.expiry);
      this.holds.delete(name);
      return undefined;
    }
    return hold;
  }

  /**
   * A hold not renewed within the lease it last wrote is let go, so the advisory lock never
   * outlives the lease: followers may then take over as they would at expiry. (An elector's
   * leader steps down at renewDeadline, earlier.)
   */
  private armExpiry(name: string, hold: Hold, started: number, leaseDurationMs: number): void {
    clearTimeout(hold.expiry);
    if (this.closed || this.holds.get(name) !== hold) return;
    hold.expiry = setTimeout(
      () => {
        hold.expiry = undefined;
        if (this.holds.get(name) !== hold) return;
        this.options.logger.info({ lock: this.describe(name) }, 'baton postgres: lease not renewed in time; releasing its advisory lock');
        void this.serialize(name, () => this.letGo(name, hold));
      },
      Math.max(0, started + leaseDurationMs - performance.now()),
    );
  }

  /** Forgets `hold` without touching the server. @returns whether it was the current hold. */
  private forget(name: string, hold: Hold): boolean {
    clearTimeout(hold.expiry);
    hold.expiry = undefined;
    if (this.holds.get(name) !== hold) return false;
    this.holds.delete(name);
    return true;
  }

  /** Forgets `hold` and unlocks its key on the session (best effort: a dead session held nothing). */
  private async letGo(name: string, hold: Hold): Promise<void> {
    if (!this.forget(name, hold)) return;
    if (hold.generation !== hold.session.liveGeneration) return;
    try {
      await hold.session.query(hold.generation, this.statements.unlock, [hold.key.toString()]);
    } catch (error) {
      this.options.logger.debug({ lock: this.describe(name), error: (error as Error).message }, 'baton postgres: unlock failed');
    }
  }

  private onSessionLost(session: SessionConnection, generation: number, reason: Error): void {
    const lost: Array<[string, string]> = [];
    for (const [name, hold] of this.holds) {
      if (hold.session !== session || hold.generation !== generation) continue;
      clearTimeout(hold.expiry);
      this.holds.delete(name);
      lost.push([name, hold.identity]);
    }
    if (lost.length > 0) {
      this.options.logger.warn({ locks: lost.length, error: reason.message }, 'baton postgres session connection lost with its advisory locks');
    }
    for (const [name, identity] of lost) {
      const error = new LockLostError(`${this.describe(name)}: session connection lost: ${reason.message}`, { cause: reason });
      for (const lock of this.locks.get(name) ?? []) if (lock.identity === identity) lock.sessionLost(error);
    }
  }

  // ---- plumbing -----------------------------------------------------------------------------

  /** The session connection that holds the advisory lock of `key`: a fixed choice per key. */
  private sessionFor(key: bigint): SessionConnection {
    return this.sessions[Number(BigInt.asUintN(64, key) % BigInt(this.sessions.length))]!;
  }

  /** Runs one operation per lock name at a time, so local holds always match the server. */
  private serialize<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const result = previous.then(operation);
    const settled = result.then(
      () => {},
      () => {},
    );
    this.chains.set(name, settled);
    void settled.then(() => {
      if (this.chains.get(name) === settled) this.chains.delete(name);
    });
    return result;
  }

  private ready(signal: AbortSignal): Promise<void> {
    this.schemaReady ??= ensureSchema(this.pool, this.table).catch((error: unknown) => {
      this.schemaReady = undefined;
      throw error;
    });
    return settleOnAbort(this.schemaReady, signal);
  }

  private call<T>(lock: PostgresLock, options: LockCallOptions | undefined, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const describe = lock.describe();
    if (this.closed) return Promise.reject(new BackendUnavailableError(`${describe}: the lock factory is closed`));
    return withCallSignal(options?.signal, this.options.operationTimeoutMs, describe, async (signal) => {
      try {
        return await operation(signal);
      } catch (error) {
        throw toLockError(error, describe);
      }
    });
  }

  private toSnapshot(row: RecordRow, describe: string): LockSnapshot {
    return { record: decodeRow(row, describe), version: String(row.version) };
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
  return new PostgresLock(new PostgresLockFactory(factoryOptions), name, identity, true);
}
