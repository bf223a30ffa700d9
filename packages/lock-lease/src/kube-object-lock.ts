import { InvalidRecordError, LockConflictError, newTermOver, validateRecord } from '@baton/core';
import type { AcquireIfFreeResult, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from '@baton/core';
import { KubeContext } from './kube-context.ts';
import { statusOf, toBatonError } from './kube-errors.ts';
import type { KubeLockOptions, KubeObject, KubeResource, RecordCodec } from './kube-object.ts';
import type { RequestPriority } from './rate-limiter.ts';

/** A record with nobody holding it, for objects that exist but carry no record yet. */
const FREE: LeaderElectionRecord = {
  holderIdentity: '',
  leaseDurationMs: 1,
  acquireTime: 0,
  renewTime: 0,
  leaderTransitions: 0,
  fencingToken: 0,
};

/**
 * resourceVersions are opaque, but every API server in use hands out etcd revisions: an
 * older one must not replace a newer cached object (a list can arrive after a write).
 */
function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length === b.length ? a < b : a.length < b.length;
}

/**
 * A {@link ResourceLock} on one Kubernetes object, with optimistic concurrency on
 * `metadata.resourceVersion`. Leases, Endpoints and ConfigMaps differ only in their
 * {@link RecordCodec}. Locks from one factory share its {@link KubeContext}: one HTTP client
 * and one watch per namespace; a lock built on its own makes (and closes) its own.
 */
export class KubernetesObjectLock<T extends KubeObject> implements ResourceLock {
  readonly identity: string;
  private readonly options: KubeLockOptions;
  private readonly resource: KubeResource;
  private readonly codec: RecordCodec<T>;
  private readonly context: KubeContext;
  private readonly ownsContext: boolean;
  private readonly objectPath: string;
  /** The last object read or written: the base of the next update, so fields we don't own survive. */
  private cached: T | undefined;
  /** The holder named in {@link cached} (decoded once, for the rate limiter's priority). */
  private cachedHolder: string | undefined;
  private readonly unwatchers = new Set<() => void>();

  constructor(options: KubeLockOptions, resource: KubeResource, codec: RecordCodec<T>, context?: KubeContext) {
    this.options = options;
    this.identity = options.identity;
    this.resource = resource;
    this.codec = codec;
    this.ownsContext = context === undefined;
    this.context = context ?? new KubeContext(options);
    this.objectPath = `${resource.collectionPath}/${encodeURIComponent(options.name)}`;
  }

  describe(): string {
    return `${this.resource.kind.toLowerCase()} ${this.options.namespace}/${this.options.name}`;
  }

