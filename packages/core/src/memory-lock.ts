import { AbortedError, BackendUnavailableError, ConfigError, LockConflictError, LockNotFoundError } from './errors.ts';
import type { LeaderElectionRecord } from './record.ts';
import { newTermOver, validateRecord } from './record.ts';
import type {
  AcquireIfFreeResult,
  LockCallOptions,
  LockSnapshot,
  ResourceLock,
  WatchHandlers,
} from './resource-lock.ts';
import type { ResourceLockFactory } from './resource-lock-factory.ts';

/** How a {@link MemoryLockStore} misbehaves, for tests. */
export type MemoryFault =
  /** every call fails at once with BackendUnavailableError */
  | 'unavailable'
  /** every call hangs until its signal aborts, like a black-holed network */
  | 'hang';

interface Entry {
  /** Whatever was stored; validated on read, so tests can plant garbage. */
  value: unknown;
  version: number;
}

/** How a {@link MemoryLockStore} is made. */
export interface MemoryLockStoreOptions {
  /**
   * Whether its locks offer the one-operation `acquireIfFree` fast path. Default `true`;
   * `false` gives locks like the Kubernetes ones, that acquire by a read and a write.
   */
  fastPath?: boolean;
}

/**
 * The backing store of {@link MemoryLock}s: one process-wide map of records, shared by every
 * lock created from it, with push notifications. For unit tests, examples and docs; it gives
 * no protection across processes.
 */
export class MemoryLockStore implements ResourceLockFactory {
  /** Whether the locks it hands out offer `acquireIfFree`. */
  readonly fastPath: boolean;
  private readonly entries = new Map<string, Entry>();
  private readonly watchers = new Map<string, Set<WatchHandlers>>();
  private nextVersion = 1;
  private fault: MemoryFault | undefined;

  constructor(options: MemoryLockStoreOptions = {}) {
    this.fastPath = options.fastPath ?? true;
  }

  /**
   * A lock on `name` for `identity`.
   * @throws ConfigError when either is not a non-empty string.
   */
  lock(name: string, identity: string): MemoryLock {
    if (typeof name !== 'string' || name === '') throw new ConfigError('name', 'a lock name must be a non-empty string');
    if (typeof identity !== 'string' || identity === '') throw new ConfigError('identity', 'must be a non-empty string');
    return new MemoryLock(this, name, identity);
  }

  /** Nothing to close: the store opened no connection. Its locks keep working. */
  async close(): Promise<void> {}

  /** Make every call on this store fail or hang, until `setFault(undefined)`. */
  setFault(fault: MemoryFault | undefined): void {
    this.fault = fault;
  }

  /** Stores a value that is not a record, to test how callers treat corrupt data. */
  plant(name: string, value: unknown): void {
    this.write(name, value);
  }

  /** Removes a record entirely. */
  delete(name: string): void {
    this.entries.delete(name);
    this.notify(name, null);
  }

  /** @internal */
  async call<T>(options: LockCallOptions | undefined, operation: () => T, lockFault?: MemoryFault): Promise<T> {
    await Promise.resolve();
    if (options?.signal?.aborted) throw new AbortedError();
    const fault = lockFault ?? this.fault;
    if (fault === 'unavailable') throw new BackendUnavailableError('memory store is unavailable (injected fault)');
    if (fault === 'hang') {
      return new Promise<T>((_, reject) => {
        options?.signal?.addEventListener('abort', () => reject(new AbortedError()), { once: true });
      });
    }
    return operation();
  }

  /** @internal */
  read(name: string, describe: string): LockSnapshot | null {
    const entry = this.entries.get(name);
    if (!entry) return null;
    return { record: validateRecord(entry.value, describe), version: String(entry.version) };
  }

  /** @internal */
  write(name: string, value: unknown): LockSnapshot | undefined {
    const entry = { value: structuredClone(value), version: this.nextVersion++ };
    this.entries.set(name, entry);
    const snapshot =
      typeof value === 'object' && value !== null && 'holderIdentity' in value
        ? { record: structuredClone(value) as LeaderElectionRecord, version: String(entry.version) }
        : undefined;
    this.notify(name, snapshot);
    return snapshot;
  }

