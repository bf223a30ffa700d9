import { withDeadline } from './deadline.ts';
import { DistributedMutex } from './distributed-mutex.ts';
import type { AcquireOptions, MutexContext } from './distributed-mutex.ts';
import { LeaseObserver } from './lease-observer.ts';
import { LockHandle, runHolding } from './lock-handle.ts';
import type { NativeReadWrite } from './native-primitives.ts';
import { NativeReadWriteLock } from './native-read-write.ts';
import { ReadHandle } from './read-handle.ts';
import { LockSlots } from './lock-slots.ts';
import type { SlotAcquisition, WonSlot } from './lock-slots.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';
import { TokenCounter } from './token-counter.ts';
import { abandonable, FailureBudget, LocalQueue, Waker } from './waiting.ts';

/** What {@link DistributedLocks.readWrite} takes. */
export interface ReadWriteOptions {
  /**
   * How many read handles may be held at once across all processes (the reader slots); an
   * integer ≥ 1, the same in every process using the name. Default 8.
   */
  maxReaders?: number;
}

export const DEFAULT_MAX_READERS = 8;

export { ReadHandle };

/**
 * A reader-writer lock across processes, on any backend: many readers or one writer.
 *
 * Made of a writer record (`<name>.writer`, a mutex: a writer holds it for its whole term,
 * and it is the writer's *intent* while the writer waits for readers to leave) and
 * `maxReaders` reader slots (`<name>.reader-0` …, held like semaphore permits).
 *
 * - A reader takes a free reader slot, then reads the writer record afresh. Free (absent,
 *   released, or observed expired) → the read is granted, carrying the writer record's token
 *   as its write epoch. Held → it gives the slot back and waits for the writer to finish.
 * - A writer takes the writer record (writers queue on it like mutex waiters), then reads every
 *   reader slot afresh and waits until each is free (released, or its lease observed expired).
 * - Each side writes its own record before reading the other's, so of a reader and a writer
 *   that race, at least one sees the other: never a writer beside a reader. (Every backend
 *   is linearizable per record, and that composes across records.)
 * - **Writer preference**: once a writer holds the writer record, no new read is granted;
 *   the reads already held finish, then the writer runs. A stream of readers cannot starve a
 *   writer; a stream of writers can delay readers.
 * - Write tokens are the writer record's fencing tokens: strictly increasing per lock.
 *
 * On a factory that offers {@link NativePrimitives} the lock is the backend's own instead
 * (see {@link NativeReadWriteLock}), with the same guarantees and the same writer preference.
 * Every process using a name must use the same kind.
 */
export class DistributedReadWriteLock {
  readonly name: string;
  readonly maxReaders: number;
  private readonly context: MutexContext;
  private readonly writer: DistributedMutex;
  private readonly readers: LockSlots;
  private readonly waker: Waker;
  private readonly readQueue = new LocalQueue();
  private readonly shape: TokenCounter;
  private shapeChecked: Promise<unknown> | undefined;
  /** The writer record as readers judge it: fed only by fresh reads. */
  private readonly writerSeen: LeaseObserver;
  /** Reads the writer record for readers; made once. */
  private writerReader: Promise<ResourceLock> | undefined;
  private writerWatcher: { lock: ResourceLock; stop: () => void } | undefined;
  private watchingWriter: Promise<void> | undefined;
  private writerWatchHealthy = false;
  private readonly native: NativeReadWriteLock | undefined;

  /** @internal Use {@link DistributedLocks.readWrite}. */
  constructor(name: string, maxReaders: number, context: MutexContext, native?: NativeReadWrite) {
    this.name = name;
    this.native = native && new NativeReadWriteLock(name, context, native);
    this.maxReaders = maxReaders;
    this.context = context;
    this.waker = new Waker(context.clock);
    this.writer = new DistributedMutex(`${name}.writer`, context);
    this.readers = new LockSlots(
      Array.from({ length: maxReaders }, (_, i) => `${name}.reader-${i}`),
      context,
      this.waker,
    );
    this.shape = new TokenCounter(`${name}.readers`, context, maxReaders, 'maxReaders');
    this.writerSeen = new LeaseObserver(context.clock);
  }

  // ---- reads -------------------------------------------------------------------------

  /**
   * Waits for a read: granted when no writer holds or waits for the lock.
   * @throws LockTimeoutError, AbortedError, BackendUnavailableError, ConfigError (as the semaphore's).
   */
  acquireRead(options: AcquireOptions = {}): Promise<ReadHandle> {
    if (this.native) return this.native.acquireRead(options);
    return abandonable(this.context.clock, `a read of "${this.name}"`, options, (signal) =>
      this.readQueue.run(signal, () => this.contendRead(signal)),
    );
  }

