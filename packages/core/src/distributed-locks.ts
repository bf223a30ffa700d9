import { systemClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { resolveTimings } from './config.ts';
import type { Duration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { ForgottenTokens } from './forgotten-tokens.ts';
import { SharedTimerClock } from './shared-timer-clock.ts';
import { defaultIdentity } from './identity.ts';
import { DistributedMutex } from './distributed-mutex.ts';
import type { AcquireOptions, MutexContext } from './distributed-mutex.ts';
import { runHolding, type LockHandle } from './lock-handle.ts';
import type { Logger } from './logger.ts';
import { silentLogger } from './logger.ts';
import type { NativePrimitives } from './native-primitives.ts';
import type { ResourceLock } from './resource-lock.ts';
import type { ResourceLockFactory } from './resource-lock-factory.ts';
import { DistributedSemaphore } from './distributed-semaphore.ts';
import type { SemaphoreOptions } from './distributed-semaphore.ts';
import { DEFAULT_MAX_READERS, DistributedReadWriteLock } from './read-write-lock.ts';
import type { ReadWriteOptions } from './read-write-lock.ts';

/**
 * What {@link DistributedLocks} is built from: a `factory`, or a `lockFor` function (exactly
 * one). Durations are ms or strings like `"10s"`.
 */
export interface DistributedLocksOptions {
  /**
   * The backend's factory (`RedisLockFactory`, `MemoryLockStore`, …): its `lock(name,
   * identity)` is called for each acquisition, with an identity unique to it. It stays the
   * caller's: {@link DistributedLocks.close} does not close it.
   */
  factory?: ResourceLockFactory;
  /**
   * Instead of `factory`: makes the ResourceLock for lock `name` under `identity`. Called for
   * each acquisition, with an identity unique to it, so it should hand out cheap locks over
   * shared connections (every adapter's factory does).
   */
  lockFor?(name: string, identity: string): ResourceLock | Promise<ResourceLock>;
  /** Prefix of every holder identity written by this instance. Default: {@link defaultIdentity}. */
  identity?: string;
  /** How long a held lock lasts after its last renewal, for everyone else. Default 15s. */
  leaseDuration?: Duration;
  /** A holder that has not renewed for this long considers the lock lost. Default 10s. */
  renewDeadline?: Duration;
  /** How often a holder renews, and the fallback re-check period of a waiter. Default 2s. */
  retryPeriod?: Duration;
  logger?: Logger;
  /** For tests: a fake clock. */
  clock?: Clock;
  /** For tests: the source of jitter, returning [0, 1). */
  random?: () => number;
}

/**
 * Distributed mutexes on any {@link ResourceLock} backend, with the elector's guarantees: a
 * holder renews in the background, its `signal` aborts before anyone else could take the
 * lock, and every acquisition carries a strictly larger fencing token.
 *
 * @example
 * const locks = new DistributedLocks({ factory: new RedisLockFactory({ connection }) });
 * await locks.withLock('invoice-42', async ({ fencingToken, signal }) => {
 *   await ledger.post({ fencingToken, signal });
 * });
 */
export class DistributedLocks {
  private readonly context: MutexContext;
  private readonly mutexes = new Map<string, DistributedMutex>();
  /** The highest tokens of mutexes forgotten while idle (see {@link ForgottenTokens}). */
  private readonly forgotten = new ForgottenTokens();
  private readonly semaphores = new Map<string, DistributedSemaphore>();
  private readonly rwLocks = new Map<string, DistributedReadWriteLock>();
  /** The factory's native semaphores and reader-writer locks, when it has them. */
  private readonly native: NativePrimitives | undefined;

  /** @throws ConfigError when an option is invalid. */
  constructor(options: DistributedLocksOptions) {
    const lockFor = locksFrom(options);
    if (options.identity !== undefined && (typeof options.identity !== 'string' || options.identity === '')) {
      throw new ConfigError('identity', 'must be a non-empty string');
    }
    this.native = options.factory?.primitives;
    this.context = {
      ...resolveTimings(options),
      lockFor,
      identity: options.identity ?? defaultIdentity(),
      // The hot path's timers (call bounds, renewals, deadlines) mostly never fire: they share one.
      clock: new SharedTimerClock(options.clock ?? systemClock),
      random: options.random ?? Math.random,
      logger: options.logger ?? silentLogger,
      current: (mutex) => {
        const mapped = this.mutexes.get(mutex.name);
        if (mapped !== undefined) return mapped;
        this.mutexes.set(mutex.name, mutex);
        mutex.forgotten = false;
        return mutex;
      },
      idle: (mutex) => {
        if (this.mutexes.get(mutex.name) !== mutex) return;
        this.mutexes.delete(mutex.name);
        mutex.forgotten = true;
        this.forgotten.remember(mutex.name, mutex.highestTokenSeen);
      },
    };
  }

  /**
   * The mutex named `name`: the same object for the same name while it is in use (held,
   * waited for, or watched). An idle one is forgotten, so that a process using many names
   * once does not keep them all; an old object still works (it hands its calls to the
   * current one).
   */
  get(name: string): DistributedMutex {
    checkName(name);
    let mutex = this.mutexes.get(name);
    if (!mutex) {
      this.mutexes.set(name, (mutex = new DistributedMutex(name, this.context)));
      const token = this.forgotten.take(name);
      if (token > 0) mutex.rememberToken(token);
    }
    return mutex;
  }

  /**
   * The counting semaphore named `name`: at most `permits` holders at once across processes
   * (the same object for the same name). It uses the records `<name>.permit-<i>` and
   * `<name>.tokens`; keep mutex names clear of them.
   * @throws ConfigError when `permits` is not an integer ≥ 1, or differs from this name's in
   * this process (another process's count is checked at the first grant).
   */
  semaphore(name: string, options: SemaphoreOptions): DistributedSemaphore {
    checkName(name);
    const permits = options?.permits;
    if (typeof permits !== 'number' || !Number.isSafeInteger(permits) || permits < 1) {
      throw new ConfigError('permits', `must be an integer >= 1, got ${String(permits)}`);
    }
    let semaphore = this.semaphores.get(name);
    if (semaphore && semaphore.permits !== permits) {
      throw new ConfigError('permits', `semaphore "${name}" already has ${semaphore.permits} permits in this process, not ${permits}`);
    }
    if (!semaphore) this.semaphores.set(name, (semaphore = new DistributedSemaphore(name, permits, this.context, this.native?.semaphore?.(name, permits))));
    return semaphore;
  }

  /**
   * The reader-writer lock named `name` (the same object for the same name): many readers or
   * one writer, writers preferred. It uses the records `<name>.writer`, `<name>.reader-<i>`
   * and `<name>.readers`; keep mutex names clear of them.
   * @throws ConfigError when `maxReaders` is not an integer ≥ 1, or differs from this name's in this process.
   */
  readWrite(name: string, options: ReadWriteOptions = {}): DistributedReadWriteLock {
    checkName(name);
    const maxReaders = options?.maxReaders ?? DEFAULT_MAX_READERS;
    if (typeof maxReaders !== 'number' || !Number.isSafeInteger(maxReaders) || maxReaders < 1) {
      throw new ConfigError('maxReaders', `must be an integer >= 1, got ${String(maxReaders)}`);
    }
    let lock = this.rwLocks.get(name);
    if (lock && lock.maxReaders !== maxReaders) {
      throw new ConfigError('maxReaders', `reader-writer lock "${name}" already has maxReaders ${lock.maxReaders} in this process, not ${maxReaders}`);
    }
    if (!lock) this.rwLocks.set(name, (lock = new DistributedReadWriteLock(name, maxReaders, this.context, this.native?.readWrite?.(name, maxReaders))));
    return lock;
  }

  /**
   * Stops watching the backend for every lock name; held handles keep renewing until released.
   * The factory (or whatever `lockFor` uses) stays open: it is the caller's to close.
   */
  close(): void {
    for (const mutex of this.mutexes.values()) mutex.close();
    for (const semaphore of this.semaphores.values()) semaphore.close();
    for (const lock of this.rwLocks.values()) lock.close();
  }

  /**
   * Acquires `name`, runs `fn` while holding it, then releases it.
   * @throws whatever `fn` throws; otherwise LockLostError when the lock was lost while
   * `fn` ran (its result is not trusted then), or the errors of {@link DistributedMutex.acquire}.
   */
  async withLock<T>(name: string, fn: (held: LockHandle) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(await this.get(name).acquire(options), fn);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name === '') throw new ConfigError('name', 'a lock name must be a non-empty string');
}

/** The one way to make locks the options give. @throws ConfigError unless exactly one is given. */
function locksFrom(options: DistributedLocksOptions): (name: string, identity: string) => ResourceLock | Promise<ResourceLock> {
  const factory = options?.factory;
  const lockFor = options?.lockFor;
  if (factory !== undefined && lockFor !== undefined) throw new ConfigError('factory', 'give either factory or lockFor, not both');
  if (factory !== undefined) {
    if (typeof factory?.lock !== 'function') throw new ConfigError('factory', 'must be a ResourceLockFactory (no lock(name, identity))');
    return (name, identity) => factory.lock(name, identity);
  }
  if (typeof lockFor !== 'function') throw new ConfigError('lockFor', 'must be a function (name, identity) => ResourceLock, or give a factory');
  return lockFor;
}
