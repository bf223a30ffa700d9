import type { Clock, TimerHandle } from './clock.ts';
import { JITTER_FACTOR } from './config.ts';
import type { LeaseTimings } from './config.ts';
import { withDeadline } from './deadline.ts';
import { parseDuration, type Duration } from './duration.ts';
import {
  AbortedError,
  BackendUnavailableError,
  InvalidRecordError,
  LockConflictError,
  LockLostError,
  LockNotFoundError,
  LockTimeoutError,
  PermissionDeniedError,
} from './errors.ts';
import { HeldLease } from './held-lease.ts';
import { LazyAbort } from './lazy-abort.ts';
import { LeaseObserver } from './lease-observer.ts';
import { LockHandle } from './lock-handle.ts';
import type { Logger } from './logger.ts';
import { nextTermRecord } from './record.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';

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
}

type Attempt = { acquired: LockHandle } | { waitMs: number };

/**
 * One named distributed lock. Waiters in this process are served first come, first served,
 * and only the first of them contends on the backend; across processes, waiters race when
 * the lock comes free (woken by the backend's watch, or at the observed expiry).
 */
export class DistributedMutex {
  readonly name: string;
  private readonly context: MutexContext;
  private readonly observer: LeaseObserver;
  /** Local waiters; the first one contends. */
  private readonly queue: Array<() => void> = [];
  private sequence = 0;
  private highestToken = 0;
  /** A snapshot delivered by the watch (or our own release) that the next attempt may use instead of reading. */
  private fresh: LockSnapshot | null | undefined;
  private wake: (() => void) | undefined;
  /** Set by every watch notification; a sleep that starts after one returns at once. */
  private woken = false;
  private watcher: { lock: ResourceLock; stop: () => void; healthy: boolean } | undefined;

  /** @internal Use {@link DistributedLocks.get}. */
  constructor(name: string, context: MutexContext) {
    this.name = name;
    this.context = context;
    this.observer = new LeaseObserver(context.clock);
  }

