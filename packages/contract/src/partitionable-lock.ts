import { BackendUnavailableError } from '@baton/core';
import type { AcquireIfFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';

/**
 * How a {@link PartitionableLock} treats calls:
 * - `pass`: through to the inner lock;
 * - `fail`: every call fails at once with `BackendUnavailableError` (connections refused);
 * - `hang`: every call waits, as on a network that silently drops packets, until its
 *   `signal` aborts (it then rejects with the signal's reason) or the partition heals (it then
 *   goes through). A caller that passes no signal waits for the heal.
 * Watch events stop reaching the wrapped lock in both partitioned modes.
 */
export type PartitionMode = 'pass' | 'fail' | 'hang';

/** A snapshot the wrapped lock passed on to its caller, when it carried a version not seen before. */
export interface SeenVersion {
  /** `performance.now()` when it was handed on. */
  at: number;
  version: string;
  holderIdentity: string;
}

/**
 * Wraps a lock so a test can cut one candidate off from the backend (the backend itself and
 * every other candidate are unaffected), and records every new version the candidate saw, so
 * a test can tell when it last observed a renewal.
 */
export class PartitionableLock implements ResourceLock {
  readonly inner: ResourceLock;
  mode: PartitionMode = 'pass';
  /** Every distinct version handed to the caller, in order (reads, writes, watch events). */
  readonly seen: SeenVersion[] = [];
  /** Called with every answer of a call (get, create, update, acquireIfFree) — not with pushed snapshots. */
  onAnswer: ((snapshot: LockSnapshot | null) => void) | undefined;
  private healed: Array<() => void> = [];
  /** The inner lock's fast path, cut off with the rest; absent when the inner lock has none. */
  readonly acquireIfFree?: (record: LeaderElectionRecord, options?: LockCallOptions) => Promise<AcquireIfFreeResult>;

  constructor(inner: ResourceLock) {
    this.inner = inner;
    if (inner.acquireIfFree) {
      this.acquireIfFree = async (record, options) => {
        const result = await this.pass(() => inner.acquireIfFree!(record, options), options);
        this.saw(result.snapshot);
        return result;
      };
    }
  }

  /** Shorthand: `true` fails every call (mode `fail`), `false` heals. */
  get cut(): boolean {
    return this.mode !== 'pass';
  }

  set cut(value: boolean) {
    this.partition(value ? 'fail' : 'pass');
  }

  /** Switches mode; leaving a partition lets hung calls through. */
  partition(mode: PartitionMode): void {
    this.mode = mode;
    if (mode === 'pass') for (const resume of this.healed.splice(0)) resume();
  }

  /** When this candidate last saw a version it had not seen before (`performance.now()`), or undefined. */
  get lastNewVersionAt(): number | undefined {
    return this.seen[this.seen.length - 1]?.at;
  }

  get identity(): string {
    return this.inner.identity;
  }

  describe(): string {
    return this.inner.describe();
  }

  async get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    return this.saw(await this.pass(() => this.inner.get(options), options));
  }

  async create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    return this.saw(await this.pass(() => this.inner.create(record, options), options));
  }

  async update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    return this.saw(await this.pass(() => this.inner.update(record, expectedVersion, options), options));
  }

  watch(handlers: WatchHandlers): () => void {
    // Events stop reaching a cut-off candidate, like a watch stream behind a partition.
    const stop = this.inner.watch?.({
      onChange: (snapshot) => {
        if (this.mode !== 'pass') return;
        if (snapshot) this.saw(snapshot, false);
        handlers.onChange(snapshot);
      },
      onHealth: (healthy) => handlers.onHealth?.(healthy),
    });
    return () => stop?.();
  }

  onSessionLost(listener: (reason: Error) => void): () => void {
    return this.inner.onSessionLost?.(listener) ?? (() => {});
  }

  close(): Promise<void> {
    this.partition('pass');
    return this.inner.close?.() ?? Promise.resolve();
  }

  private saw<T extends LockSnapshot | null>(snapshot: T, answered = true): T {
    if (answered) this.onAnswer?.(snapshot);
    if (snapshot && this.seen[this.seen.length - 1]?.version !== snapshot.version && !this.seen.some((s) => s.version === snapshot.version)) {
      this.seen.push({ at: performance.now(), version: snapshot.version, holderIdentity: snapshot.record.holderIdentity });
    }
    return snapshot;
  }

  private async pass<T>(call: () => Promise<T>, options?: LockCallOptions): Promise<T> {
    if (this.mode === 'fail') throw new BackendUnavailableError(`${this.describe()}: cut off by the test`);
    if (this.mode === 'hang') {
      const signal = options?.signal;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal!.reason);
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.healed.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    return call();
  }
}

/** A `wrap` that makes every lock of a process cuttable, and the list of them to cut at once. */
export function cuttableLocks(): { wrap: (lock: ResourceLock) => ResourceLock; locks: PartitionableLock[] } {
  const locks: PartitionableLock[] = [];
  const wrap = (lock: ResourceLock): ResourceLock => {
    const cuttable = new PartitionableLock(lock);
    locks.push(cuttable);
    return cuttable;
  };
  return { wrap, locks };
}

/**
 * A `wrap` for a process's locks that resolves `looked` once that process has *read* (asked
 * for, not been pushed) a record held by an identity starting with `holderPrefix`: a waiter
 * that has looked at the holder and is about to wait, so a wake-up bound counted from the
 * release is not met by a waiter that only started looking after it.
 */
export function lookSpy(holderPrefix: string): { wrap: (lock: ResourceLock) => ResourceLock; looked: Promise<void> } {
  let resolve!: () => void;
  const looked = new Promise<void>((r) => (resolve = r));
  const wrap = (lock: ResourceLock): ResourceLock => {
    const spied = new PartitionableLock(lock);
    spied.onAnswer = (snapshot) => {
      if (snapshot?.record.holderIdentity.startsWith(holderPrefix)) resolve();
    };
    return spied;
  };
  return { wrap, looked };
}
