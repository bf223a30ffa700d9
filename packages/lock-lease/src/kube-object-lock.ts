import { InvalidRecordError, LockConflictError, silentLogger, validateRecord } from '@baton/core';
import type { LeaderElectionRecord, LockCallOptions, LockSnapshot, Logger, ResourceLock, WatchHandlers } from '@baton/core';
import type { KubeConfig, V1ObjectMeta } from '@kubernetes/client-node';
import { EventRecorder } from './event-recorder.ts';
import { toBatonError, statusOf } from './kube-errors.ts';
import { watchObject } from './watch-object.ts';

/** Any Kubernetes object baton can keep a record on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/** How one kind of object is read and written (bound to a namespace and name). */
export interface KubeObjectApi<T extends KubeObject> {
  readonly kind: string;
  readonly apiVersion: string;
  /** The collection URL, for watching: `/apis/coordination.k8s.io/v1/namespaces/ns/leases`. */
  readonly collectionPath: string;
  read(signal?: AbortSignal): Promise<T>;
  create(body: T, signal?: AbortSignal): Promise<T>;
  replace(body: T, signal?: AbortSignal): Promise<T>;
}

/** How the record lives in (and is recovered from) an object of that kind. */
export interface RecordCodec<T extends KubeObject> {
  /** The record, or a raw form for validation; `null` when the object carries none (free). */
  decode(object: T): unknown;
  /** `base` with the record written into it; every field the codec does not own is kept. */
  encode(record: LeaderElectionRecord, base: T): T;
}

/** Options every Kubernetes lock takes. */
export interface KubeLockOptions {
  /** Name of the object that holds the lock. */
  name: string;
  /** Its namespace. */
  namespace: string;
  /** The identity to campaign under (in a pod: the pod name). */
  identity: string;
  kubeConfig: KubeConfig;
  /** Record `became leader` / `stopped leading` Events on the object, as client-go does. Default true. */
  events?: boolean;
  logger?: Logger;
}

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
 * A {@link ResourceLock} on one Kubernetes object, with optimistic concurrency on
 * `metadata.resourceVersion`. Leases, Endpoints and ConfigMaps differ only in their
 * {@link RecordCodec}.
 */
export class KubernetesObjectLock<T extends KubeObject> implements ResourceLock {
  readonly identity: string;
  private readonly options: KubeLockOptions;
  private readonly api: KubeObjectApi<T>;
  private readonly codec: RecordCodec<T>;
  private readonly events: EventRecorder | undefined;
  /** The last object read or written: the base of the next update, so fields we don't own survive. */
  private cached: T | undefined;

  constructor(options: KubeLockOptions, api: KubeObjectApi<T>, codec: RecordCodec<T>) {
    this.options = options;
    this.identity = options.identity;
    this.api = api;
    this.codec = codec;
    this.events = options.events === false ? undefined : new EventRecorder(options.kubeConfig, options.logger ?? silentLogger);
  }

  describe(): string {
    return `${this.api.kind.toLowerCase()} ${this.options.namespace}/${this.options.name}`;
  }

  async get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    try {
      const object = await this.api.read(options?.signal);
      this.cached = object;
      return this.snapshotOf(object);
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw toBatonError(error, this.describe(), 'get');
    }
  }

  async create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    const base = {
      apiVersion: this.api.apiVersion,
      kind: this.api.kind,
      metadata: { name: this.options.name, namespace: this.options.namespace },
    } as T;
    try {
      const created = await this.api.create(this.codec.encode(record, base), options?.signal);
      this.cached = created;
      this.recordTransition(null, created);
      return this.snapshotOf(created);
    } catch (error) {
      throw toBatonError(error, this.describe(), 'create');
    }
  }

  async update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    let base = this.cached;
    try {
      if (base?.metadata?.resourceVersion !== expectedVersion) base = await this.api.read(options?.signal);
    } catch (error) {
      throw toBatonError(error, this.describe(), 'update');
    }
    if (base.metadata?.resourceVersion !== expectedVersion) {
      this.cached = base;
      throw new LockConflictError(`${this.describe()} was modified (resourceVersion ${base.metadata?.resourceVersion}, expected ${expectedVersion})`);
    }
    const body = this.codec.encode(record, structuredClone(base));
    body.metadata = { ...body.metadata, resourceVersion: expectedVersion };
    try {
      const replaced = await this.api.replace(body, options?.signal);
      this.cached = replaced;
      this.recordTransition(base, replaced);
      return this.snapshotOf(replaced);
    } catch (error) {
      throw toBatonError(error, this.describe(), 'update');
    }
  }

  watch(handlers: WatchHandlers): () => void {
    return watchObject({
      kubeConfig: this.options.kubeConfig,
      collectionPath: this.api.collectionPath,
      name: this.options.name,
      logger: this.options.logger ?? silentLogger,
      onObject: (object) => {
        if (object === null) {
          handlers.onChange(null);
          return;
        }
        try {
          const snapshot = this.snapshotOf(object as T);
          // The next write can build on what the watch delivered, without a GET first.
          this.cached = object as T;
          handlers.onChange(snapshot);
        } catch {
          // Not a valid record: let the elector read it and meet the error itself.
          handlers.onChange(undefined);
        }
      },
      onHealth: (healthy) => handlers.onHealth?.(healthy),
    });
  }

  private snapshotOf(object: T): LockSnapshot {
    const version = object.metadata?.resourceVersion;
    if (!version) throw new InvalidRecordError(this.describe(), 'the object has no metadata.resourceVersion');
    const raw = this.codec.decode(object);
    return { record: raw === null ? FREE : validateRecord(raw, this.describe()), version };
  }

  /** client-go's RecordEvent, driven by what this lock writes. */
  private recordTransition(before: T | null, after: T): void {
    if (!this.events) return;
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
    if (message) this.events.record(after, this.api, message);
  }
}
