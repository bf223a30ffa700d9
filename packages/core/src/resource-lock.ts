import type { LeaderElectionRecord } from './record.ts';

/** A record as read from a backend, with the opaque version a compare-and-swap must name. */
export interface LockSnapshot {
  readonly record: LeaderElectionRecord;
  /** Opaque to callers; changes whenever the stored object changes. */
  readonly version: string;
  /**
   * Set by backends that bind a holder to a live session (PostgreSQL): the holder named in
   * the record is known to be gone, so the lock may be taken without waiting for expiry.
   */
  readonly holderGone?: boolean;
}

/** Listeners for {@link ResourceLock.watch}. */
export interface WatchHandlers {
  /**
   * The stored record changed. `snapshot` is the new state when the backend delivers it,
   * `null` when the record was deleted, and `undefined` when the listener must re-read.
   */
  onChange(snapshot?: LockSnapshot | null): void;
  /**
   * `true` once the watch is established, `false` when it broke. While it is broken the
   * elector falls back to polling; after it comes back the elector re-reads, because a
   * change may have been missed in between.
   */
  onHealth?(healthy: boolean): void;
}

/** Per-call options: every backend call must settle once `signal` aborts. */
export interface LockCallOptions {
  signal?: AbortSignal;
}

/**
 * The storage a {@link LeaderElector} campaigns on. Implementations: `MemoryLock` (core),
 * `@baton/lock-lease`, `@baton/lock-endpoints`, `@baton/lock-redis`, `@baton/lock-postgres`.
 *
 * Semantics every implementation must keep (checked by `@baton/contract`):
 * - `get` returns `null` when nothing is stored, and throws `InvalidRecordError` for data
 *   that is not a record; it never repairs it.
 * - `create` throws `LockConflictError` when a record already exists.
 * - `update` is a compare-and-swap against `expectedVersion`; a stale version throws
 *   `LockConflictError`, a vanished record `LockNotFoundError`. Fields the backend does not
 *   own (labels, other annotations) are kept.
 * - `create` and `update` return what was stored. A backend with a server-side fencing
 *   counter may store a larger `fencingToken` than asked, never a smaller one.
 * - Unreachable backends throw `BackendUnavailableError`; missing rights `PermissionDeniedError`.
 */
export interface ResourceLock {
  /** The identity this process campaigns under. */
  readonly identity: string;
  /** Human-readable name of the lock, e.g. `lease default/my-app` or `redis baton:{my-app}`. */
  describe(): string;
  get(options?: LockCallOptions): Promise<LockSnapshot | null>;
  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot>;
  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot>;
  /**
   * Optional: push notifications of changes, so followers react at once instead of polling.
   * @returns a function that stops the watch.
   */
  watch?(handlers: WatchHandlers): () => void;
  /**
   * Optional: for backends whose hold is bound to a connection. The listener runs the moment
   * that connection is gone, so a leader steps down at once instead of at its renew deadline.
   * @returns a function that removes the listener.
   */
  onSessionLost?(listener: (reason: Error) => void): () => void;
  /** Optional: closes connections this lock opened itself (clients passed in stay open). */
  close?(): Promise<void>;
}
