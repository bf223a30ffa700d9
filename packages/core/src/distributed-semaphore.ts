import type { AcquireOptions, MutexContext } from './distributed-mutex.ts';
import { LockHandle, runHolding } from './lock-handle.ts';
import { LockSlots } from './lock-slots.ts';
import type { SlotAcquisition, SlotLease, WonSlot } from './lock-slots.ts';
import type { NativeSemaphore } from './native-primitives.ts';
import { NativeSemaphorePermits } from './native-semaphore.ts';
import { TokenCounter } from './token-counter.ts';
import { abandonable, FailureBudget, LocalQueue, Waker } from './waiting.ts';

/** What {@link DistributedLocks.semaphore} takes. */
export interface SemaphoreOptions {
  /** How many holders at once: an integer ≥ 1, the same in every process using the name. */
  permits: number;
}

/**
 * A counting semaphore: at most `permits` holders at once, across processes, on any backend.
 *
 * Made of `permits` slot records (`<name>.permit-0` …), each an ordinary lock contended
 * through the one acquisition path: a permit is one held slot, renewed in the background like
 * a mutex, with its signal aborted before anyone else could take the slot. A crashed holder's
 * slot is taken only after its lease has been observed to expire. Fencing tokens come from a
 * counter record (`<name>.tokens`) bumped by compare-and-swap (after a slot is won, or while
 * taking one that looks free), so a permit asked for after another was granted carries a
 * larger token.
 *
 * Waiters in one process are served first come, first served; only the first contends. A
 * waiter wakes on the slots' watches (a release is taken at once), and otherwise at the
 * earliest observed expiry, or by polling while a watch is down.
 *
 * On a factory that offers {@link NativePrimitives} the semaphore is the backend's own
 * instead (one operation per acquire and per release; see {@link NativeSemaphorePermits}),
 * with the same guarantees. Every process using a name must use the same kind.
 */
export class DistributedSemaphore {
  readonly name: string;
  readonly permits: number;
  private readonly context: MutexContext;
  private readonly waker: Waker;
  private readonly slots: LockSlots;
  private readonly tokens: TokenCounter;
  private readonly queue = new LocalQueue();
  private readonly native: NativeSemaphorePermits | undefined;

  /** @internal Use {@link DistributedLocks.semaphore}. */
  constructor(name: string, permits: number, context: MutexContext, native?: NativeSemaphore) {
    this.name = name;
    this.native = native && new NativeSemaphorePermits(name, context, native);
    this.permits = permits;
    this.context = context;
    this.waker = new Waker(context.clock);
    this.slots = new LockSlots(
      Array.from({ length: permits }, (_, i) => `${name}.permit-${i}`),
      context,
      this.waker,
    );
    this.tokens = new TokenCounter(`${name}.tokens`, context, permits, 'permits');
  }

  /**
   * Waits for a permit.
   * @throws LockTimeoutError after `timeout`; AbortedError when `signal` aborts;
   * BackendUnavailableError when the backend has failed for longer than renewDeadline;
   * ConfigError when another process uses this name with a different permit count.
   */
  acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    if (this.native) return this.native.acquire(options);
    return abandonable(this.context.clock, `a permit of semaphore "${this.name}"`, options, (signal) =>
      this.queue.run(signal, () => this.contend(signal)),
    );
  }

  /**
   * One pass over the slots, no waiting.
   * @returns a permit, or `undefined` when every slot is held (or a local waiter is ahead).
   */
  async tryAcquire(): Promise<LockHandle | undefined> {
    if (this.native) return this.native.tryAcquire();
    if (this.queue.length > 0) return undefined;
    const early = this.issueEarly(undefined);
    const acquisition = this.slots.beginAcquisition();
    try {
      const won = await this.slots.attemptAny(acquisition);
      return typeof won === 'number' ? undefined : await this.grant(won, undefined, early);
    } finally {
      this.slots.endAcquisition(acquisition);
    }
  }

  /**
   * Acquires a permit, runs `fn` with it, then releases it.
   * @throws whatever `fn` throws; otherwise LockLostError when the permit was lost while `fn`
   * ran, or the errors of {@link DistributedSemaphore.acquire}.
   */
  async withPermit<T>(fn: (held: LockHandle) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(await this.acquire(options), fn);
  }

  /** Stops watching the backend; held permits are unaffected. */
  close(): void {
    this.native?.close();
    this.slots.close();
    this.tokens.close();
  }

  private async contend(signal: AbortSignal | undefined): Promise<LockHandle> {
    const { clock, renewDeadlineMs, logger } = this.context;
    await Promise.all([this.slots.startWatching(), this.tokens.prepare()]);
    const budget = new FailureBudget(clock, renewDeadlineMs, `semaphore "${this.name}"`, logger);
    const acquisition = this.slots.beginAcquisition();
    try {
      return await this.passes(acquisition, budget, signal);
    } finally {
      this.slots.endAcquisition(acquisition);
    }
  }

  private async passes(acquisition: SlotAcquisition, budget: FailureBudget, signal: AbortSignal | undefined): Promise<LockHandle> {
    for (let pass = 0; ; pass++) {
      if (signal?.aborted) throw signal.reason;
      const seen = this.waker.changes;
      let waitMs: number;
      try {
        const early = pass === 0 ? this.issueEarly(signal) : undefined;
        const won = await this.slots.attemptAny(acquisition, signal);
        if (typeof won !== 'number') return await this.grant(won, signal, early);
        waitMs = won;
        budget.succeeded();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        budget.failed(error);
        waitMs = this.slots.retryDelay();
      }
      if (waitMs > 0) await this.waker.sleep(waitMs, seen, signal);
    }
  }

  /**
   * The uncontended fast path: when every slot looks free, the token is issued while the slot is
   * being taken (one round trip instead of two in a row). It is still issued after the caller
   * asked, so a permit asked for after another was granted carries a larger token. Only on a
   * first try: a waiter issues its token after winning, so a long wait never hands out a token
   * older than permits granted meanwhile. An early token not used is simply skipped.
   */
  private issueEarly(signal: AbortSignal | undefined): Promise<number> | undefined {
    // Only when nobody seems to compete: under contention, early tokens would mostly be
    // wasted, and every one is a compare-and-swap on the one counter record.
    if (!this.slots.allLookFree()) return undefined;
    const early = this.tokens.issue(signal);
    early.catch(() => {}); // judged in grant(), or unused
    return early;
  }

  /** Holds the won slot and issues its token; gives the slot back if the token cannot be issued. */
  private async grant(won: WonSlot, signal: AbortSignal | undefined, early?: Promise<number>): Promise<LockHandle> {
    const held: SlotLease = this.slots.hold(won, `semaphore "${this.name}" permit ${won.index}`);
    const { clock, renewDeadlineMs, logger } = this.context;
    const budget = new FailureBudget(clock, renewDeadlineMs, `semaphore "${this.name}" tokens`, logger);
    let token: number;
    for (;;) {
      try {
        const issuing = early ?? this.tokens.issue(signal);
        early = undefined;
        token = await issuing;
        break;
      } catch (error) {
        try {
          // Keep the slot while a transient failure lasts (each call is bounded by retryPeriod).
          if (signal?.aborted || !held.lease.isValid()) throw error;
          budget.failed(error);
        } catch (final) {
          await this.slots.giveBack(held);
          throw final;
        }
      }
    }
    return new LockHandle(this.name, held.lease, held.ended, held.onReleased, token);
  }
}
