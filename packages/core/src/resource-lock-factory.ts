import type { NativePrimitives } from './native-primitives.ts';
import type { ResourceLock } from './resource-lock.ts';

/**
 * Hands out {@link ResourceLock}s on one backend: `MemoryLockStore` (core),
 * `LeaseLockFactory`, `AnnotationLockFactory`, `RedisLockFactory`, `PostgresLockFactory`.
 * {@link DistributedLocks} and the CLI take one.
 *
 * Rules every implementation keeps:
 * - `lock(name, identity)` is cheap: the locks it hands out share the
 *   factory's connections (a distributed lock asks for one per acquisition, under an identity
 *   unique to it). A bad `name` or `identity` is a `ConfigError` here, not at the first call.
 * - A lock's own `close()` ends what that lock started (its watches, listeners, a hold bound
 *   to a session), never the shared connections.
 * - `close()` closes the connections the factory opened itself; locks it handed out stop
 *   working. Clients the user passed in stay open: they are the user's. Idempotent.
 */
export interface ResourceLockFactory {
  /** A lock on `name` for `identity`. */
  lock(name: string, identity: string): ResourceLock | Promise<ResourceLock>;
  /** Closes what the factory opened itself; clients passed in stay open. */
  close(): Promise<void>;
  /**
   * Optional: semaphores and reader-writer locks kept natively by the backend (see
   * {@link NativePrimitives} for the rules); {@link DistributedLocks} uses them when present,
   * and otherwise builds both from this factory's locks.
   */
  readonly primitives?: NativePrimitives;
}