  /**
   * Waits until the lock is held by this caller.
   * @throws LockTimeoutError after `timeout`; AbortedError when `signal` aborts;
   * BackendUnavailableError when the backend has failed for longer than renewDeadline.
   */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'timeout');
    const giveUp = new AbortController();
    const { clock } = this.context;
    const timer =
      timeoutMs === undefined
        ? undefined
        : clock.setTimeout(() => giveUp.abort(new LockTimeoutError(`lock "${this.name}" not acquired within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => giveUp.abort(new AbortedError(`waiting for lock "${this.name}" was aborted`, { cause: options.signal?.reason }));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.takeTurn(giveUp.signal);
      try {
        return await this.contend(giveUp.signal);
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
    if (this.queue.length > 0) return null;
    const lock = await this.newContenderLock();
    try {
      const attempt = await this.attemptOnce(lock);
      if ('acquired' in attempt) return attempt.acquired;
    } catch (error) {
      await lock.close?.();
      if (error instanceof LockConflictError || error instanceof LockNotFoundError) return null;
      throw error;
    }
    await lock.close?.();
    return null;
  }

  /** Stops watching the backend for this lock; held handles are unaffected. */
  close(): void {
    if (!this.watcher) return;
    const { stop, lock } = this.watcher;
    this.watcher = undefined;
    this.fresh = undefined;
    stop();
    void lock.close?.();
  }

  // ---- local queue -------------------------------------------------------------------

  private takeTurn(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.queue.indexOf(turn);
        if (index >= 0) this.queue.splice(index, 1);
        if (index === 0) this.queue[0]?.();
        reject(signal.reason);
      };
      this.queue.push(turn);
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.queue.length === 1) turn();
    });
  }

  private leaveTurn(): void {
    this.queue.shift();
    this.queue[0]?.();
  }

  // ---- contending --------------------------------------------------------------------

  private async contend(signal: AbortSignal): Promise<LockHandle> {
    const { clock, renewDeadlineMs, retryPeriodMs } = this.context;
    const lock = await this.newContenderLock();
    await this.startWatching();
    let failingSince: number | undefined;
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        let waitMs: number;
        try {
          const attempt = await this.attemptOnce(lock, signal);
          if ('acquired' in attempt) return attempt.acquired;
          waitMs = attempt.waitMs;
          failingSince = undefined;
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          if (error instanceof LockConflictError || error instanceof LockNotFoundError) continue;
          // Not transient: waiting longer would not help.
          if (error instanceof InvalidRecordError || error instanceof PermissionDeniedError) throw error;
          failingSince ??= clock.now();
          if (clock.now() - failingSince >= renewDeadlineMs) {
            throw new BackendUnavailableError(`lock "${this.name}": backend failing for ${renewDeadlineMs} ms`, { cause: error });
          }
          this.context.logger.warn({ lock: this.name, error: String(error) }, 'lock attempt failed; retrying');
          waitMs = retryPeriodMs * (1 + JITTER_FACTOR * this.context.random());
        }
        await this.sleep(waitMs, signal);
      }
    } catch (error) {
      await lock.close?.();
      throw error;
    }
  }

  /** Reads (unless a fresh snapshot is at hand), then writes a new term if the lock is free. */
  private async attemptOnce(lock: ResourceLock, signal?: AbortSignal): Promise<Attempt> {
    const { clock, retryPeriodMs, leaseDurationMs } = this.context;
    this.woken = false;
    let snapshot = this.fresh;
    this.fresh = undefined;
    if (snapshot === undefined) snapshot = await withDeadline(clock, retryPeriodMs, (s) => lock.get({ signal: s }), signal);
    this.observe(snapshot);
    if (this.observer.heldByOther(lock.identity)) {
      const untilExpiry = Math.max(1, this.observer.expiresAt() - clock.now());
      const retry = retryPeriodMs * (1 + JITTER_FACTOR * this.context.random());
      return { waitMs: this.watcher?.healthy ? untilExpiry : Math.min(untilExpiry, retry) };
    }
    const record = nextTermRecord(snapshot?.record ?? null, lock.identity, leaseDurationMs, clock.wallNow(), this.highestToken);
    const writeStart = clock.now();
    const current = snapshot;
    const written = await withDeadline(
      clock,
      retryPeriodMs,
      (s) => (current === null ? lock.create(record, { signal: s }) : lock.update(record, current.version, { signal: s })),
      signal,
    );
    this.observe(written);
    return { acquired: this.hold(lock, written, writeStart) };
  }

  private hold(lock: ResourceLock, written: LockSnapshot, writeStart: number): LockHandle {
    const ended = new LazyAbort();
    const { clock, leaseDurationMs, renewDeadlineMs, retryPeriodMs, logger } = this.context;
    const stopSession = lock.onSessionLost?.((reason) => lease.lose(`session lost: ${reason.message}`));
    const lease: HeldLease = new HeldLease(
      {
        lock,
        clock,
        leaseDurationMs,
        renewDeadlineMs,
        retryPeriodMs,
        onLost: (reason) => {
          ended.abort(() => new LockLostError(`lock "${this.name}" lost: ${reason}`));
          logger.warn({ lock: this.name, reason }, 'lock lost');
        },
        onError: (error, message) => logger.warn({ lock: this.name, error: String(error) }, message),
      },
      written,
      writeStart,
    );
    return new LockHandle(this.name, lease, ended, (released) => {
      stopSession?.();
      if (released) {
        // The next local waiter can write on top of our release without reading first.
        this.observe(released);
        this.fresh = released;
      }
      void lock.close?.();
    });
  }

  private observe(snapshot: LockSnapshot | null): void {
    this.observer.observe(snapshot);
    if (snapshot) this.highestToken = Math.max(this.highestToken, snapshot.record.fencingToken);
  }

  private async newContenderLock(): Promise<ResourceLock> {
    return this.context.lockFor(this.name, `${this.context.identity}/${++this.sequence}`);
  }

  // ---- waking ------------------------------------------------------------------------

  /** Waits `ms`, or until the watch reports a change, or until `signal` aborts (then throws). */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    const { clock } = this.context;
    if (this.woken) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        if (timer !== undefined) clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
      };
      const onAbort = (): void => {
        done();
        reject(signal.reason);
      };
      timer = clock.setTimeout(() => {
        done();
        resolve();
      }, ms);
      this.wake = () => {
        done();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Watches the lock from the first wait on until {@link DistributedMutex.close}, so handovers need no resubscription. */
  private async startWatching(): Promise<void> {
    if (this.watcher) return;
    const lock = await this.context.lockFor(this.name, `${this.context.identity}/watch`);
    if (!lock.watch || this.watcher) {
      await lock.close?.();
      return;
    }
    const watcher = { lock, stop: () => {}, healthy: false };
    this.watcher = watcher;
    watcher.stop = lock.watch({
      onChange: (snapshot) => {
        if (snapshot !== undefined) {
          this.observe(snapshot);
          this.fresh = snapshot;
        }
        this.woken = true;
        this.wake?.();
      },
      onHealth: (healthy) => {
        watcher.healthy = healthy;
        // Whatever happened while the watch was down must be read again.
        this.woken = true;
        this.wake?.();
      },
    });
  }
}
