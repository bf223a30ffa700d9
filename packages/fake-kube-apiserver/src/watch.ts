// One watch stream: newline-delimited JSON events over a chunked HTTP response, as the real
// server's watch cache serves them. Starts with the current state (no resourceVersion, or "0") or
// resumes after a resourceVersion from the event history (an ERROR event with a 410 Expired Status
// when that history is gone), applies label and field selectors with the transitions a selector
// implies (an object that stops matching is DELETED for this watcher), sends BOOKMARKs when
// allowed, and ends at timeoutSeconds. Live changes arrive from the WatchHub, which offers each
// change only to the watches listening where it happened.

import type { ServerResponse } from 'node:http';
import { encodeObject } from './encoding.ts';
import type { KindDef, Obj } from './kinds/index.ts';
import { canonicalize } from './schema.ts';
import { failureStatus, type Status } from './status.ts';
import type { ChangeEvent, Store } from './store.ts';
import { SharedEvent, type HubWatch, type WatchEventType, type WatchHub } from './watch-hub.ts';

export type { WatchEventType };

export interface WatchSpec {
  def: KindDef;
  /** undefined: all namespaces. */
  namespace: string | undefined;
  /** Selector match on the external form. */
  matches(obj: Obj): boolean;
  /** False when the watch has no label or field selector: every object matches. */
  selective: boolean;
  /** The one object name the watch can match (URL name or `metadata.name=` selector), if any. */
  pinnedName: string | undefined;
  /** Stored to external form (read-only: it may be the stored object itself). */
  toExternal(stored: Obj): Obj;
  /**
   * External object to what goes on the wire (a Table, PartialObjectMetadata); undefined: the
   * object itself, whose encoded line is then shared with every other plain watch.
   */
  render: ((obj: Obj) => Obj) | undefined;
  /** A BOOKMARK's object on the wire (default: `render`). */
  renderBookmark?(obj: Obj): Obj;
  /** undefined: send the current state as ADDED events first, then changes. */
  startRv: number | undefined;
  /** sendInitialEvents=true: the initial ADDED events end with an annotated BOOKMARK. */
  initialEventsEndBookmark: boolean;
  allowBookmarks: boolean;
  bookmarkIntervalMs: number;
  /** From timeoutSeconds; undefined: the real server's default, a random 30 to 60 minutes. */
  timeoutMs: number | undefined;
}

export class WatchStream implements HubWatch {
  private readonly res: ServerResponse;
  private readonly store: Store;
  private readonly hub: WatchHub;
  private readonly spec: WatchSpec;
  private subscribed = false;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private bookmarkTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(res: ServerResponse, store: Store, hub: WatchHub, spec: WatchSpec) {
    this.res = res;
    this.store = store;
    this.hub = hub;
    this.spec = spec;
    res.once('close', () => this.cleanup());
  }

  get storageKey(): string {
    return this.spec.def.storageKey;
  }

  /** The hub's index: a cluster-scoped kind lives in namespace ''. */
  get namespace(): string | undefined {
    return this.spec.def.namespaced ? this.spec.namespace : '';
  }

