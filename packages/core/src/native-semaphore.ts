import type { AcquireOptions, MutexContext } from './distributed-mutex.ts';
import { LockHandle } from './lock-handle.ts';
import type { NativeAttempt, NativeSemaphore } from './native-primitives.ts';
import { NativeWaiting } from './native-waiting.ts';
import type { NativeGrant } from './native-waiting.ts';
import { abandonable, FailureBudget, LocalQueue, Waker } from './waiting.ts';

/**
 * A {@link DistributedSemaphore} on a backend's native semaphore: one backend call takes a
 * permit (and its token) or says how long to wait; a release on any process wakes waiters
 * through the backend's watch. A permit is a {@link LockHandle} like any other: renewed in the
 * background through its hold, its signal aborted at renewDeadline (before the backend frees
 * it at the lease duration).
 *
 * Waiters in one process are served first come, first served; only the first contends.
 */
export class NativeSemaphorePermits {
  private readonly name: string;
  private readonly context: MutexContext;
  private readonly store: NativeSemaphore;
  private readonly waker: Waker;
  private readonly waiting: NativeWaiting;
  private readonly queue = new LocalQueue();
  private sequence = 0;

  constructor(name: string, context: MutexContext, store: NativeSemaphore) {
    this.name = name;
    this.context = context;
    this.store = store;
    this.waker = new Waker(context.clock);
    this.waiting = new NativeWaiting(context, this.waker, store);
  }

  acquire(options: AcquireOptions): Promise<LockHandle> {
    return abandonable(this.context.clock, `a permit of semaphore "${this.name}"`, options, (signal) =>
      this.queue.run(signal, () => this.contend(signal)),
    );
  }

  async tryAcquire(): Promise<LockHandle | undefined> {
    if (this.queue.length > 0) return undefined;
    const started = this.context.clock.now();
    const attempt = await this.attempt(undefined, false);
    return attempt.granted ? this.grant(attempt, started) : undefined;
  }

  close(): void {
    this.waiting.close();
  }

  private attempt(signal: AbortSignal | undefined, wait: boolean): Promise<NativeAttempt> {
    const identity = `${this.context.identity}/${++this.sequence}`;
    return this.waiting.call((s) => this.store.tryAcquire(identity, this.context.leaseDurationMs, { signal: s, wait }), signal);
  }

  private async contend(signal: AbortSignal | undefined): Promise<LockHandle> {
    const { clock, renewDeadlineMs, logger } = this.context;
    const budget = new FailureBudget(clock, renewDeadlineMs, `semaphore "${this.name}"`, logger);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const seen = this.waker.changes;
      let waitMs: number;
      try {
        const started = clock.now();
        const attempt = await this.attempt(signal, true);
        if (attempt.granted) return this.grant(attempt, started);
        // Watching starts with the first refusal (an uncontended acquire costs one call); the
        // watch coming up wakes this waiter, which then looks again.
        this.waiting.start();
        budget.succeeded();
        waitMs = this.waiting.waitAfter(attempt.retryInMs);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        budget.failed(error);
        waitMs = this.waiting.retryDelay();
      }
      await this.waker.sleep(waitMs, seen, signal);
    }
  }

  private grant(attempt: NativeGrant, started: number): LockHandle {
    const held = this.waiting.hold(attempt, started, `semaphore "${this.name}" permit`);
    return new LockHandle(this.name, held.lease, held.ended, held.onReleased, attempt.snapshot.record.fencingToken);
  }
}
