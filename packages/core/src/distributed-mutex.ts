import type { Clock, TimerHandle } from './clock.ts';
import type { LeaseTimings } from './config.ts';
import { Contender } from './contender.ts';
import { parseDuration, type Duration } from './duration.ts';
import {
  AbortedError,
  BackendUnavailableError,
  InvalidRecordError,
  LockTimeoutError,
  PermissionDeniedError,
} from './errors.ts';
import { LockHandle } from './lock-handle.ts';
import type { Logger } from './logger.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';
import { startLease } from './start-lease.ts';

/** How long {@link DistributedMutex.acquire} may wait. */
export interface AcquireOptions {
  /** Abandon the wait when this aborts (`AbortedError`). */
  signal?: AbortSignal;
  /** Abandon the wait after this long (`LockTimeoutError`). Default: wait as long as it takes. */
  timeout?: Duration;
}

/** What a {@link DistributedMutex} needs from {@link DistributedLocks}. @internal */
export interface MutexContext extends LeaseTimings {
  lockFor(name: string, identity: string): ResourceLock | Promise<ResourceLock>;
  identity: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /**
   * The mutex that serves `mutex.name` now, registering `mutex` again when nothing does: a
   * mutex whose registry forgot it (see `idle`) and that is used again hands its calls on.
   */
  current?(mutex: DistributedMutex): DistributedMutex;
  /** The mutex holds nothing, waits for nothing and watches nothing: it may be forgotten. */
  idle?(mutex: DistributedMutex): void;
}

const NO_OPTIONS: AcquireOptions = Object.freeze({});

/** The head of the local queue when it was empty: nobody waits on it, so no promise is made. */
const TURN_TAKEN = (): void => {};

/**
 * One named distributed lock. Waiters in this process are served first come, first served,
 * and only the first of them contends on the backend; across processes, waiters race when
 * the lock comes free (woken by the backend's watch, or at the observed expiry).
 */
export class DistributedMutex {
  readonly name: string;
  private readonly context: MutexContext;
  /** The acquisition path, shared with the elector: what this process knows of the lock, and attempts. */
  private readonly contender: Contender;
  /** Local waiters; the first one contends. */
  private readonly queue: Array<() => void> = [];
  private sequence = 0;
  /** Calls of acquire/tryAcquire under way, plus handles not released yet. */
  private active = 0;
  /** @internal Set by the registry when it forgot this mutex (see `MutexContext.idle`); cleared when it takes it back. */
  forgotten = false;
  private wake: (() => void) | undefined;
  /** Set by every watch notification; a sleep that starts after one returns at once. */
  private woken = false;
  private watcher: { lock: ResourceLock; stop: () => void } | undefined;
  /** Ends the watch once nobody in this process has waited for a lease duration (see {@link DistributedMutex.leaveTurn}). */
  private unwatchTimer: TimerHandle | undefined;

  /** @internal Use {@link DistributedLocks.get}. */
  constructor(name: string, context: MutexContext) {
    this.name = name;
    this.context = context;
    this.contender = new Contender(context);
  }

  /**
   * Waits until the lock is held by this caller.
   * @throws LockTimeoutError after `timeout`; AbortedError when `signal` aborts;
   * BackendUnavailableError when the backend has failed for longer than renewDeadline.
   */
  async acquire(options: AcquireOptions = NO_OPTIONS): Promise<LockHandle> {
    if (this.forgotten) {
      const current = this.context.current?.(this) ?? this;
      if (current !== this) return current.acquire(options);
    }
    this.active++;
    try {
      // A wait that cannot be abandoned needs no controller, timer or listener.
      if (options.timeout === undefined && options.signal === undefined) {
        const turn = this.takeTurn(undefined);
        if (turn) await turn;
        try {
          return await this.contend(undefined);
        } finally {
          this.leaveTurn();
        }
      }
      return await this.acquireAbandonable(options);
    } finally {
      this.active--;
      this.maybeIdle();
    }
  }

