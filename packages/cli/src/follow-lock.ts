import type { LockSnapshot, ResourceLock } from '@baton/core';

export interface FollowLockOptions {
  /** Read at least this often, whether or not the backend pushes changes. */
  pollMs: number;
  signal: AbortSignal;
  onSnapshot(snapshot: LockSnapshot | null): void;
  /** A read that failed (the next notification or tick reads again). */
  onError?(error: unknown): void;
}

/**
 * Reads `lock` on every change notification (when it can watch), when its watch comes back,
 * and every `pollMs`. One read at a time: notifications during a read cause one more read,
 * not a queue of them. For the live views of `baton status --watch` and `baton demo`.
 * @returns a function that stops following.
 */
export function followLock(lock: ResourceLock, options: FollowLockOptions): () => void {
  const { signal } = options;
  let reading = false;
  let again = false;
  let stopped = false;
  const read = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        try {
          const snapshot = await lock.get({ signal });
          if (!stopped) options.onSnapshot(snapshot);
        } catch (error) {
          if (!stopped && !signal.aborted) options.onError?.(error);
        }
      } while (again && !stopped);
    } finally {
      reading = false;
    }
  };
  const stopWatch = lock.watch?.({ onChange: () => void read(), onHealth: (healthy) => healthy && void read() });
  const timer = setInterval(() => void read(), options.pollMs);
  return () => {
    stopped = true;
    clearInterval(timer);
    stopWatch?.();
  };
}
