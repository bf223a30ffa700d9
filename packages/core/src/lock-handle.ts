import { AbortedError, LockLostError } from './errors.ts';
import type { HeldLease } from './held-lease.ts';
import type { LazyAbort } from './lazy-abort.ts';
import type { LockSnapshot } from './resource-lock.ts';

/**
 * A distributed lock this process holds, from {@link DistributedMutex.acquire}. It renews
 * itself until released. Use it with `await using`, or call {@link LockHandle.release}.
 *
 * @example
 * await using held = await locks.get('nightly-report').acquire({ timeout: '30s' });
 * await writeReport({ fencingToken: held.fencingToken, signal: held.signal });
 */
export class LockHandle implements AsyncDisposable {
  /** The lock's name. */
  readonly name: string;
  /** Strictly larger than the token of any earlier holder of this lock. */
  readonly fencingToken: number;
  private readonly lease: HeldLease;
  private readonly ended: LazyAbort;
  private readonly onReleased: (released: LockSnapshot | undefined) => void;
  private releasing: Promise<void> | undefined;

  /**
   * @internal Made by {@link DistributedMutex}, the semaphore and the reader-writer lock.
   * @param fencingToken - the handle's token when it is not the record's own (a semaphore
   * permit's comes from the semaphore's token counter, a read's is its write epoch).
   */
  constructor(
    name: string,
    lease: HeldLease,
    ended: LazyAbort,
    onReleased: (released: LockSnapshot | undefined) => void,
    fencingToken: number = lease.fencingToken,
  ) {
    this.name = name;
    this.lease = lease;
    this.fencingToken = fencingToken;
    this.ended = ended;
    this.onReleased = onReleased;
  }

  /**
   * Aborted with a `LockLostError` before anyone else could take the lock, if it is lost;
   * aborted with an `AbortedError` when released.
   */
  get signal(): AbortSignal {
    return this.ended.signal;
  }

  /** True once the lock was lost while held (see {@link LockHandle.signal}). */
  get lost(): boolean {
    return this.lease.lost;
  }

  /**
   * Synchronous guard for one unit of work under the lock: returns when the lock is still
   * held at this instant, throws otherwise. It compares the monotonic clock with the start of
   * the last successful renewal plus renewDeadline, so it fails right after a process pause
   * (SIGSTOP, a blocked event loop) even before the handle's timers have run and `signal` has
   * aborted. Never awaits; costs a clock read.
   * @throws LeaseExpiredError (a LockLostError) when renewDeadline has passed since the last
   * successful renewal began; LockLostError when the lock was lost or released (`cause`: why).
   */
  assertHeld(): void {
    if (this.ended.aborted) throw new LockLostError(`lock "${this.name}" is no longer held`, { cause: this.signal.reason });
    this.lease.assertValid(`lock "${this.name}" (fencing token ${this.fencingToken})`);
  }

  /** The boolean twin of {@link LockHandle.assertHeld}: true exactly when it would return. */
  isHeld(): boolean {
    return !this.ended.aborted && this.lease.isValid();
  }

  /** Milliseconds the lock stays held without another successful renewal; 0 once lost or released (renewDeadline minus the time since the last successful renewal began). */
  validForMs(): number {
    return this.ended.aborted ? 0 : this.lease.validForMs();
  }

  /**
   * Gives the lock up so the next waiter takes it at once. Idempotent.
   * @throws LockLostError when the lock had already been lost: a lost lock is never
   * reported as released.
   */
  release(): Promise<void> {
    this.releasing ??= this.doRelease();
    return this.releasing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  private async doRelease(): Promise<void> {
    const lostBefore = this.lease.lost;
    this.ended.abort(() => new AbortedError(`lock "${this.name}" was released`));
    const released = lostBefore ? undefined : await this.lease.release();
    this.onReleased(released);
    if (lostBefore || this.lease.lost) {
      throw new LockLostError(`lock "${this.name}" was lost before it was released`, { cause: this.signal.reason });
    }
  }
}

/** Runs `fn` holding `held`, then releases it; `fn`'s error wins over a release error. */
export async function runHolding<H extends LockHandle, T>(held: H, fn: (held: H) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(held);
  } catch (error) {
    await held.release().catch(() => {});
    throw error;
  }
  await held.release();
  return result;
}