  async get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    try {
      return this.remember(await this.read(options?.signal));
    } catch (error) {
      if (statusOf(error) === 404 && !this.namespaceMissing(error)) return null;
      throw this.failure(error, 'get');
    }
  }

  async create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    const base = {
      apiVersion: this.resource.apiVersion,
      kind: this.resource.kind,
      metadata: { name: this.options.name, namespace: this.options.namespace },
    } as T;
    try {
      const body = this.codec.encode(record, base);
      const created = await this.context.client.request<T>('POST', this.resource.collectionPath, { body, signal: options?.signal, priority: 'acquire' });
      const snapshot = this.remember(created);
      this.recordTransition(null, created);
      return snapshot;
    } catch (error) {
      throw this.failure(error, 'create');
    }
  }

  async update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    let base = this.cached;
    try {
      if (base?.metadata?.resourceVersion !== expectedVersion) base = await this.read(options?.signal);
    } catch (error) {
      throw this.failure(error, 'update');
    }
    if (base.metadata?.resourceVersion !== expectedVersion) {
      this.forget(base);
      throw new LockConflictError(`${this.describe()} was modified (resourceVersion ${base.metadata?.resourceVersion}, expected ${expectedVersion})`);
    }
    const priority = this.priority();
    // Codecs replace top-level fields and never mutate nested ones: a shallow copy keeps `base` intact.
    const body = this.codec.encode(record, { ...base });
    body.metadata = { ...body.metadata, resourceVersion: expectedVersion };
    try {
      const replaced = await this.context.client.request<T>('PUT', this.objectPath, { body, signal: options?.signal, priority });
      const snapshot = this.remember(replaced);
      this.recordTransition(base, replaced);
      return snapshot;
    } catch (error) {
      throw this.failure(error, 'update');
    }
  }

  /**
   * The fast path: a lock this process knows nothing about yet (neither this lock nor the
   * factory's watch has seen it) is most likely absent (1,000 elections starting at once), so
   * it is created in one POST; a 409 means it exists, and it is read. A released record is replaced by a compare-and-swap on the version read (a race
   * lost there is a LockConflictError); a held one is returned untouched.
   */
  async acquireIfFree(record: LeaderElectionRecord, options?: LockCallOptions): Promise<AcquireIfFreeResult> {
    // Known to exist when another lock of the factory watches it: then read, one round trip.
    if (this.cached === undefined && !this.context.informer(this.resource).hasSeen(this.options.name)) {
      try {
        return { acquired: true, snapshot: await this.create(record, options) };
      } catch (error) {
        if (!(error instanceof LockConflictError)) throw error;
      }
    }
    const current = await this.get(options);
    if (current === null) return { acquired: true, snapshot: await this.create(record, options) };
    if (current.record.holderIdentity !== '') return { acquired: false, snapshot: current };
    return { acquired: true, snapshot: await this.update(newTermOver(current.record, record), current.version, options) };
  }

  watch(handlers: WatchHandlers): () => void {
    const unsubscribe = this.context.informer(this.resource).subscribe(this.options.name, {
      onObject: (object) => {
        if (object === null) {
          handlers.onChange(null);
          return;
        }
        const version = object.metadata?.resourceVersion;
        const known = this.cached?.metadata?.resourceVersion;
        // This lock's own write, already answered (a leader's renewal, mostly): nothing new.
        if (version !== undefined && version === known) return;
        let snapshot: LockSnapshot;
        try {
          snapshot = this.snapshotOf(object as T);
        } catch {
          // Not a valid record: let the elector read it and meet the error itself.
          handlers.onChange(undefined);
          return;
        }
        // The next write can build on what the watch delivered, without a GET first.
        if (!olderThan(version, known)) this.keep(object as T, snapshot);
        handlers.onChange(snapshot);
      },
      onHealth: (healthy) => handlers.onHealth?.(healthy),
    });
    this.unwatchers.add(unsubscribe);
    return () => {
      this.unwatchers.delete(unsubscribe);
      unsubscribe();
    };
  }

  /** Ends this lock's watches; closes the client only when the lock made its own. */
  async close(): Promise<void> {
    for (const unwatch of [...this.unwatchers]) unwatch();
    this.unwatchers.clear();
    if (this.ownsContext) this.context.close();
  }

  private read(signal: AbortSignal | undefined): Promise<T> {
    return this.context.client.request<T>('GET', this.objectPath, { signal, priority: this.priority() });
  }

  /** A request about a lease this identity holds goes before acquisitions (see RateLimiter). */
  private priority(): RequestPriority {
    return this.cachedHolder === this.identity ? 'hold' : 'acquire';
  }

  /** Caches an object read or written and returns its snapshot (throws for an invalid record). */
  private remember(object: T): LockSnapshot {
    try {
      const snapshot = this.snapshotOf(object);
      this.keep(object, snapshot);
      return snapshot;
    } catch (error) {
      this.forget(object);
      throw error;
    }
  }

  private keep(object: T, snapshot: LockSnapshot): void {
    this.cached = object;
    this.cachedHolder = snapshot.record.holderIdentity;
  }

  /** Caches an object whose record was not (or could not be) decoded. */
  private forget(object: T): void {
    this.cached = object;
    this.cachedHolder = undefined;
  }

  private namespaceMissing(error: unknown): boolean {
    const kind = (error as { status?: { details?: { kind?: string } } }).status?.details?.kind;
    return kind === 'namespaces';
  }

  private failure(error: unknown, verb: string): Error {
    const { namespace, name } = this.options;
    return toBatonError(error, { verb, resource: this.resource, namespace, name, describe: this.describe() });
  }

  private snapshotOf(object: T): LockSnapshot {
    const version = object.metadata?.resourceVersion;
    if (!version) throw new InvalidRecordError(this.describe(), 'the object has no metadata.resourceVersion');
    const raw = this.codec.decode(object);
    return { record: raw === null ? FREE : validateRecord(raw, this.describe()), version };
  }

  /** client-go's RecordEvent, driven by what this lock writes. */
  private recordTransition(before: T | null, after: T): void {
    const events = this.context.events;
    if (!events) return;
    const holderOf = (object: T | null): string | undefined => {
      try {
        return object === null ? undefined : ((this.codec.decode(object) as LeaderElectionRecord | null)?.holderIdentity ?? '');
      } catch {
        return undefined;
      }
    };
    const [was, is] = [holderOf(before), holderOf(after)];
    let message: string | undefined;
    if (is === this.identity && was !== this.identity) message = `${this.identity} became leader`;
    else if (is === '' && was === this.identity) message = `${this.identity} stopped leading`;
    if (message) events.record(after, this.resource, message);
  }
}