  /** One try, no waiting. @returns a read, or `undefined` when a writer holds or waits, or no reader slot is free. */
  async tryAcquireRead(): Promise<ReadHandle | undefined> {
    if (this.native) return this.native.tryAcquireRead();
    if (this.readQueue.length > 0) return undefined;
    await this.checkShape(undefined);
    const acquisition = this.readers.beginAcquisition();
    try {
      const result = await this.tryRead(acquisition, undefined);
      return typeof result === 'number' ? undefined : result;
    } finally {
      this.readers.endAcquisition(acquisition);
    }
  }

  /** Runs `fn` holding a read, then releases it. */
  async withRead<T>(fn: (held: ReadHandle) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(await this.acquireRead(options), fn);
  }

  // ---- writes ------------------------------------------------------------------------

  /**
   * Waits for a write term: the writer record, then every reader gone.
   * @throws LockTimeoutError, AbortedError, BackendUnavailableError, ConfigError.
   */
  acquireWrite(options: AcquireOptions = {}): Promise<LockHandle> {
    if (this.native) return this.native.acquireWrite(options);
    return abandonable(this.context.clock, `a write of "${this.name}"`, options, async (signal) => {
      await this.checkShape(signal);
      for (;;) {
        const held = await this.writer.acquire({ signal });
        if (await this.drainReaders(held, signal, true)) return held;
      }
    });
  }

  /** One try, no waiting. @returns a write term, or `undefined` when a writer or a reader holds the lock. */
  async tryAcquireWrite(): Promise<LockHandle | undefined> {
    if (this.native) return this.native.tryAcquireWrite();
    await this.checkShape(undefined);
    const held = await this.writer.tryAcquire();
    if (!held) return undefined;
    return (await this.drainReaders(held, undefined, false)) ? held : undefined;
  }

  /** Runs `fn` holding a write term, then releases it. */
  async withWrite<T>(fn: (held: LockHandle) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(await this.acquireWrite(options), fn);
  }

  /** Stops watching the backend; held reads and writes are unaffected. */
  close(): void {
    this.native?.close();
    this.writer.close();
    this.readers.close();
    this.shape.close();
    const watcher = this.writerWatcher;
    this.writerWatcher = undefined;
    this.watchingWriter = undefined;
    this.writerWatchHealthy = false;
    watcher?.stop();
    void watcher?.lock.close?.();
    void this.writerReader?.then((lock) => lock.close?.(), () => {});
    this.writerReader = undefined;
  }

  // ---- internals ---------------------------------------------------------------------

  private async contendRead(signal: AbortSignal | undefined): Promise<ReadHandle> {
    const { clock, renewDeadlineMs, logger } = this.context;
    await this.checkShape(signal);
    await Promise.all([this.readers.startWatching(), this.watchWriter()]);
    const budget = new FailureBudget(clock, renewDeadlineMs, `reader-writer lock "${this.name}"`, logger);
    const acquisition = this.readers.beginAcquisition();
    try {
      return await this.readPasses(acquisition, budget, signal);
    } finally {
      this.readers.endAcquisition(acquisition);
    }
  }

