import { BackendUnavailableError, LockConflictError, LockLostError, validateRecord } from '@baton/core';
import type { AcquireIfFreeResult, AcquireWhenFreeOptions, AcquireWhenFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, WatchHandlers } from '@baton/core';
import type pg from 'pg';
import { abortError, settleOnAbort, withCallSignal } from './abort.ts';
import type { ChangeFeed } from './change-feed.ts';
import { rowSnapshot } from './codec.ts';
import type { RecordRow } from './codec.ts';
import { toLockError } from './errors.ts';
import { HoldBook } from './holds.ts';
import type { Hold } from './holds.ts';
import { keysOf } from './keys.ts';
import type { TableName } from './keys.ts';
import { validateLockName } from './options.ts';
import type { ResolvedFactoryOptions } from './options.ts';
import type { PostgresLock, PostgresLockHost } from './postgres-lock.ts';
import { explainMiss, readAfterMiss, storedHolderIs } from './record-reads.ts';
import type { MissRead } from './record-reads.ts';
import { ensureSchema } from './schema.ts';
import { ServerWaits } from './server-wait.ts';
import { writeAndLetGo } from './let-go.ts';
import type { LetGoContext } from './let-go.ts';
import { chooseSession } from './session.ts';
import type { SessionConnection } from './session.ts';
import { prepared } from './statements.ts';
import type { Statements } from './statements.ts';
import { EpochNotCurrentError, TokenEpoch } from './token-epoch.ts';

interface GetRow extends RecordRow {
  held: boolean;
}

/** What a statement that takes the advisory lock itself returns (see `LOCKED_WRITE`). */
interface LockedRow extends RecordRow {
  locked: boolean;
  /** False: the token epoch is stale (the server restarted); nothing was written. */
  epoch_ok: boolean;
}

interface AcquireRow extends LockedRow {
  acquired: boolean;
}

/** What a {@link LockStore} works with: the factory's connections and settings. */
export interface LockStoreSettings {
  options: ResolvedFactoryOptions;
  table: TableName;
  pool: pg.Pool;
  statements: Statements;
  channel: string;
  sessions: readonly SessionConnection[];
  /** Connections kept for waits at the server (see {@link ServerWaits}). */
  waitSessions: readonly SessionConnection[];
  feed: ChangeFeed;
}

/**
 * Every operation of the factory's locks (the {@link PostgresLockHost} they call): reads
 * through the pool, writes that make this process the holder on the session connection, and
 * the advisory locks this process holds ({@link HoldBook}).
 */
export class LockStore implements PostgresLockHost {
  readonly holds: HoldBook;
  readonly sessionTimeoutMs: number;
  private readonly settings: LockStoreSettings;
  private readonly waits: ServerWaits;
  private readonly letGo: LetGoContext;
  private readonly epoch: TokenEpoch;
  private readonly keys: (name: string) => bigint;
  private readonly locks = new Map<string, Set<PostgresLock>>();
  private schemaReady: Promise<void> | undefined;
  private closed = false;

  constructor(settings: LockStoreSettings) {
    this.settings = settings;
    const { options, statements } = settings;
    this.sessionTimeoutMs = options.sessionTimeoutMs;
    this.keys = keysOf(settings.table.schema, settings.table.table);
    this.holds = new HoldBook({
      clock: options.clock,
      logger: options.logger,
      unlockStatement: statements.unlock,
      describe: (name) => this.describe(name),
    });
    this.epoch = new TokenEpoch(settings.pool, settings.table.quoted);
    this.letGo = { holds: this.holds, statements, pool: settings.pool };
    const { waitSessions: sessions, channel, feed } = settings;
    const { holds, epoch } = this;
    this.waits = new ServerWaits({ sessions, statements, channel, feed, holds, epoch, clock: options.clock, ready: (signal) => this.ready(signal) });
  }

  keyOf(name: string): bigint {
    return this.keys(name);
  }

  describe(name: string): string {
    return `postgres ${this.settings.table.schema}.${this.settings.table.table}/${name}`;
  }

  /** The session connection an acquisition of `key` runs on (see {@link chooseSession}). */
  sessionFor(key: bigint): SessionConnection {
    return chooseSession(this.settings.sessions, key, this.settings.options.fixedSessions);
  }

  /** The session connection holding `name`'s advisory lock, or the one an acquisition would use. */
  sessionOf(name: string): SessionConnection {
    return this.holds.live(name)?.session ?? this.sessionFor(this.keyOf(name));
  }

