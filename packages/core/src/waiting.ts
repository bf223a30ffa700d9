import type { Clock, TimerHandle } from './clock.ts';
import { parseDuration } from './duration.ts';
import { AbortedError, BackendUnavailableError, isPermanentError, LockTimeoutError } from './errors.ts';
import type { AcquireOptions } from './distributed-mutex.ts';
import type { Logger } from './logger.ts';

/**
 * The waiting machinery the semaphore and the reader-writer lock share (the mutex keeps its
 * own copy of the same rules): a wait that can be abandoned, a local first-come-first-served
 * queue, wake-ups from watches, and the backend failure budget.
 */

/**
 * Runs `wait` with one signal that aborts on the caller's `signal` (`AbortedError`) or after
 * `timeout` (`LockTimeoutError`). Only a wait that can be abandoned pays for a controller.
 */
export async function abandonable<T>(
  clock: Clock,
  what: string,
  options: AcquireOptions,
  wait: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'timeout');
  const giveUp = timeoutMs === undefined && options.signal === undefined ? undefined : new AbortController();
  const timer =
    timeoutMs === undefined ? undefined : clock.setTimeout(() => giveUp!.abort(new LockTimeoutError(`${what} not acquired within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = (): void => giveUp!.abort(new AbortedError(`waiting for ${what} was aborted`, { cause: options.signal?.reason }));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await wait(giveUp?.signal);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The head of the queue when it was empty: nobody waits on it, so no promise is made. */
const TURN_TAKEN = (): void => {};

/** Local waiters served first come, first served: only the head contends on the backend. */
export class LocalQueue {
  private readonly queue: Array<() => void> = [];

  get length(): number {
    return this.queue.length;
  }

  /** Runs `fn` on this caller's turn; the next waiter's turn starts when it settles. */
  async run<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const turn = this.takeTurn(signal);
    if (turn) await turn;
    try {
      return await fn();
    } finally {
      this.queue.shift();
      this.queue[0]?.();
    }
  }

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
}

/**
 * Wake-ups pushed by watches. A sleeper notes {@link Waker.changes} before it looks at the
 * backend and passes it to {@link Waker.sleep}: a change pushed in between ends the sleep at
 * once, so no notification is lost between a read and the wait that follows it.
 */
export class Waker {
  /** Bumped by every notification. */
  changes = 0;
  private readonly sleepers = new Set<() => void>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  wake(): void {
    this.changes++;
    for (const wake of [...this.sleepers]) wake();
  }

  /** Waits `ms`, or until a change after `seen`, or until `signal` aborts (then throws its reason). */
  sleep(ms: number, seen: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.changes !== seen) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.sleepers.delete(wake);
      };
      const onAbort = (): void => {
        done();
        reject(signal!.reason);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      timer = this.clock.setTimeout(wake, ms);
      this.sleepers.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * How long a waiter tolerates a failing backend: transient failures are retried until they
 * have lasted renewDeadline (then `BackendUnavailableError`); permanent ones fail at once.
 */
export class FailureBudget {
  private failingSince: number | undefined;
  private readonly clock: Clock;
  private readonly renewDeadlineMs: number;
  private readonly what: string;
  private readonly logger: Logger;

  constructor(clock: Clock, renewDeadlineMs: number, what: string, logger: Logger) {
    this.clock = clock;
    this.renewDeadlineMs = renewDeadlineMs;
    this.what = what;
    this.logger = logger;
  }

  succeeded(): void {
    this.failingSince = undefined;
  }

  /** @throws `error` when it is permanent, BackendUnavailableError when the budget is spent. */
  failed(error: unknown): void {
    if (isPermanentError(error)) throw error;
    this.failingSince ??= this.clock.now();
    if (this.clock.now() - this.failingSince >= this.renewDeadlineMs) {
      throw new BackendUnavailableError(`${this.what}: backend failing for ${this.renewDeadlineMs} ms`, { cause: error });
    }
    this.logger.warn({ lock: this.what, error: String(error) }, 'attempt failed; retrying');
  }
}
