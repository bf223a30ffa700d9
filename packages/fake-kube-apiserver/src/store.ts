// The object store: what etcd is to the real server. One global, monotonically increasing
// revision (served as metadata.resourceVersion), objects kept per storage key in key order, and a
// bounded history of change events from which watches resume; older history is "compacted" and a
// watch from before it gets 410 Gone.

import { markStored } from './encoding.ts';
import type { Obj } from './kinds/index.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: ChangeType;
  storageKey: string;
  namespace: string;
  name: string;
  /** The revision this change was written at. */
  rv: number;
  /** The object after the change (for DELETED: its last state, stamped with the deletion revision). */
  object: Obj;
  /** The object before the change (MODIFIED and DELETED). */
  prev?: Obj;
}

export type ChangeListener = (e: ChangeEvent) => void;

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

function metaOf(o: Obj): Obj {
  return (o.metadata ?? {}) as Obj;
}

/** ObjectMeta's field order, so a stamped resourceVersion lands where Go would encode it. */
const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

function stamp(o: Obj, rv: number): Obj {
  const meta: Obj = { ...metaOf(o), resourceVersion: String(rv) };
  const ordered: Obj = {};
  for (const k of META_ORDER) if (k in meta) ordered[k] = meta[k];
  for (const k of Object.keys(meta)) if (!(k in ordered)) ordered[k] = meta[k];
  const stored = { ...o, metadata: ordered };
  markStored(stored);
  return stored;
}

export class Store {
  private revision = 0;
  private readonly data = new Map<string, Map<string, Obj>>();
  /** Each bucket's keys in order, computed on demand and dropped when a key is added or removed. */
  private readonly sortedKeys = new Map<string, string[]>();
  private readonly history: ChangeEvent[] = [];
  private historyStart = 0;
  private compacted = 0;
  private readonly listeners = new Set<ChangeListener>();
  private readonly historySize: number;

  constructor(historySize = 1000) {
    this.historySize = Math.max(1, historySize);
  }

  /** The current global revision (what a list's metadata.resourceVersion reports). */
  get resourceVersion(): number {
    return this.revision;
  }

  /** Watches may resume from any revision >= this one; older ones are answered with 410. */
  get compactedRevision(): number {
    return this.compacted;
  }

  private bucket(storageKey: string): Map<string, Obj> {
    let b = this.data.get(storageKey);
    if (!b) {
      b = new Map();
      this.data.set(storageKey, b);
    }
    return b;
  }

  /** The stored object; treat it as immutable (clone before changing). */
  get(storageKey: string, namespace: string, name: string): Obj | undefined {
    return this.data.get(storageKey)?.get(keyOf(namespace, name));
  }

  /** Objects in key order (namespace, then name), optionally of one namespace. */
  list(storageKey: string, namespace?: string): Obj[] {
    const b = this.data.get(storageKey);
    if (!b) return [];
    let keys = this.sortedKeys.get(storageKey);
    if (!keys) {
      keys = [...b.keys()].sort();
      this.sortedKeys.set(storageKey, keys);
    }
    const out: Obj[] = [];
    const prefix = namespace === undefined ? '' : `${namespace}/`;
    for (const k of keys) {
      if (prefix && !k.startsWith(prefix)) continue;
      out.push(b.get(k)!);
    }
    return out;
  }

  /** Namespaces that hold at least one object of any kind. */
  namespacesInUse(): Set<string> {
    const out = new Set<string>();
    for (const b of this.data.values()) for (const k of b.keys()) out.add(k.slice(0, k.indexOf('/')));
    out.delete('');
    return out;
  }

  private record(e: ChangeEvent): void {
    this.history.push(e);
    if (this.history.length - this.historyStart > this.historySize) {
      this.compacted = this.history[this.historyStart]!.rv;
      this.historyStart++;
      if (this.historyStart > 4096) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    // Copied only when there is more than one listener (a listener may unsubscribe while called).
    if (this.listeners.size === 1) for (const l of this.listeners) l(e);
    else for (const l of [...this.listeners]) l(e);
  }

  /** Writes a new object at the next revision; the caller has checked it does not exist. */
  create(storageKey: string, obj: Obj): Obj {
    const m = metaOf(obj);
    const ns = String(m.namespace ?? '');
    const name = String(m.name);
    const stored = stamp(obj, ++this.revision);
    this.bucket(storageKey).set(keyOf(ns, name), stored);
    this.sortedKeys.delete(storageKey);
    this.record({ type: 'ADDED', storageKey, namespace: ns, name, rv: this.revision, object: stored });
    return stored;
  }

  /** Replaces an existing object at the next revision; the caller has done the CAS check. */
  update(storageKey: string, obj: Obj): Obj {
    const m = metaOf(obj);
    const ns = String(m.namespace ?? '');
    const name = String(m.name);
    const b = this.bucket(storageKey);
    const prev = b.get(keyOf(ns, name));
    const stored = stamp(obj, ++this.revision);
    b.set(keyOf(ns, name), stored);
    this.record({ type: 'MODIFIED', storageKey, namespace: ns, name, rv: this.revision, object: stored, prev });
    return stored;
  }

  /** Removes an object at the next revision and returns its last state, stamped with that revision. */
  delete(storageKey: string, namespace: string, name: string): Obj | undefined {
    const b = this.data.get(storageKey);
    const prev = b?.get(keyOf(namespace, name));
    if (!b || !prev) return undefined;
    b.delete(keyOf(namespace, name));
    this.sortedKeys.delete(storageKey);
    const last = stamp(prev, ++this.revision);
    this.record({ type: 'DELETED', storageKey, namespace, name, rv: this.revision, object: last, prev });
    return last;
  }

  /**
   * The changes after revision `rv`, oldest first, or 'expired' when some of them have been
   * compacted away.
   */
  changesSince(rv: number): ChangeEvent[] | 'expired' {
    if (rv < this.compacted) return 'expired';
    const out: ChangeEvent[] = [];
    for (let i = this.historyStart; i < this.history.length; i++) {
      const e = this.history[i]!;
      if (e.rv > rv) out.push(e);
    }
    return out;
  }

  /**
   * The objects of a storage key as they were at revision `rv` (rolled back through the event
   * history), or 'expired' when that revision has been compacted away.
   */
  snapshotAt(storageKey: string, rv: number, namespace?: string): Obj[] | 'expired' {
    if (rv >= this.revision) return this.list(storageKey, namespace);
    if (rv < this.compacted) return 'expired';
    const map = new Map(this.data.get(storageKey) ?? []);
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const e = this.history[i]!;
      if (e.rv <= rv) break;
      if (e.storageKey !== storageKey) continue;
      const key = keyOf(e.namespace, e.name);
      if (e.type === 'ADDED') map.delete(key);
      else if (e.prev) map.set(key, e.prev);
    }
    const out: Obj[] = [];
    for (const k of [...map.keys()].sort()) {
      if (namespace !== undefined && !k.startsWith(`${namespace}/`)) continue;
      out.push(map.get(k)!);
    }
    return out;
  }

  subscribe(l: ChangeListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves true once the revision reaches `rv`, false after `timeoutMs` or on abort. */
  waitForRevision(rv: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.revision >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      const unsubscribe = this.subscribe(() => {
        if (this.revision >= rv) done(true);
      });
      signal.addEventListener('abort', onAbort);
    });
  }

  /** Drops every listener (on server stop). */
  clearListeners(): void {
    this.listeners.clear();
  }
}