  /** Creates or checks the table and makes its token epoch current, once (again after a failure). */
  ready(signal: AbortSignal): Promise<void> {
    const { pool, table } = this.settings;
    this.schemaReady ??= ensureSchema(pool, table).then(() => this.epoch.ensure()).catch((error: unknown) => {
      this.schemaReady = undefined;
      throw error;
    });
    return settleOnAbort(this.schemaReady, signal);
  }

  /** Refuses further calls, then waits for those in flight and forgets every hold (call after closing the sessions). */
  async close(): Promise<void> {
    this.closed = true;
    await this.holds.close();
  }

  // ---- PostgresLockHost ---------------------------------------------------------------------

  register(lock: PostgresLock): void {
    validateLockName(lock.name, lock.identity);
    let set = this.locks.get(lock.name);
    if (set === undefined) this.locks.set(lock.name, (set = new Set()));
    set.add(lock);
  }

  async unregister(lock: PostgresLock): Promise<void> {
    const set = this.locks.get(lock.name);
    set?.delete(lock);
    if (set?.size === 0) this.locks.delete(lock.name);
    if (set !== undefined) for (const other of set) if (other.identity === lock.identity) return;
    const hold = this.holds.live(lock.name);
    if (hold === undefined || hold.identity !== lock.identity || this.closed) return;
    await this.holds.serialize(lock.name, () => this.holds.letGo(lock.name, hold));
  }

  get(lock: PostgresLock, options: LockCallOptions | undefined): Promise<LockSnapshot | null> {
    return this.call(lock, options, async (signal) => {
      await this.ready(signal);
      const { rows } = await this.settings.pool.query<GetRow>(prepared(this.settings.statements.get, [lock.name, lock.key.toString()]));
      const row = rows[0];
      if (row === undefined) return null;
      const read = rowSnapshot(row, lock.describe());
      const snapshot = read.record.holderIdentity !== '' && !row.held ? { ...read, holderGone: true } : read;
      this.settings.feed.sawRecord(lock.name, snapshot, this.holds.live(lock.name) !== undefined);
      return snapshot;
    });
  }

  create(lock: PostgresLock, record: LeaderElectionRecord, options: LockCallOptions | undefined): Promise<LockSnapshot> {
    return this.call(lock, options, async (signal) => {
      const r = validateRecord(record, lock.describe());
      const params = [lock.name, r.holderIdentity, r.leaseDurationMs, r.acquireTime, r.renewTime, r.leaderTransitions, r.fencingToken, this.settings.channel];
      const miss = (): Error => new LockConflictError(`${lock.describe()} already exists`);
      const { statements } = this.settings;
      if (r.holderIdentity === lock.identity) {
        return this.writeAsHolder(lock, signal, { held: statements.insert, locking: statements.lockAndInsert }, params, miss);
      }
      await this.ready(signal);
      const row = (await this.settings.pool.query<RecordRow>(prepared(statements.insert, params))).rows[0];
      if (row === undefined) {
        await readAfterMiss(this.settings, lock); // throws when the token epoch was why
        throw miss();
      }
      return rowSnapshot(row, lock.describe());
    });
  }

  update(lock: PostgresLock, record: LeaderElectionRecord, expectedVersion: string, options: LockCallOptions | undefined): Promise<LockSnapshot> {
    return this.write(lock, record, expectedVersion, options, false) as Promise<LockSnapshot>;
  }

  release(lock: PostgresLock, record: LeaderElectionRecord, expectedVersion: string, options: LockCallOptions | undefined): Promise<LockSnapshot | null> {
    return this.write(lock, record, expectedVersion, options, true);
  }

  /** `update`, or with `handOver` a release that a waiter at the server may take over instead (see let-go.ts). */
  private write(lock: PostgresLock, record: LeaderElectionRecord, expectedVersion: string, options: LockCallOptions | undefined, handOver: boolean): Promise<LockSnapshot | null> {
    return this.call(lock, options, async (signal) => {
      const r = validateRecord(record, lock.describe());
      if (typeof expectedVersion !== 'string' || !/^\d{1,19}$/.test(expectedVersion)) {
        throw new LockConflictError(`${lock.describe()}: version ${JSON.stringify(expectedVersion)} is not a version of this lock`);
      }
      const fields = [r.holderIdentity, r.leaseDurationMs, r.acquireTime, r.renewTime, r.leaderTransitions, r.fencingToken];
      const params = [lock.name, expectedVersion, ...fields, this.settings.channel];
      const miss = async (read: () => Promise<MissRead>): Promise<Error> => explainMiss(await read(), lock, expectedVersion);
      const { statements } = this.settings;
      if (r.holderIdentity === lock.identity) {
        return this.writeAsHolder(lock, signal, { held: statements.update, locking: statements.lockAndUpdate }, params, miss);
      }
      return this.holds.serialize(lock.name, async () => {
        await this.ready(signal);
        if (signal.aborted) throw abortError(signal);
        return writeAndLetGo(this.letGo, lock, params, miss, handOver && r.holderIdentity === '');
      });
    });
  }

