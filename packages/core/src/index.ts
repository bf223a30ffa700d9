/**
 * @packageDocumentation
 * `@baton/core` — leader election on any {@link ResourceLock}.
 *
 * ## Guarantees
 * With `leaseDuration > renewDeadline > 1.2 × retryPeriod` (checked at construction):
 * - A leader that has not renewed for `renewDeadline`, measured from the *start* of its last
 *   successful write, aborts `term.signal` and flips `isLeader()` to false at that moment.
 * - A candidate takes over only when the lock is free: released (empty holder), missing,
 *   its holder's session known gone (backends that bind a hold to a connection), or not
 *   changed for the record's own `leaseDuration` as measured on the candidate's *monotonic*
 *   clock from when it observed the last change. Clocks are never compared across machines.
 * - Hence the old leader has stopped at least `leaseDuration − renewDeadline` before anyone
 *   else can start, provided both machines' clocks advance at about the same *rate* (not the
 *   same time) and the leader's event loop is not blocked for longer than that margin.
 * - Every acquisition writes a strictly larger fencing token (see {@link LeaderTerm}).
 * - `term.assertLeading()` / `handle.assertHeld()` check synchronously, by the monotonic
 *   clock, that the last successful renewal began less than `renewDeadline` ago: after a
 *   process pause the first guarded unit of work throws before the timers have run.
 * - Writes are compare-and-swap on the version read; a corrupt record is reported
 *   (`InvalidRecordError`), never overwritten.
 *
 * ## Beyond client-go
 * With a lock that can `watch`, followers poll nothing: they react to a release at once and
 * otherwise wake exactly when the observed lease expires. A graceful stop aborts the term,
 * waits for the leader's work to settle, and only then releases (`releaseOnCancel`).
 *
 * ## Locks, not only leaders
 * {@link DistributedLocks} gives named mutexes (`acquire`, `tryAcquire`, `withLock`) on the
 * same locks, with the same lease rules and fencing tokens, and counting semaphores
 * (`semaphore(name, { permits })`) and reader-writer locks (`readWrite(name)`) built from
 * several lock records each. Every primitive acquires through
 * one {@link Contender}; a backend that can acquire a free lock in one operation offers
 * `ResourceLock.acquireIfFree`.
 */
export { LeaderElector } from './leader-elector.ts';
export type { ElectorState, HealthStatus } from './leader-elector.ts';
export type { LeaderTerm } from './leader-term.ts';
export { resolveElectorConfig, resolveTimings, DEFAULT_TIMINGS } from './config.ts';
export type { LeaderCallbacks, LeaderElectorConfig, LeaseTimings, ResolvedElectorConfig } from './config.ts';
export { JITTER_FACTOR, jitteredRetryMs, RENEW_SPREAD, spreadRenewalMs } from './jitter.ts';
export type {
  ResourceLock,
  AcquireIfFreeResult,
  AcquireWhenFreeOptions,
  AcquireWhenFreeResult,
  LockSnapshot,
  LockCallOptions,
  WatchHandlers,
} from './resource-lock.ts';
export type { ResourceLockFactory } from './resource-lock-factory.ts';
export type { NativePrimitives, NativeSemaphore, NativeReadWrite, NativeAttempt, NativeWriteAttempt, NativeTryOptions } from './native-primitives.ts';
export type { LeaderElectionRecord } from './record.ts';
export { validateRecord, sameRecord, nextTermRecord, newTermOver } from './record.ts';
export { Contender } from './contender.ts';
export type { Attempt, ContenderOptions, MissedOutcome } from './contender.ts';
export {
  BatonError,
  ConfigError,
  LockConflictError,
  LockNotFoundError,
  InvalidRecordError,
  BackendUnavailableError,
  PermissionDeniedError,
  AuthenticationError,
  BackendSetupError,
  isPermanentError,
  LockTimeoutError,
  AbortedError,
  LockLostError,
  LeaseExpiredError,
} from './errors.ts';
export type { BatonErrorOptions } from './errors.ts';
export { parseDuration } from './duration.ts';
export { tlsFailureKind } from './tls-failure.ts';
export type { TlsFailureKind } from './tls-failure.ts';
export type { Duration } from './duration.ts';
export { systemClock, FakeClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { withDeadline } from './deadline.ts';
export type { Logger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { ElectorMetrics } from './metrics.ts';
export { defaultIdentity } from './identity.ts';
export { MemoryLock, MemoryLockStore } from './memory-lock.ts';
export type { MemoryFault, MemoryLockStoreOptions } from './memory-lock.ts';
export { MultiLock, UNKNOWN_LEADER } from './multi-lock.ts';
export { DistributedLocks } from './distributed-locks.ts';
export type { DistributedLocksOptions } from './distributed-locks.ts';
export { DistributedMutex } from './distributed-mutex.ts';
export type { AcquireOptions } from './distributed-mutex.ts';
export { LockHandle } from './lock-handle.ts';
export { DistributedSemaphore } from './distributed-semaphore.ts';
export type { SemaphoreOptions } from './distributed-semaphore.ts';
export { DistributedReadWriteLock, ReadHandle } from './read-write-lock.ts';
export type { ReadWriteOptions } from './read-write-lock.ts';
export { HeldLease } from './held-lease.ts';
export type { HeldLeaseOptions } from './held-lease.ts';
export { LeaseObserver } from './lease-observer.ts';