  get pinnedName(): string | undefined {
    return this.spec.pinnedName;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts streaming; `failWith` sends that Status as an ERROR event and ends, as an error watcher does. */
  start(headers: Record<string, string | string[]>, failWith?: Status): void {
    this.res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    this.res.flushHeaders();
    const { spec, store } = this;
    if (failWith) {
      this.sendError(failWith);
      this.end();
      return;
    }
    if (spec.startRv !== undefined) {
      const history = store.changesSince(spec.startRv);
      if (history === 'expired') {
        this.sendError(
          failureStatus(410, 'Expired', `too old resource version: ${spec.startRv} (${store.compactedRevision + 1})`),
        );
        this.end();
        return;
      }
      for (const e of history) if (this.listensTo(e)) this.deliver(e, new SharedEvent());
    } else {
      const objs = store.list(spec.def.storageKey, spec.def.namespaced ? spec.namespace : undefined);
      for (const stored of objs) {
        const obj = spec.toExternal(stored);
        if (!spec.selective || spec.matches(obj)) this.send('ADDED', obj);
      }
      if (spec.initialEventsEndBookmark) this.sendBookmark(true);
    }
    // The client may have gone during the replay: then nothing is registered and no timer is set.
    if (this.closed) return;
    // Synchronously after the replay, so no change falls between the two.
    this.hub.add(this);
    this.subscribed = true;
    if (spec.allowBookmarks) {
      if (!spec.initialEventsEndBookmark) this.sendBookmark(false);
      this.bookmarkTimer = setInterval(() => this.sendBookmark(false), Math.max(1, spec.bookmarkIntervalMs));
    }
    const timeout = spec.timeoutMs ?? (1800 + Math.random() * 1800) * 1000;
    this.timeoutTimer = setTimeout(() => {
      if (spec.allowBookmarks) this.sendBookmark(false);
      this.end();
    }, timeout);
  }

  /** Whether a replayed history event is one this watch would have been offered live. */
  private listensTo(e: ChangeEvent): boolean {
    if (e.storageKey !== this.storageKey) return false;
    const namespace = this.namespace;
    if (namespace !== undefined && e.namespace !== namespace) return false;
    return this.pinnedName === undefined || e.name === this.pinnedName;
  }

  /** A change where this watch listens (the hub has checked kind, namespace and pinned name). */
  deliver(e: ChangeEvent, shared: SharedEvent): void {
    if (this.closed) return;
    const { spec } = this;
    if (spec.startRv !== undefined && e.rv <= spec.startRv) return;
    const toExternal = spec.toExternal;
    const cur = shared.external(spec.def, e.object, toExternal);
    if (!spec.selective) {
      this.send(e.type, cur, shared);
      return;
    }
    const curMatch = spec.matches(cur);
    if (e.type === 'ADDED' || e.type === 'DELETED') {
      if (curMatch) this.send(e.type, cur, shared);
      return;
    }
    // A selector turns a modification into ADDED (starts matching) or DELETED (stops matching).
    const prev = e.prev ? shared.external(spec.def, e.prev, toExternal) : undefined;
    const prevMatch = prev ? spec.matches(prev) : false;
    if (curMatch && prevMatch) this.send('MODIFIED', cur, shared);
    else if (curMatch) this.send('ADDED', cur, shared);
    else if (prevMatch && prev) {
      // The last state it matched in, stamped with the revision at which it stopped matching.
      const gone = { ...prev, metadata: { ...(prev.metadata as Obj), resourceVersion: String(e.rv) } };
      this.send('DELETED', gone);
    }
  }

  private write(type: WatchEventType, object: Obj | Status): void {
    if (this.closed || this.res.writableEnded) return;
    this.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** An object event; plain watches share one encoded line per change (`shared`). */
  private send(type: WatchEventType, obj: Obj, shared?: SharedEvent): void {
    if (this.spec.render) {
      this.write(type, this.spec.render(obj));
      return;
    }
    if (this.closed || this.res.writableEnded) return;
    this.res.write(shared ? shared.line(type, obj) : Buffer.from(`{"type":"${type}","object":${encodeObject(obj)}}\n`));
  }

  private sendError(status: Status): void {
    this.write('ERROR', status);
  }

  private sendBookmark(initialEventsEnd: boolean): void {
    const { def } = this.spec;
    const metadata: Obj = { resourceVersion: String(this.store.resourceVersion) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    const empty = canonicalize({ kind: def.kind, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, metadata }, def.schema);
    const render = this.spec.renderBookmark ?? this.spec.render;
    this.write('BOOKMARK', render ? render(empty) : empty);
  }

  /** Ends the stream cleanly (the terminating chunk is sent). */
  end(): void {
    if (!this.res.writableEnded) this.res.end();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.subscribed) this.hub.remove(this);
    this.subscribed = false;
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.timeoutTimer = null;
    this.bookmarkTimer = null;
  }
}
