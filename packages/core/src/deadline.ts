import type { Clock } from './clock.ts';
import { BackendUnavailableError } from './errors.ts';
import type { ResourceLock } from './resource-lock.ts';

/**
 * Runs `call` with a signal that aborts after `ms` (on `clock`) or when `cancel` aborts, and
 * settles as soon as that signal aborts even if `call` ignores it, so a backend that hangs
 * can never hold the elector past its deadlines. (On every lock operation: one controller,
 * one timer, and a listener only when there is a `cancel`.)
 */
export function withDeadline<T>(
  clock: Clock,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
  cancel?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
      return true;
    };
    const abort = (reason: unknown): void => {
      if (!finish()) return;
      controller.abort(reason);
      reject(controller.signal.reason);
    };
    const onCancel = (): void => abort(cancel?.reason);
    const timer = clock.setTimeout(() => abort(new BackendUnavailableError(`no answer from the backend within ${Math.round(ms)} ms`)), ms);
    if (cancel?.aborted) {
      abort(cancel.reason);
      return;
    }
    cancel?.addEventListener('abort', onCancel, { once: true });
    let pending: Promise<T>;
    try {
      pending = call(controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (error: unknown) => {
        if (finish()) reject(error);
      },
    );
  });
}

/**
 * Like {@link withDeadline} for a lock whose calls settle by themselves
 * ({@link ResourceLock.boundsOwnCalls}) when there is nothing to cancel them with: the call
 * gets no signal and the caller stops waiting at `ms`, leaving the call to settle on its own
 * bound. No controller and no listener per call: the dearest part of a lock operation's
 * bookkeeping. With a `cancel`, or a lock that does not bound its calls, it is withDeadline.
 */
export function withinDeadline<T>(
  clock: Clock,
  ms: number,
  call: (signal: AbortSignal | undefined) => Promise<T>,
  lock: Pick<ResourceLock, 'boundsOwnCalls'>,
  cancel?: AbortSignal,
): Promise<T> {
  if (cancel !== undefined || lock.boundsOwnCalls !== true) return withDeadline(clock, ms, call, cancel);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new BackendUnavailableError(`no answer from the backend within ${Math.round(ms)} ms`));
    }, ms);
    let pending: Promise<T>;
    try {
      pending = call(undefined);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        reject(error);
      },
    );
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
