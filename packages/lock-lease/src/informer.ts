import type { Clock, Logger } from '@baton/core';
import type { KubeClient } from './kube-client.ts';
import type { KubeObject, KubeResource } from './kube-object.ts';
import { WatchStream } from './watch-stream.ts';
import type { WatchStreamOptions } from './watch-stream.ts';

/** What one lock hears from the informer about its object. */
export interface ObjectSubscriber {
  /** The object as it now is, `null` once deleted. */
  onObject(object: KubeObject | null): void;
  /** `false` whenever events may have been missed; `true` once they cannot be. */
  onHealth(healthy: boolean): void;
}

interface Subscription {
  subscriber: ObjectSubscriber;
  healthy: boolean;
}

/** Per name: its subscribers and the resourceVersion last delivered (to drop repeats). */
interface NameEntry {
  subscriptions: Set<Subscription>;
  delivered: string | undefined;
  /** The stream for this name alone, when the namespace is not watched as a whole. */
  stream: WatchStream | undefined;
  /** Whether that stream is listed and watching (events cannot be missed). */
  streamUp: boolean;
}

/**
 * One watch per factory, namespace and resource, fanning events out to the locks by name —
 * client-go's shared informer, minus the cache. With one lock it watches that object alone
 * (`fieldSelector=metadata.name=…`, which a Role restricted by `resourceNames` allows); from
 * the second lock on it watches the whole namespace with one stream, and when RBAC refuses
 * that (403) it falls back to one stream per name. It starts with the first subscriber,
 * serves those that come later, and stops when the last one leaves.
 */
export class Informer {
  private readonly client: KubeClient;
  private readonly resource: KubeResource;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly names = new Map<string, NameEntry>();
  private namespaceStream: WatchStream | undefined;
  private namespaceSynced = false;
  /** RBAC refused list/watch on the namespace: every name is watched on its own. */
  private namespaceDenied = false;

  constructor(client: KubeClient, resource: KubeResource, logger: Logger) {
    this.client = client;
    this.resource = resource;
    this.logger = logger;
    this.clock = client.clock;
  }

  /** Number of watch streams open (1 for a namespace, else one per name). */
  get streams(): number {
    let n = this.namespaceStream ? 1 : 0;
    for (const entry of this.names.values()) if (entry.stream) n++;
    return n;
  }

  /** Whether the stream delivered an existing object of this name (some lock of the factory watches it). */
  hasSeen(name: string): boolean {
    return this.names.get(name)?.delivered !== undefined;
  }

  /** @returns a function that ends the subscription. */
  subscribe(name: string, subscriber: ObjectSubscriber): () => void {
    let entry = this.names.get(name);
    if (!entry) {
      entry = { subscriptions: new Set(), delivered: undefined, stream: undefined, streamUp: false };
      this.names.set(name, entry);
    }
    const subscription: Subscription = { subscriber, healthy: false };
    entry.subscriptions.add(subscription);
    if (this.namespaceStream) {
      // Everything from now on reaches it; what it missed before, its lock reads itself.
      if (this.namespaceSynced) setHealth(subscription, true);
    } else if (this.names.size >= 2 && !this.namespaceDenied) {
      this.startNamespaceStream();
    } else if (!entry.stream) {
      entry.stream = this.nameStream(name, entry);
    } else if (entry.streamUp) {
      setHealth(subscription, true);
    }
    return () => this.unsubscribe(name, subscription);
  }

  private unsubscribe(name: string, subscription: Subscription): void {
    const entry = this.names.get(name);
    if (!entry?.subscriptions.delete(subscription) || entry.subscriptions.size > 0) return;
    entry.stream?.stop();
    this.names.delete(name);
    if (this.names.size === 0) {
      this.namespaceStream?.stop();
      this.namespaceStream = undefined;
      this.namespaceSynced = false;
    }
  }

  /** Stops every stream; subscribers hear nothing more. */
  close(): void {
    this.namespaceStream?.stop();
    this.namespaceStream = undefined;
    for (const entry of this.names.values()) entry.stream?.stop();
    this.names.clear();
  }

  private startNamespaceStream(): void {
    this.namespaceSynced = false;
    this.namespaceStream = new WatchStream({
      ...this.streamBase(),
      onSynced: (objects) => {
        this.namespaceSynced = true;
        // The per-name streams that served until now are no longer needed.
        for (const entry of this.names.values()) {
          entry.stream?.stop();
          entry.stream = undefined;
          entry.streamUp = false;
        }
        this.synced([...this.names.keys()], objects);
      },
      onEvent: (type, object) => this.deliver(object.metadata?.name, type === 'DELETED' ? null : object),
      onBroken: () => {
        for (const entry of this.names.values()) if (!entry.stream) entry.subscriptions.forEach((s) => setHealth(s, false));
      },
      onResumed: () => {
        for (const entry of this.names.values()) entry.subscriptions.forEach((s) => setHealth(s, true));
      },
      onDenied: (error) => {
        this.namespaceDenied = true;
        this.namespaceStream = undefined;
        this.namespaceSynced = false;
        this.logger.info(
          { resource: this.resource.resource, error: error.message },
          'cannot list/watch the namespace (RBAC with resourceNames?); watching each lock object on its own',
        );
        for (const [name, entry] of this.names) entry.stream ??= this.nameStream(name, entry);
        return true;
      },
    });
  }

  private nameStream(name: string, entry: NameEntry): WatchStream {
    return new WatchStream({
      ...this.streamBase(),
      fieldSelector: `metadata.name=${name}`,
      onSynced: (objects) => {
        entry.streamUp = true;
        this.synced([name], objects);
      },
      onEvent: (type, object) => this.deliver(name, type === 'DELETED' ? null : object),
      onBroken: () => {
        entry.streamUp = false;
        entry.subscriptions.forEach((s) => setHealth(s, false));
      },
      onResumed: () => {
        entry.streamUp = true;
        entry.subscriptions.forEach((s) => setHealth(s, true));
      },
      onDenied: () => false,
    });
  }

  private streamBase(): Pick<WatchStreamOptions, 'client' | 'resource' | 'logger' | 'clock'> {
    return { client: this.client, resource: this.resource, logger: this.logger, clock: this.clock };
  }

  /** After a (re)list: health first (the elector then re-reads), then the state of each name. */
  private synced(names: string[], objects: KubeObject[]): void {
    const byName = new Map<string, KubeObject>();
    for (const object of objects) if (object.metadata?.name) byName.set(object.metadata.name, object);
    for (const name of names) {
      const entry = this.names.get(name);
      if (!entry) continue;
      entry.subscriptions.forEach((s) => setHealth(s, true));
      const object = byName.get(name);
      // A name never seen is not reported absent: its lock is reading or creating it now.
      if (object !== undefined || entry.delivered !== undefined) this.deliver(name, object ?? null);
    }
  }

  private deliver(name: string | undefined, object: KubeObject | null): void {
    const entry = name === undefined ? undefined : this.names.get(name);
    if (!entry) return;
    const version = object === null ? undefined : (object.metadata?.resourceVersion ?? '');
    if (object !== null && version === entry.delivered) return;
    entry.delivered = version;
    for (const subscription of [...entry.subscriptions]) subscription.subscriber.onObject(object);
  }
}

function setHealth(subscription: Subscription, healthy: boolean): void {
  if (subscription.healthy === healthy) return;
  subscription.healthy = healthy;
  subscription.subscriber.onHealth(healthy);
}
