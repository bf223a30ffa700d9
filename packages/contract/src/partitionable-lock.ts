import { BackendUnavailableError } from '@baton/core';
import type { AcquireIfFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';

/**
 * Wraps a lock so a test can cut one candidate off from the backend: while cut, every call
 * fails with `BackendUnavailableError`, as if the network between this process and the
 * backend were down. The backend itself and every other candidate are unaffected.
 */
export class PartitionableLock implements ResourceLock {
  readonly inner: ResourceLock;
  cut = false;
  /** The inner lock's fast path, cut off with the rest; absent when the inner lock has none. */
  readonly acquireIfFree?: (record: LeaderElectionRecord, options?: LockCallOptions) => Promise<AcquireIfFreeResult>;

  constructor(inner: ResourceLock) {
    this.inner = inner;
    if (inner.acquireIfFree) this.acquireIfFree = (record, options) => this.pass(() => inner.acquireIfFree!(record, options));
  }

  get identity(): string {
    return this.inner.identity;
  }

  describe(): string {
    return this.inner.describe();
  }

  get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    return this.pass(() => this.inner.get(options));
  }

  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    return this.pass(() => this.inner.create(record, options));
  }

  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    return this.pass(() => this.inner.update(record, expectedVersion, options));
  }

  watch(handlers: WatchHandlers): () => void {
    // Events stop reaching a cut-off candidate, like a watch stream behind a partition.
    const stop = this.inner.watch?.({
      onChange: (snapshot) => {
        if (!this.cut) handlers.onChange(snapshot);
      },
      onHealth: (healthy) => handlers.onHealth?.(healthy),
    });
    return () => stop?.();
  }

  onSessionLost(listener: (reason: Error) => void): () => void {
    return this.inner.onSessionLost?.(listener) ?? (() => {});
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  private async pass<T>(call: () => Promise<T>): Promise<T> {
    if (this.cut) throw new BackendUnavailableError(`${this.describe()}: cut off by the test`);
    return call();
  }
}