  private async acquireAbandonable(options: AcquireOptions): Promise<LockHandle> {
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'timeout');
    const { clock } = this.context;
    // Only a wait that can be abandoned pays for a controller, a timer and a listener.
    const giveUp = timeoutMs === undefined && options.signal === undefined ? undefined : new AbortController();
    const timer =
      timeoutMs === undefined
        ? undefined
        : clock.setTimeout(() => giveUp!.abort(new LockTimeoutError(`lock "${this.name}" not acquired within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => giveUp!.abort(new AbortedError(`waiting for lock "${this.name}" was aborted`, { cause: options.signal?.reason }));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const turn = this.takeTurn(giveUp?.signal);
      if (turn) await turn;
      try {
        return await this.contend(giveUp?.signal);
      } finally {
        this.leaveTurn();
      }
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * One attempt, no waiting.
   * @returns the handle, or `null` when someone holds the lock.
   * @throws BackendUnavailableError and other backend errors as they are.
   */
  async tryAcquire(): Promise<LockHandle | null> {
    if (this.forgotten) {
      const current = this.context.current?.(this) ?? this;
      if (current !== this) return current.tryAcquire();
    }
    if (this.queue.length > 0) return null;
    this.active++;
    try {
      const lock = await this.newContenderLock();
      try {
        const attempt = await this.contender.attempt(lock);
        if (attempt.acquired) return this.hold(lock, attempt.snapshot, attempt.writeStart);
      } catch (error) {
        await lock.close?.();
        throw error;
      }
      await lock.close?.();
      return null;
    } finally {
      this.active--;
      this.maybeIdle();
    }
  }

  /** The highest fencing token this mutex has seen (kept by its registry when it forgets the mutex). */
  get highestTokenSeen(): number {
    return this.contender.highestTokenSeen;
  }

  /** @internal Carries over what a forgotten mutex on the same name had seen. */
  rememberToken(token: number): void {
    this.contender.rememberToken(token);
  }

  /** Stops watching the backend for this lock; held handles are unaffected. */
  close(): void {
    this.cancelUnwatch();
    if (!this.watcher) return;
    const { stop, lock } = this.watcher;
    this.watcher = undefined;
    this.contender.setWatchHealthy(false);
    stop();
    void lock.close?.();
  }

  // ---- local queue -------------------------------------------------------------------

  /** Joins the local queue. @returns nothing when it is this caller's turn at once, else a wait for it. */
  private takeTurn(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.queue.length === 0 && !signal?.aborted) {
      this.queue.push(TURN_TAKEN);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.queue.indexOf(turn);
        if (index >= 0) this.queue.splice(index, 1);
        if (index === 0) this.queue[0]?.();
        reject(signal!.reason);
      };
      this.queue.push(turn);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      else if (this.queue.length === 1) turn();
    });
  }

  private leaveTurn(): void {
    this.queue.shift();
    if (this.queue.length > 0) this.queue[0]!();
    else if (this.watcher && this.unwatchTimer === undefined) {
      // Nobody here waits any more. The watch stays a lease duration, so a lock that is
      // contended again soon is not resubscribed (a round trip) on every wait; after that it
      // goes, so an idle lock costs the backend nothing.
      this.unwatchTimer = this.context.clock.setTimeout(() => {
        this.unwatchTimer = undefined;
        if (this.queue.length > 0) return;
        this.close();
        this.maybeIdle();
      }, this.context.leaseDurationMs);
      // Only a bound: it must not keep a program alive.
      (this.unwatchTimer as { unref?: () => unknown }).unref?.();
    }
  }

  /** Tells the registry when nothing here needs this object any more, so names used once do not pile up. */
  private maybeIdle(): void {
    if (this.active === 0 && this.queue.length === 0 && !this.watcher && this.unwatchTimer === undefined) this.context.idle?.(this);
  }

  private cancelUnwatch(): void {
    if (this.unwatchTimer === undefined) return;
    this.context.clock.clearTimeout(this.unwatchTimer);
    this.unwatchTimer = undefined;
  }

  // ---- contending --------------------------------------------------------------------

  private async contend(signal: AbortSignal | undefined): Promise<LockHandle> {
    const { clock, renewDeadlineMs } = this.context;
    const made = this.newContenderLock();
    const lock = made instanceof Promise ? await made : made;
    this.cancelUnwatch();
    let failingSince: number | undefined;
    /** Set after a held answer on a lock that can be waited on at the backend: the next step waits there. */
    let waitThereMs = 0;
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        let waitMs: number;
        try {
          this.woken = false;
          if (waitThereMs > 0) {
            const waited = await this.contender.attemptWhenFree(lock, waitThereMs, signal);
            waitThereMs = 0;
            if (waited?.acquired) return this.hold(lock, waited.snapshot, waited.writeStart);
            // Still held after the wait: attempt again at once. The backend could not wait
            // (undefined): wait for the watch or the observed expiry instead.
            waitMs = waited === undefined ? this.contender.delayAfter('held') : waited.outcome === 'held' ? 0 : this.contender.delayAfter(waited.outcome);
          } else {
            const attempt = await this.contender.attempt(lock, signal);
            if (attempt.acquired) return this.hold(lock, attempt.snapshot, attempt.writeStart);
            // A lost race with the watch up: the winner's write will be pushed (every write is),
            // and its snapshot says what to do next, so wait for it instead of reading at once —
            // the other losers would read too, all of them in the winner's way. The retry period
            // bounds the wait should the push never come.
            waitMs =
              attempt.outcome === 'conflict' && this.contender.watchHealthy ? this.contender.retryDelay() : this.contender.delayAfter(attempt.outcome);
            if (attempt.outcome === 'held' && lock.acquireWhenFree !== undefined && this.contender.watchHealthy) {
              // Wait at the backend: its exclusion hands the lock over the moment the holder lets go.
              waitThereMs = Math.min(waitMs, this.context.retryPeriodMs);
              waitMs = 0;
            }
          }
          failingSince = undefined;
        } catch (error) {
          waitThereMs = 0;
          if (signal?.aborted) throw signal.reason;
          // Not transient: waiting longer would not help.
          if (error instanceof InvalidRecordError || error instanceof PermissionDeniedError) throw error;
          failingSince ??= clock.now();
          if (clock.now() - failingSince >= renewDeadlineMs) {
            throw new BackendUnavailableError(`lock "${this.name}": backend failing for ${renewDeadlineMs} ms`, { cause: error });
          }
          this.context.logger.warn({ lock: this.name, error: String(error) }, 'lock attempt failed; retrying');
          waitMs = this.contender.delayAfter('error');
        }
        // Watched only while someone waits: an uncontended acquire sends nothing but its one
        // write. A change between the missed attempt and the subscription is not lost: the
        // watch reporting healthy wakes the sleep below, and the next attempt reads.
        if (!this.watcher) await this.startWatching();
        if (waitMs > 0) await this.sleep(waitMs, signal);
      }
    } catch (error) {
      await lock.close?.();
      throw error;
    }
  }

  private hold(lock: ResourceLock, written: LockSnapshot, writeStart: number): LockHandle {
    const { lease, ended, stopSession } = startLease(this.context, lock, written, writeStart, `lock "${this.name}"`, this.name);
    this.active++;
    return new LockHandle(this.name, lease, ended, (released) => {
      this.active--;
      stopSession?.();
      if (released) {
        // The next local waiter can write on top of our release without reading first.
        this.contender.offer(released);
      }
      void lock.close?.();
      this.maybeIdle();
    });
  }

  /** A lock under an identity of its own; a promise only when `lockFor` returns one. */
  private newContenderLock(): ResourceLock | Promise<ResourceLock> {
    return this.context.lockFor(this.name, `${this.context.identity}/${++this.sequence}`);
  }

  // ---- waking ------------------------------------------------------------------------

  /** Waits `ms`, or until the watch reports a change, or until `signal` aborts (then throws). */
  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const { clock } = this.context;
    if (this.woken) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        if (timer !== undefined) clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = undefined;
      };
      const onAbort = (): void => {
        done();
        reject(signal!.reason);
      };
      timer = clock.setTimeout(() => {
        done();
        resolve();
      }, ms);
      this.wake = () => {
        done();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Watches the lock from the first wait on until a lease duration after the last (or {@link DistributedMutex.close}). */
  private async startWatching(): Promise<void> {
    if (this.watcher) return;
    const lock = await this.context.lockFor(this.name, `${this.context.identity}/watch`);
    if (!lock.watch || this.watcher) {
      await lock.close?.();
      return;
    }
    const watcher = { lock, stop: () => {} };
    this.watcher = watcher;
    watcher.stop = lock.watch({
      onChange: (snapshot) => {
        this.contender.offer(snapshot);
        this.woken = true;
        this.wake?.();
      },
      onHealth: (healthy) => {
        if (this.watcher !== watcher) return;
        this.contender.setWatchHealthy(healthy);
        // Whatever happened while the watch was down must be read again.
        this.woken = true;
        this.wake?.();
      },
    });
  }
}