  acquireIfFree(lock: PostgresLock, record: LeaderElectionRecord, options: LockCallOptions | undefined): Promise<AcquireIfFreeResult> {
    return this.call(lock, options, (signal) => {
      const r = validateRecord(record, lock.describe());
      return this.holds.serialize(lock.name, () => this.acquireOnSession(lock, r, signal));
    });
  }

  acquireWhenFree(lock: PostgresLock, record: LeaderElectionRecord, options: AcquireWhenFreeOptions): Promise<AcquireWhenFreeResult> {
    // Bounded by the call's own deadline, with room for the write after the wait.
    const maxWaitMs = Math.min(options.maxWaitMs, this.settings.options.operationTimeoutMs / 2);
    return this.call(lock, options, (signal) => this.waits.acquireWhenFree(lock, validateRecord(record, lock.describe()), maxWaitMs, signal));
  }

  watch(lock: PostgresLock, handlers: WatchHandlers): () => void {
    return this.settings.feed.add(lock.name, lock.key, lock.identity, handlers);
  }

  isHeldBy(lock: PostgresLock): boolean {
    return this.holds.isHeldBy(lock.name, lock.identity);
  }

  /** The session connection `session` lost generation `generation`: its holders hear it at once. */
  onSessionLost(session: SessionConnection, generation: number, reason: Error): void {
    const lost = this.holds.sessionLost(session, generation);
    if (lost.length > 0) {
      this.settings.options.logger.warn({ locks: lost.length, error: reason.message }, 'baton postgres session connection lost with its advisory locks');
    }
    for (const { name, identity } of lost) {
      const error = new LockLostError(`${this.describe(name)}: session connection lost: ${reason.message}`, { cause: reason });
      for (const lock of this.locks.get(name) ?? []) if (lock.identity === identity) lock.sessionLost(error);
    }
  }

  // ---- writes -------------------------------------------------------------------------------

  /**
   * The fast path, ONE statement on the session connection: takes the advisory lock and, when
   * the record is absent or released, writes the new term (`statements.acquireIfFree`).
   */
  private async acquireOnSession(lock: PostgresLock, record: LeaderElectionRecord, signal: AbortSignal): Promise<AcquireIfFreeResult> {
    const describe = lock.describe();
    await this.ready(signal);
    if (this.holds.live(lock.name) !== undefined) {
      // Held in this process (by this identity or another): nothing to write; say what is stored.
      const row = (await this.settings.pool.query<RecordRow>(prepared(this.settings.statements.current, [lock.name]))).rows[0];
      if (row === undefined) throw new LockConflictError(`${describe} is held in this process but has no record`);
      return { acquired: false, snapshot: rowSnapshot(row, describe) };
    }
    const session = this.sessionFor(lock.key);
    const generation = await session.open();
    if (signal.aborted) throw abortError(signal);
    const started = this.settings.options.clock.now();
    const fields = [record.holderIdentity, record.leaseDurationMs, record.acquireTime, record.renewTime, record.leaderTransitions, record.fencingToken];
    const params = [lock.name, ...fields, this.settings.channel, lock.key.toString()];
    let row: AcquireRow | undefined;
    try {
      [row] = await session.query<AcquireRow>(generation, this.settings.statements.acquireIfFree, params);
    } catch (error) {
      // The statement may have taken the advisory lock before it failed: give it back.
      await this.unlockAfterFailure(lock, session, generation);
      throw error;
    }
    if (row?.epoch_ok === false) throw new EpochNotCurrentError(); // nothing written, the advisory lock given back
    if (row === undefined || row.version === null) {
      throw new LockConflictError(`${describe} is being written by another session (advisory lock ${lock.key})`);
    }
    if (!row.acquired) {
      const snapshot = rowSnapshot(row, describe);
      if (snapshot.record.holderIdentity === '') {
        throw new LockConflictError(`${describe} is released but another session holds its advisory lock`);
      }
      // The advisory lock was free (and given back at once) yet nothing was written: the row
      // did not pass the statement's checks (a valid row naming a gone holder is taken over).
      const stored = row.locked ? { ...snapshot, holderGone: true } : snapshot;
      this.settings.feed.sawRecord(lock.name, stored, false);
      return { acquired: false, snapshot: stored };
    }
    const hold: Hold = { identity: lock.identity, key: lock.key, session, generation, expiry: undefined };
    this.holds.add(lock.name, hold);
    const snapshot = rowSnapshot(row, describe);
    this.holds.armExpiry(lock.name, hold, started, snapshot.record.leaseDurationMs);
    this.settings.feed.sawRecord(lock.name, snapshot, true);
    return { acquired: true, snapshot };
  }

