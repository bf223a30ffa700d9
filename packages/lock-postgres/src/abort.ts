import { AbortedError, BackendUnavailableError, BatonError } from '@baton/core';
import type { Clock } from '@baton/core';

/** The error a call rejects with when its signal aborts: the signal's own reason when baton made it. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof BatonError ? reason : new AbortedError('operation aborted', { cause: reason });
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts; the work behind `promise`
 * goes on and its late result is dropped (callers keep their own state consistent with it).
 */
export function settleOnAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Runs `call` under the caller's signal, or, when there is none, under a deadline of
 * `timeoutMs` that rejects with `BackendUnavailableError`.
 */
export async function withCallSignal<T>(
  clock: Clock,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal !== undefined) return settleOnAbort(call(signal), signal);
  const controller = new AbortController();
  const timer = clock.setTimeout(
    () => controller.abort(new BackendUnavailableError(`${what}: no answer from PostgreSQL within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    return await settleOnAbort(call(controller.signal), controller.signal);
  } finally {
    clock.clearTimeout(timer);
  }
}