  private async readPasses(acquisition: SlotAcquisition, budget: FailureBudget, signal: AbortSignal | undefined): Promise<ReadHandle> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const seen = this.waker.changes;
      let waitMs: number;
      try {
        const result = await this.tryRead(acquisition, signal);
        if (typeof result !== 'number') return result;
        waitMs = result;
        budget.succeeded();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        budget.failed(error);
        waitMs = this.readers.retryDelay();
      }
      if (waitMs > 0) await this.waker.sleep(waitMs, seen, signal);
    }
  }

  /** One try at a read. @returns the read, or how long to wait. */
  private async tryRead(acquisition: SlotAcquisition, signal: AbortSignal | undefined): Promise<ReadHandle | number> {
    // A writer known to hold or wait: look again (a fresh read) before touching a slot.
    if (this.writerHeld()) {
      await this.readWriter(signal);
      if (this.writerHeld()) return this.untilWriterMayChange();
    }
    const won: WonSlot | number = await this.readers.attemptAny(acquisition, signal);
    if (typeof won === 'number') return won;
    const held = this.readers.hold(won, `reader-writer lock "${this.name}" read ${won.index}`);
    let writer: LockSnapshot | null;
    try {
      // Our slot is written; now the writer record, read afresh (never a pushed snapshot).
      writer = await this.readWriter(signal);
    } catch (error) {
      await this.readers.giveBack(held);
      throw error;
    }
    if (this.writerHeld()) {
      await this.readers.giveBack(held); // writer preference: a writer holds or waits
      return this.untilWriterMayChange();
    }
    return new ReadHandle(this.name, held.lease, held.ended, held.onReleased, writer?.record.fencingToken ?? 0);
  }

  /** True when the writer record names a holder whose lease has not been observed to expire. */
  private writerHeld(): boolean {
    return this.writerSeen.heldByOther(`${this.context.identity}/reader`);
  }

  private untilWriterMayChange(): number {
    const untilExpiry = Math.max(1, this.writerSeen.expiresAt() - this.context.clock.now());
    // With the writer watch up, its release wakes us. A release that landed before the watch
    // took effect is not lost either: the watch coming up wakes every waiter, and a woken
    // reader reads the writer record afresh (tryRead) before it sleeps again. So the only
    // timer left is the writer's observed expiry — a poll would only cost reads.
    return this.writerWatchHealthy ? untilExpiry : Math.min(this.readers.retryDelay(), untilExpiry);
  }

  private async readWriter(signal: AbortSignal | undefined): Promise<LockSnapshot | null> {
    this.writerReader ??= Promise.resolve(this.context.lockFor(`${this.name}.writer`, `${this.context.identity}/rw-read`));
    const reader = await this.writerReader;
    const snapshot = await withDeadline(this.context.clock, this.context.retryPeriodMs, (s) => reader.get({ signal: s }), signal);
    this.writerSeen.observe(snapshot);
    return snapshot;
  }

  /**
   * With the writer record held, waits until every reader slot is free as read afresh after
   * that write. A slot seen free stays out of the way: a reader that takes it later reads the
   * writer record after taking it and backs off.
   * @param wait - false for tryAcquireWrite: a held slot gives the write up at once.
   * @returns true when the write term may start; false when the writer record was lost meanwhile (then released).
   */
  private async drainReaders(held: LockHandle, signal: AbortSignal | undefined, wait: boolean): Promise<boolean> {
    const { clock, renewDeadlineMs, logger } = this.context;
    const seenSlots = this.readers.names.map(() => new LeaseObserver(clock));
    const writerIdentity = `${this.context.identity}/writer`;
    let pending = seenSlots.map((_, i) => i);
    const budget = new FailureBudget(clock, renewDeadlineMs, `reader-writer lock "${this.name}"`, logger);
    if (wait) await this.readers.startWatching();
    const stop = signal ? AbortSignal.any([signal, held.signal]) : held.signal;
    try {
      for (;;) {
        if (!held.isHeld()) {
          await held.release().catch(() => {});
          return false;
        }
        const seen = this.waker.changes;
        let waitMs: number;
        try {
          const snapshots = await this.readers.read(pending, signal);
          snapshots.forEach((snapshot, k) => seenSlots[pending[k]!]!.observe(snapshot));
          pending = pending.filter((i) => seenSlots[i]!.heldByOther(writerIdentity));
          if (pending.length === 0) return true;
          if (!wait) {
            await held.release();
            return false;
          }
          waitMs = Math.min(
            ...pending.map((i) => {
              // As for readers (untilWriterMayChange): a slot's release, or its watch coming
              // up, wakes us, and every pass reads the pending slots afresh; only a slot
              // without a healthy watch is polled.
              const untilExpiry = Math.max(1, seenSlots[i]!.expiresAt() - clock.now());
              return this.readers.watching(i) ? untilExpiry : Math.min(this.readers.retryDelay(), untilExpiry);
            }),
          );
          budget.succeeded();
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          budget.failed(error);
          waitMs = this.readers.retryDelay();
        }
        try {
          await this.waker.sleep(waitMs, seen, stop);
        } catch (error) {
          if (signal?.aborted) throw error; // the caller gave up
          // The writer record was lost while waiting: the loop sees it.
        }
      }
    } catch (error) {
      await held.release().catch(() => {});
      throw error;
    }
  }

  /** Checks once per process that the stored reader-slot count is ours; transient failures retried for renewDeadline. */
  private checkShape(signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Shared by every caller, so not bound to one caller's signal; bounded by renewDeadline.
    this.shapeChecked ??= this.checkShapeOnce(undefined).catch((error: unknown) => {
      this.shapeChecked = undefined;
      throw error;
    });
    return this.shapeChecked;
  }

  private async checkShapeOnce(signal: AbortSignal | undefined): Promise<number> {
    const { clock, renewDeadlineMs, logger } = this.context;
    const budget = new FailureBudget(clock, renewDeadlineMs, `reader-writer lock "${this.name}"`, logger);
    for (;;) {
      try {
        return await this.shape.issue(signal, false);
      } catch (error) {
        if (signal?.aborted) throw error;
        budget.failed(error);
      }
    }
  }

  /** Watches the writer record so readers waiting on a writer wake when it releases. */
  private watchWriter(): Promise<void> {
    this.watchingWriter ??= this.startWatchingWriter();
    return this.watchingWriter;
  }

  private async startWatchingWriter(): Promise<void> {
    const lock = await this.context.lockFor(`${this.name}.writer`, `${this.context.identity}/rw-watch`);
    if (!lock.watch || this.watchingWriter === undefined) {
      await lock.close?.();
      return;
    }
    const watcher = { lock, stop: () => {} };
    this.writerWatcher = watcher;
    watcher.stop = lock.watch({
      // A pushed change only wakes readers; they judge the writer by a fresh read.
      onChange: () => this.waker.wake(),
      onHealth: (healthy) => {
        if (this.writerWatcher !== watcher) return;
        this.writerWatchHealthy = healthy;
        this.waker.wake();
      },
    });
  }
}
