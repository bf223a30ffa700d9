/**
 * Timestamps every process of a run can compare: all run on one machine, so the wall clock is
 * shared; `performance.timeOrigin + performance.now()` gives it with sub-millisecond resolution
 * and without the jumps of repeated `Date.now()` calls.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms`, or at once (resolving, not rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Polls `predicate` every `everyMs` until it holds. @throws after `timeoutMs`, naming `what`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs: number, everyMs = 10): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!predicate()) {
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
