import type { AcquireOptions, MutexContext } from './distributed-mutex.ts';
import { LockNotFoundError } from './errors.ts';
import { LockHandle } from './lock-handle.ts';
import type { SlotLease } from './lock-slots.ts';
import type { NativeReadWrite } from './native-primitives.ts';
import { NativeWaiting } from './native-waiting.ts';
import { ReadHandle } from './read-handle.ts';
import { abandonable, FailureBudget, LocalQueue, Waker } from './waiting.ts';

/**
 * A {@link DistributedReadWriteLock} on a backend's native reader-writer lock. The backend
 * decides each try in one operation (see {@link NativeReadWrite}):
 * - a read is granted unless a writer holds or waits (writer preference: a waiting writer
 *   holds off new readers, so a stream of readers cannot starve it; a stream of writers can
 *   delay readers), carrying the write epoch;
 * - a writer first takes the writer's place (which blocks new reads at once), then waits,
 *   holding it, until the reads already held end or expire; its token comes with the place.
 * A release on any process wakes waiters through the backend's watch.
 */
export class NativeReadWriteLock {
  private readonly name: string;
  private readonly context: MutexContext;
  private readonly store: NativeReadWrite;
  private readonly waker: Waker;
  private readonly waiting: NativeWaiting;
  private readonly readQueue = new LocalQueue();
  private readonly writeQueue = new LocalQueue();
  private sequence = 0;

  constructor(name: string, context: MutexContext, store: NativeReadWrite) {
    this.name = name;
    this.context = context;
    this.store = store;
    this.waker = new Waker(context.clock);
    this.waiting = new NativeWaiting(context, this.waker, store);
  }

  acquireRead(options: AcquireOptions): Promise<ReadHandle> {
    return abandonable(this.context.clock, `a read of "${this.name}"`, options, (signal) =>
      this.readQueue.run(signal, () => this.contend(signal, () => this.tryRead(signal))),
    );
  }

  async tryAcquireRead(): Promise<ReadHandle | undefined> {
    if (this.readQueue.length > 0) return undefined;
    const result = await this.tryRead(undefined);
    return typeof result === 'number' ? undefined : result;
  }

  acquireWrite(options: AcquireOptions): Promise<LockHandle> {
    return abandonable(this.context.clock, `a write of "${this.name}"`, options, (signal) =>
      this.writeQueue.run(signal, () => this.contend(signal, () => this.tryWrite(signal, true))),
    );
  }

  async tryAcquireWrite(): Promise<LockHandle | undefined> {
    if (this.writeQueue.length > 0) return undefined;
    const result = await this.tryWrite(undefined, false);
    return typeof result === 'number' ? undefined : result;
  }

  close(): void {
    this.waiting.close();
  }

  /** Tries until `once` gives a handle, sleeping between tries until woken or the time it says. */
  private async contend<H>(signal: AbortSignal | undefined, once: () => Promise<H | number>): Promise<H> {
    const { clock, renewDeadlineMs, logger } = this.context;
    const budget = new FailureBudget(clock, renewDeadlineMs, `reader-writer lock "${this.name}"`, logger);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const seen = this.waker.changes;
      let waitMs: number;
      try {
        const result = await once();
        if (typeof result !== 'number') return result;
        // Watching starts with the first refusal; the watch coming up wakes this waiter.
        this.waiting.start();
        budget.succeeded();
        waitMs = result;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        budget.failed(error);
        waitMs = this.waiting.retryDelay();
      }
      await this.waker.sleep(waitMs, seen, signal);
    }
  }

  /** One try at a read. @returns the read, or how long to wait. */
  private async tryRead(signal: AbortSignal | undefined): Promise<ReadHandle | number> {
    const { clock, leaseDurationMs, identity } = this.context;
    const started = clock.now();
    const reader = `${identity}/r${++this.sequence}`;
    const attempt = await this.waiting.call((s) => this.store.tryRead(reader, leaseDurationMs, { signal: s }), signal);
    if (!attempt.granted) return this.waiting.waitAfter(attempt.retryInMs);
    const held = this.waiting.hold(attempt, started, `reader-writer lock "${this.name}" read`);
    return new ReadHandle(this.name, held.lease, held.ended, held.onReleased, attempt.snapshot.record.fencingToken);
  }

  /**
   * One try at a write: the writer's place, then (when `wait`) every read held gone.
   * @returns the write term, or how long to wait before trying again.
   */
  private async tryWrite(signal: AbortSignal | undefined, wait: boolean): Promise<LockHandle | number> {
    const { clock, leaseDurationMs, identity } = this.context;
    const started = clock.now();
    const writer = `${identity}/w${++this.sequence}`;
    const seen = this.waker.changes; // a read ending from now on wakes the drain below
    const attempt = await this.waiting.call((s) => this.store.tryWrite(writer, leaseDurationMs, { signal: s }), signal);
    if (!attempt.granted) return this.waiting.waitAfter(attempt.retryInMs);
    const label = `reader-writer lock "${this.name}" write`;
    const held = this.waiting.hold(attempt, started, label);
    const token = attempt.snapshot.record.fencingToken;
    if (attempt.readers === 0) return new LockHandle(this.name, held.lease, held.ended, held.onReleased, token);
    if (!wait) {
      await this.waiting.giveBack(held);
      return 0;
    }
    try {
      if (await this.drain(writer, held, attempt.retryInMs, seen, signal)) return new LockHandle(this.name, held.lease, held.ended, held.onReleased, token);
    } catch (error) {
      await this.waiting.giveBack(held);
      throw error;
    }
    await this.waiting.giveBack(held);
    return 0; // the place was lost while waiting: try again at once
  }

  /**
   * Holding the writer's place (no new read can start), waits until the reads held are gone.
   * @returns false when the place was lost meanwhile.
   */
  private async drain(writer: string, held: SlotLease, retryInMs: number, seen: number, signal: AbortSignal | undefined): Promise<boolean> {
    const { clock, renewDeadlineMs, logger } = this.context;
    const budget = new FailureBudget(clock, renewDeadlineMs, `reader-writer lock "${this.name}"`, logger);
    this.waiting.start();
    let waitMs = this.waiting.waitAfter(retryInMs);
    // A place lost while waiting ends the sleep too.
    const stop = signal ? AbortSignal.any([signal, held.ended.signal]) : held.ended.signal;
    for (;;) {
      if (!held.lease.isValid()) return false;
      try {
        await this.waker.sleep(waitMs, seen, stop);
      } catch (error) {
        if (signal?.aborted) throw error;
      }
      seen = this.waker.changes;
      try {
        const left = await this.waiting.call((s) => this.store.readers(writer, { signal: s }), signal);
        if (left.readers === 0) return held.lease.isValid();
        budget.succeeded();
        waitMs = this.waiting.waitAfter(left.retryInMs);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof LockNotFoundError) return false;
        budget.failed(error);
        waitMs = this.waiting.retryDelay();
      }
    }
  }
}