  /** @internal */
  currentVersion(name: string): string | undefined {
    const entry = this.entries.get(name);
    return entry && String(entry.version);
  }

  /** @internal */
  subscribe(name: string, handlers: WatchHandlers): () => void {
    let set = this.watchers.get(name);
    if (!set) this.watchers.set(name, (set = new Set()));
    set.add(handlers);
    queueMicrotask(() => handlers.onHealth?.(true));
    return () => {
      set.delete(handlers);
    };
  }

  private notify(name: string, snapshot: LockSnapshot | null | undefined): void {
    for (const handlers of this.watchers.get(name) ?? []) {
      queueMicrotask(() => handlers.onChange(snapshot === null || snapshot === undefined ? snapshot : structuredClone(snapshot)));
    }
  }
}

/**
 * An in-process {@link ResourceLock} with watch, over a {@link MemoryLockStore}.
 *
 * @example
 * const store = new MemoryLockStore();
 * const elector = new LeaderElector({ lock: store.lock('my-job', defaultIdentity()), callbacks });
 */
export class MemoryLock implements ResourceLock {
  readonly identity: string;
  /** Calls made through this lock, to measure the load an elector puts on a backend. */
  readonly calls = { get: 0, create: 0, update: 0, acquireIfFree: 0 };
  /**
   * The fast path (see {@link ResourceLock.acquireIfFree}), decided in one step on the store.
   * Absent when the store was made with `{ fastPath: false }`.
   */
  readonly acquireIfFree?: (record: LeaderElectionRecord, options?: LockCallOptions) => Promise<AcquireIfFreeResult>;
  private readonly store: MemoryLockStore;
  private readonly name: string;
  private fault: MemoryFault | undefined;

  constructor(store: MemoryLockStore, name: string, identity: string) {
    this.store = store;
    this.name = name;
    this.identity = identity;
    if (store.fastPath) this.acquireIfFree = MemoryLock.prototype.takeIfFree;
  }

  describe(): string {
    return `memory ${this.name}`;
  }

  /** Cut only this lock off from the store (a partition of one process), until `setFault(undefined)`. */
  setFault(fault: MemoryFault | undefined): void {
    this.fault = fault;
  }

  get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    this.calls.get++;
    return this.store.call(options, () => this.store.read(this.name, this.describe()), this.fault);
  }

  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    this.calls.create++;
    return this.store.call(options, () => {
      if (this.store.currentVersion(this.name) !== undefined) {
        throw new LockConflictError(`${this.describe()} already exists`);
      }
      return this.store.write(this.name, validateRecord(record, this.describe()))!;
    }, this.fault);
  }

  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    this.calls.update++;
    return this.store.call(options, () => {
      const current = this.store.currentVersion(this.name);
      if (current === undefined) throw new LockNotFoundError(`${this.describe()} does not exist`);
      if (current !== expectedVersion) {
        throw new LockConflictError(`${this.describe()} was modified (version ${current}, expected ${expectedVersion})`);
      }
      return this.store.write(this.name, validateRecord(record, this.describe()))!;
    }, this.fault);
  }

  watch(handlers: WatchHandlers): () => void {
    return this.store.subscribe(this.name, handlers);
  }

  private takeIfFree(record: LeaderElectionRecord, options?: LockCallOptions): Promise<AcquireIfFreeResult> {
    this.calls.acquireIfFree++;
    return this.store.call(options, (): AcquireIfFreeResult => {
      const checked = validateRecord(record, this.describe());
      const current = this.store.read(this.name, this.describe()); // corrupt data throws here
      if (current === null) return { acquired: true, snapshot: this.store.write(this.name, checked)! };
      if (current.record.holderIdentity !== '') return { acquired: false, snapshot: current };
      return { acquired: true, snapshot: this.store.write(this.name, newTermOver(current.record, checked))! };
    }, this.fault);
  }
}

