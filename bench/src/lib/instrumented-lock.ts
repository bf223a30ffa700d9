import type { LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';
import { now } from './clock.ts';

/** What an {@link instrument}ed lock reports. */
export interface LockProbe {
  /** Calls by method. */
  calls: { get: number; create: number; update: number };
  /** When the last release write (an update clearing the holder) was sent and answered. */
  releaseSentAt?: number;
  releaseDoneAt?: number;
}

/**
 * Wraps a ResourceLock to count its calls and timestamp release writes, keeping exactly the
 * optional capabilities (watch, session loss, close) the inner lock has — the elector's
 * behaviour depends on their presence.
 */
export function instrument(inner: ResourceLock, probe: LockProbe = { calls: { get: 0, create: 0, update: 0 } }): { lock: ResourceLock; probe: LockProbe } {
  const lock: ResourceLock = {
    identity: inner.identity,
    describe: () => inner.describe(),
    get(options?: LockCallOptions): Promise<LockSnapshot | null> {
      probe.calls.get++;
      return inner.get(options);
    },
    create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
      probe.calls.create++;
      return inner.create(record, options);
    },
    async update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
      probe.calls.update++;
      const release = record.holderIdentity === '';
      if (release) probe.releaseSentAt = now();
      const written = await inner.update(record, expectedVersion, options);
      if (release) probe.releaseDoneAt = now();
      return written;
    },
  };
  if (inner.watch) lock.watch = (handlers: WatchHandlers) => inner.watch!(handlers);
  if (inner.onSessionLost) lock.onSessionLost = (listener) => inner.onSessionLost!(listener);
  if (inner.close) lock.close = () => inner.close!();
  return { lock, probe };
}
