// The open watches, indexed so a change reaches only the watches that can want it, with each
// event's external form and wire line computed once for all of them.
//
// A change to leases in namespace `a` is offered to the watches of leases in `a`, the watches of
// leases in every namespace, and the watches pinned on that one lease (a name in the URL or a
// `metadata.name=` field selector) — never to the thousand watches pinned on other leases. This is
// what keeps one watch per lock, the pattern the lock adapters used before sharing an informer,
// cheap: the cost per change no longer grows with the number of open watches.

import type { KindDef, Obj } from './kinds/index.ts';
import type { ChangeEvent } from './store.ts';
import { encodeObject } from './encoding.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** A watch as the hub sees it: where it listens, and how to hand it a change. */
export interface HubWatch {
  readonly storageKey: string;
  /** undefined: every namespace (and cluster-scoped kinds). */
  readonly namespace: string | undefined;
  /** Set when the watch can only ever match one object name. */
  readonly pinnedName: string | undefined;
  deliver(change: ChangeEvent, shared: SharedEvent): void;
  /** Ends the stream cleanly. */
  end(): void;
}

const ALL_NAMESPACES = '\u0000*';

/**
 * What the watches receiving one change share: the external form per API (two APIs may serve
 * one storage key, e.g. both Event APIs) and the encoded event line per API and event type.
 */
export class SharedEvent {
  private readonly externals = new Map<Obj, Map<KindDef, Obj>>();
  private readonly lines = new Map<Obj, Map<WatchEventType, Buffer>>();

  /** The external form of `stored` (the change's object or its previous state) as `def` serves it. */
  external(def: KindDef, stored: Obj, toExternal: (stored: Obj) => Obj): Obj {
    let byDef = this.externals.get(stored);
    if (!byDef) {
      byDef = new Map();
      this.externals.set(stored, byDef);
    }
    let external = byDef.get(def);
    if (!external) {
      external = toExternal(stored);
      byDef.set(def, external);
    }
    return external;
  }

  /** The wire line `{"type":…,"object":…}\n` of a plain-JSON watch, encoded once per object and type. */
  line(type: WatchEventType, object: Obj): Buffer {
    let byType = this.lines.get(object);
    if (!byType) {
      byType = new Map();
      this.lines.set(object, byType);
    }
    let line = byType.get(type);
    if (!line) {
      line = Buffer.from(`{"type":"${type}","object":${encodeObject(object)}}\n`);
      byType.set(type, line);
    }
    return line;
  }
}

function scopeKey(storageKey: string, namespace: string | undefined): string {
  return `${storageKey}\u0000${namespace ?? ALL_NAMESPACES}`;
}

function nameKey(storageKey: string, namespace: string, name: string): string {
  return `${storageKey}\u0000${namespace}\u0000${name}`;
}

export class WatchHub {
  private readonly all = new Set<HubWatch>();
  /** Watches of a whole namespace (or of every namespace), by storage key and namespace. */
  private readonly byScope = new Map<string, Set<HubWatch>>();
  /** Watches pinned on one object, by storage key, namespace and name. */
  private readonly byName = new Map<string, Set<HubWatch>>();

  get size(): number {
    return this.all.size;
  }

  add(watch: HubWatch): void {
    this.all.add(watch);
    const key = this.indexKey(watch);
    const index = watch.pinnedName !== undefined && watch.namespace !== undefined ? this.byName : this.byScope;
    let set = index.get(key);
    if (!set) {
      set = new Set();
      index.set(key, set);
    }
    set.add(watch);
  }

  remove(watch: HubWatch): void {
    if (!this.all.delete(watch)) return;
    const key = this.indexKey(watch);
    const index = watch.pinnedName !== undefined && watch.namespace !== undefined ? this.byName : this.byScope;
    const set = index.get(key);
    set?.delete(watch);
    if (set?.size === 0) index.delete(key);
  }

  private indexKey(watch: HubWatch): string {
    return watch.pinnedName !== undefined && watch.namespace !== undefined
      ? nameKey(watch.storageKey, watch.namespace, watch.pinnedName)
      : scopeKey(watch.storageKey, watch.namespace);
  }

  /** Hands a change to every watch that listens where it happened. */
  publish(change: ChangeEvent): void {
    if (this.all.size === 0) return;
    const shared = new SharedEvent();
    // Copies: a delivery can end a watch (a closed socket), which removes it from these sets.
    const targets = [
      this.byScope.get(scopeKey(change.storageKey, change.namespace)),
      this.byScope.get(scopeKey(change.storageKey, undefined)),
      this.byName.get(nameKey(change.storageKey, change.namespace, change.name)),
    ];
    for (const set of targets) {
      if (!set) continue;
      for (const watch of set.size === 1 ? set : [...set]) watch.deliver(change, shared);
    }
  }

  /** Ends every open watch (server stop, `faults.dropWatches()`). */
  endAll(): void {
    for (const watch of [...this.all]) watch.end();
  }
}
