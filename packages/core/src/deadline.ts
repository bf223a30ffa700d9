import type { Clock } from './clock.ts';
import { BackendUnavailableError } from './errors.ts';

/**
 * Runs `call` with a signal that aborts after `ms` (on `clock`) or when `cancel` aborts, and
 * settles as soon as that signal aborts even if `call` ignores it, so a backend that hangs
 * can never hold the elector past its deadlines.
 */
export function withDeadline<T>(
  clock: Clock,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
  cancel?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const timer = clock.setTimeout(
    () => controller.abort(new BackendUnavailableError(`no answer from the backend within ${Math.round(ms)} ms`)),
    ms,
  );
  const onCancel = (): void => controller.abort(cancel?.reason);
  if (cancel?.aborted) onCancel();
  else cancel?.addEventListener('abort', onCancel, { once: true });

  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(controller.signal.reason);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = call(controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(resolve, reject).finally(() => controller.signal.removeEventListener('abort', onAbort));
  }).finally(() => {
    clock.clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
  });
}

/** Resolves true when `work` settles within `ms` (on `clock`), false when the time runs out first. */
export function settlesWithin(clock: Clock, work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    void work.then(() => {
      clock.clearTimeout(timer);
      resolve(true);
    });
  });
}
