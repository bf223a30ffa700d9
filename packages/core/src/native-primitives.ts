import type { LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from './resource-lock.ts';

/**
 * What one try at a native primitive gave: a unit held (a permit, a read, a writer's place),
 * or nothing, with how long until one may come free without a notification.
 */
export type NativeAttempt =
  | {
      readonly granted: true;
      /**
       * The unit as a lock of its own, for renewing and releasing it exactly as a held mutex
       * record is (see {@link NativePrimitives} for the rules).
       */
      readonly hold: ResourceLock;
      /** The unit as stored: `holderIdentity` the caller's identity, `fencingToken` its token. */
      readonly snapshot: LockSnapshot;
    }
  | {
      readonly granted: false;
      /**
       * The longest a waiter need wait before trying again when it is told of no change:
       * until the first unit in the way expires (by the backend's own clock), or
       * `Infinity` when only a release can free one (a hold bound to a live session).
       */
      readonly retryInMs: number;
    };

/** A writer's place taken by {@link NativeReadWrite.tryWrite}: held, but the write may not start before `readers` is 0. */
export type NativeWriteAttempt =
  | (Extract<NativeAttempt, { granted: true }> & { readonly readers: number; readonly retryInMs: number })
  | Extract<NativeAttempt, { granted: false }>;

/** Options of one try at a semaphore's permit. */
export interface NativeTryOptions extends LockCallOptions {
  /**
   * The caller will wait for a release if refused (an `acquire`, not a `tryAcquire`): the
   * backend may queue it, and then wake waiting processes in turn, one per release, instead
   * of every watcher at once.
   */
  wait?: boolean;
}

/** A counting semaphore kept natively by the backend. */
export interface NativeSemaphore {
  /** One try at a permit for `identity`, lasting `leaseDurationMs` unless renewed. */
  tryAcquire(identity: string, leaseDurationMs: number, options?: NativeTryOptions): Promise<NativeAttempt>;
  /**
   * Push notifications: `onChange` when a permit may have come free for this process's
   * waiter; `onHealth` as for {@link ResourceLock.watch}. A backend that wakes waiters in
   * turn keeps a refused waiter queued for at least twice `leaseDurationMs` after its last
   * try, and a waiter tries again within a lease duration in any case (so one that missed its
   * turn is late, never stuck).
   */
  watch(handlers: WatchHandlers): () => void;
}

/** A reader-writer lock kept natively by the backend. */
export interface NativeReadWrite {
  /**
   * One try at a read for `identity`: refused while a writer holds or waits (writer
   * preference) or `maxReaders` reads are held. A granted read's `fencingToken` is the
   * write epoch: the token of the last writer to take its place before this read.
   */
  tryRead(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeAttempt>;
  /**
   * One try at the writer's place for `identity`: refused while another writer holds it.
   * Granted, it blocks every new read at once and carries the write token (larger than every
   * token and epoch before it); the write term starts once `readers` (the reads still held)
   * is 0 — see {@link NativeReadWrite.readers}.
   */
  tryWrite(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeWriteAttempt>;
  /**
   * For the holder of the writer's place: the reads still held (expired ones dropped) and
   * the longest to wait for one to expire. @throws LockNotFoundError when `writer` no longer
   * holds the writer's place.
   */
  readers(writer: string, options?: LockCallOptions): Promise<{ readers: number; retryInMs: number }>;
  /** Push notifications: `onChange` whenever a read or a write may have ended. */
  watch(handlers: WatchHandlers): () => void;
}

/**
 * Optional capability of a {@link ResourceLockFactory}: semaphores and reader-writer locks the
 * backend keeps natively (a Redis script, PostgreSQL advisory locks) instead of as N slot
 * records. `DistributedLocks.semaphore()` and `readWrite()` use each one the factory offers;
 * otherwise they build it from the factory's locks.
 *
 * Rules every implementation keeps (checked by `@baton/contract`'s semaphore and
 * reader-writer sections run on the native paths):
 * - Never more than `permits` permit holders, never a writer beside a reader or a writer,
 *   never more than `maxReaders` reads; a unit not renewed within its lease duration is freed
 *   (by the backend's own clock, or when its session ends), never sooner.
 * - Tokens come from a per-primitive counter that only grows, so a unit granted after
 *   another was granted carries a larger token (reads: their write epoch, equal between two
 *   writers). A name's state never collides with a mutex of the same name.
 * - A granted unit's `hold` is a {@link ResourceLock} for that unit only: `update` naming its
 *   holder renews it for the record's `leaseDurationMs`; `update` with an empty holder
 *   releases it (and notifies waiters); either throws `LockNotFoundError` once the unit is
 *   gone. `get` returns the unit as held, or `null` once gone. `create` is refused
 *   (`LockConflictError`). `onSessionLost` as for any lock; `close` releases nothing.
 * - Every process must use the same count for a name: a different one is a `ConfigError`
 *   (a backend whose primitive has no count, like PostgreSQL's shared locks for readers, may
 *   ignore it).
 * - Calls settle when `signal` aborts; faults are `BackendUnavailableError`.
 */
export interface NativePrimitives {
  /** Absent: semaphores are built from the factory's locks. */
  semaphore?(name: string, permits: number): NativeSemaphore;
  /** Absent: reader-writer locks are built from the factory's locks. */
  readWrite?(name: string, maxReaders: number): NativeReadWrite;
}