  /**
   * A write that names `lock`'s identity as holder (an acquisition or a renewal): it runs on
   * the session connection. When this identity holds the advisory lock already, it is the
   * plain write (`held`); otherwise `locking`, which takes the advisory lock and writes in ONE
   * statement. Someone else holding it → `LockConflictError`, and nothing is written.
   */
  private writeAsHolder(
    lock: PostgresLock,
    signal: AbortSignal,
    statement: { held: string; locking: string },
    params: unknown[],
    miss: (read: () => Promise<MissRead>) => Error | Promise<Error>,
  ): Promise<LockSnapshot> {
    const describe = lock.describe();
    return this.holds.serialize(lock.name, async () => {
      await this.ready(signal);
      const held = this.holds.live(lock.name);
      if (held !== undefined && held.identity !== lock.identity) {
        throw new LockConflictError(`${describe} is held by "${held.identity}" in this process`);
      }
      if (signal.aborted) throw abortError(signal);
      const { clock } = this.settings.options;
      if (held !== undefined) {
        const started = clock.now();
        const row = (await held.session.query<RecordRow>(held.generation, statement.held, params))[0];
        if (row === undefined) {
          const read = await readAfterMiss(this.settings, lock);
          const error = await miss(async () => read);
          // Keep the hold only while the stored record still names this identity.
          if (!storedHolderIs(read, lock)) await this.holds.letGo(lock.name, held);
          throw error;
        }
        const snapshot = rowSnapshot(row, describe);
        this.holds.armExpiry(lock.name, held, started, snapshot.record.leaseDurationMs);
        return snapshot;
      }
      const session = this.sessionFor(lock.key);
      const generation = await session.open();
      if (signal.aborted) throw abortError(signal);
      const started = clock.now();
      let row: LockedRow | undefined;
      try {
        [row] = await session.query<LockedRow>(generation, statement.locking, [...params, lock.key.toString()]);
      } catch (error) {
        await this.unlockAfterFailure(lock, session, generation);
        throw error;
      }
      if (row?.epoch_ok === false) throw new EpochNotCurrentError(); // nothing written, the advisory lock given back
      if (row?.locked !== true) throw new LockConflictError(`${describe} is held by another session (advisory lock ${lock.key})`);
      if (row.version === null) throw await miss(() => readAfterMiss(this.settings, lock)); // the statement gave the advisory lock back
      const hold: Hold = { identity: lock.identity, key: lock.key, session, generation, expiry: undefined };
      this.holds.add(lock.name, hold);
      const snapshot = rowSnapshot(row, describe);
      this.holds.armExpiry(lock.name, hold, started, snapshot.record.leaseDurationMs);
      return snapshot;
    });
  }

  /**
   * A statement that takes the advisory lock failed: it may have taken it before failing
   * (session-level advisory locks survive a rolled-back statement), so give it back. Best
   * effort: a connection that is gone held nothing.
   */
  private async unlockAfterFailure(lock: PostgresLock, session: SessionConnection, generation: number): Promise<void> {
    if (generation !== session.liveGeneration) return;
    try {
      await session.query(generation, this.settings.statements.unlock, [lock.key.toString()]);
    } catch {
      // the connection failed too: its advisory locks are gone with it
    }
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private call<T>(lock: PostgresLock, options: LockCallOptions | undefined, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const describe = lock.describe();
    if (this.closed) return Promise.reject(new BackendUnavailableError(`${describe}: the lock factory is closed`));
    const { clock, operationTimeoutMs } = this.settings.options;
    return withCallSignal(clock, options?.signal, operationTimeoutMs, describe, async (signal) => {
      try {
        // A write that found the token epoch stale wrote nothing: made current, it runs again.
        return await this.epoch.retrying(describe, () => operation(signal));
      } catch (error) {
        throw toLockError(error, describe);
      }
    });
  }
}
