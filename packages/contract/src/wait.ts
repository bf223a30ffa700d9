import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Waiting helpers for tests against real backends: every wait has a deadline and fails with
 * a message saying what did not happen, instead of sleeping for a guessed time.
 */

/** Resolves once `predicate()` holds, checking every `intervalMs`; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition', intervalMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise with its resolver, for turning a callback into something a test can await. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How long this process's event loop stalled while a timing check ran. A latency bound in a
 * test ("stepped down within renewDeadline plus slack") is about the code's timers, not about
 * a 2-core machine that stopped scheduling the test for most of a second: the slack grows by
 * the longest stall measured, so the bound still fails when a timer was never armed.
 */
export interface StallMeter {
  /** The longest stall seen since the meter started, in ms; stops the meter. */
  stop(): number;
}

export function stallMeter(): StallMeter {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      // An empty histogram reports a huge min and 0 max; a stall is never negative.
      return Math.max(0, histogram.max / 1e6);
    },
  };
}
