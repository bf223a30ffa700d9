import { BackendUnavailableError, LockLostError } from '@baton/core';
import type { AcquireIfFreeResult, AcquireWhenFreeOptions, AcquireWhenFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';

/**
 * What a {@link PostgresLock} asks of the factory that made it (its record store and its
 * shared connections): the lock holds no connection and no state of its own beyond its
 * listeners, so everything it does goes through this.
 */
export interface PostgresLockHost {
  /** The advisory-lock key of `name` (see `advisoryLockKey`). */
  keyOf(name: string): bigint;
  describe(name: string): string;
  /** Validates name and identity, and makes the lock reachable for session-loss reports. */
  register(lock: PostgresLock): void;
  /** Gives back the lock's advisory lock (unless another open lock shares its identity) and forgets it. */
  unregister(lock: PostgresLock): Promise<void>;
  get(lock: PostgresLock, options: LockCallOptions | undefined): Promise<LockSnapshot | null>;
  create(lock: PostgresLock, record: LeaderElectionRecord, options: LockCallOptions | undefined): Promise<LockSnapshot>;
  update(lock: PostgresLock, record: LeaderElectionRecord, expectedVersion: string, options: LockCallOptions | undefined): Promise<LockSnapshot>;
  release(lock: PostgresLock, record: LeaderElectionRecord, expectedVersion: string, options: LockCallOptions | undefined): Promise<LockSnapshot | null>;
  acquireIfFree(lock: PostgresLock, record: LeaderElectionRecord, options: LockCallOptions | undefined): Promise<AcquireIfFreeResult>;
  acquireWhenFree(lock: PostgresLock, record: LeaderElectionRecord, options: AcquireWhenFreeOptions): Promise<AcquireWhenFreeResult>;
  watch(lock: PostgresLock, handlers: WatchHandlers): () => void;
  /** True while `lock`'s identity holds its advisory lock on the live session. */
  isHeldBy(lock: PostgresLock): boolean;
  /** The server closes a silent session (and frees its advisory locks) this long after its last statement. */
  readonly sessionTimeoutMs: number;
}

/**
 * A {@link ResourceLock} on PostgreSQL: the record is a row of the factory's table, the
 * mutual exclusion a session-level advisory lock on the factory's session connection.
 *
 * - `get` reads the row through the pool and sets `holderGone` when the row names a holder
 *   but no session holds the advisory lock any more (the holder crashed or was cut off).
 * - `create`/`update` naming this identity as holder take the advisory lock
 *   (`pg_try_advisory_lock`; taken elsewhere → `LockConflictError`) and write with
 *   compare-and-swap on the version in ONE statement on the session connection. Renewals run
 *   on the same connection, so a successful renewal proves the advisory lock is still held.
 * - `acquireIfFree` (the fast path) is one statement too: it writes only over an absent or
 *   released record, and only when it took the advisory lock.
 * - `acquireWhenFree` blocks in `pg_advisory_lock` and writes the new term once granted.
 * - A write that clears the holder (release) gives the advisory lock back in the same statement;
 *   through `release`, first — and when a waiter at the server was granted it in that call,
 *   nothing more is written (`null`): the waiter's own statement writes its term next.
 * - `watch` is LISTEN/NOTIFY plus the factory's holder checks; `onSessionLost` fires the
 *   moment the session connection holding this lock is gone.
 *
 * Get one from {@link PostgresLockFactory.lock}, or {@link createPostgresLock} for a lock with
 * connections of its own.
 */
export class PostgresLock implements ResourceLock {
  readonly identity: string;
  /** The lock name: the row's primary key. */
  readonly name: string;
  /** The advisory-lock key (see `advisoryLockKey`). */
  readonly key: bigint;
  private readonly host: PostgresLockHost;
  /** Runs after this lock's own close (a standalone lock closes its factory there). */
  private readonly afterClose: (() => Promise<void>) | undefined;
  private readonly sessionListeners = new Set<(reason: Error) => void>();
  private readonly watchStops = new Set<() => void>();
  private closed = false;

  /**
   * Prefer {@link PostgresLockFactory.lock}.
   * @param afterClose - runs at the end of `close()` (used by {@link createPostgresLock} to close its factory).
   * @throws ConfigError for an empty name or identity, or text PostgreSQL cannot store.
   */
  constructor(host: PostgresLockHost, name: string, identity: string, afterClose?: () => Promise<void>) {
    this.host = host;
    this.name = name;
    this.identity = identity;
    this.afterClose = afterClose;
    host.register(this);
    this.key = host.keyOf(name);
  }

  /** A holder that goes silent loses the lock with its session: `sessionTimeout` after its last statement. */
  get silentHolderTimeoutMs(): number {
    return this.host.sessionTimeoutMs;
  }

  describe(): string {
    return this.host.describe(this.name);
  }

  get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    return this.closed ? this.refuse() : this.host.get(this, options);
  }

  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    return this.closed ? this.refuse() : this.host.create(this, record, options);
  }

  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    return this.closed ? this.refuse() : this.host.update(this, record, expectedVersion, options);
  }

  /** A release that a waiter blocked at the server takes over at once (see `ResourceLock.release`). */
  release(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot | null> {
    return this.closed ? this.refuse() : this.host.release(this, record, expectedVersion, options);
  }

  /**
   * The fast path: ONE statement on the session connection takes the advisory lock and, when
   * the record is absent or released, writes the new term (see the README, "The fast path").
   */
  acquireIfFree(record: LeaderElectionRecord, options?: LockCallOptions): Promise<AcquireIfFreeResult> {
    return this.closed ? this.refuse() : this.host.acquireIfFree(this, record, options);
  }

  /**
   * Waits at the server (on a connection of the factory's kept for it) until the holder lets
   * go, and writes the new term in the same statement (see the README, "Handover").
   */
  acquireWhenFree(record: LeaderElectionRecord, options: AcquireWhenFreeOptions): Promise<AcquireWhenFreeResult> {
    return this.closed ? this.refuse() : this.host.acquireWhenFree(this, record, options);
  }

  watch(handlers: WatchHandlers): () => void {
    if (this.closed) return () => {};
    const stop = this.host.watch(this, handlers);
    const remove = (): void => {
      this.watchStops.delete(remove);
      stop();
    };
    this.watchStops.add(remove);
    return remove;
  }

  onSessionLost(listener: (reason: Error) => void): () => void {
    this.sessionListeners.add(listener);
    return () => {
      this.sessionListeners.delete(listener);
    };
  }

  /** True while this identity holds the lock's advisory lock on this process's live session. */
  isHeld(): boolean {
    return this.host.isHeldBy(this);
  }

  /**
   * Stops this lock's watches and gives back its advisory lock: the record is left as it is,
   * and followers see `holderGone` and take over at once. A lock held at that moment reports
   * `onSessionLost` first. Later calls fail with `BackendUnavailableError`. Closes the factory
   * too when the lock was made by {@link createPostgresLock}.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.watchStops]) stop();
    if (this.isHeld()) this.sessionLost(new LockLostError(`${this.describe()}: the lock was closed while held`));
    this.sessionListeners.clear();
    await this.host.unregister(this);
    await this.afterClose?.();
  }

  private refuse(): Promise<never> {
    return Promise.reject(new BackendUnavailableError(`${this.describe()}: the lock is closed`));
  }

  /** @internal Called by the host when the session connection holding this lock is gone. */
  sessionLost(reason: Error): void {
    for (const listener of [...this.sessionListeners]) {
      try {
        listener(reason);
      } catch {
        // A listener that throws must not keep the others from hearing about it.
      }
    }
  }
}
