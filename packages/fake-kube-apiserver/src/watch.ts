// One watch stream: newline-delimited JSON events over a chunked HTTP response, as the real
// server's watch cache serves them. Starts with the current state (no resourceVersion, or "0") or
// resumes after a resourceVersion from the event history (an ERROR event with a 410 Expired Status
// when that history is gone), applies label and field selectors with the transitions a selector
// implies (an object that stops matching is DELETED for this watcher), sends BOOKMARKs when
// allowed, and ends at timeoutSeconds.

import type { ServerResponse } from 'node:http';
import type { KindDef, Obj } from './kinds/index.ts';
import { canonicalize } from './schema.ts';
import { failureStatus, type Status } from './status.ts';
import type { ChangeEvent, Store } from './store.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchSpec {
  def: KindDef;
  /** undefined: all namespaces. */
  namespace: string | undefined;
  /** Selector match on the external form. */
  matches(obj: Obj): boolean;
  /** Stored to external form. */
  toExternal(stored: Obj): Obj;
  /** External object to what goes on the wire (the object, a Table, PartialObjectMetadata). */
  render(obj: Obj): Obj;
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

export class WatchStream {
  private readonly res: ServerResponse;
  private readonly store: Store;
  private readonly spec: WatchSpec;
  private unsubscribe: (() => void) | null = null;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private bookmarkTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly onClosed: () => void;

  constructor(res: ServerResponse, store: Store, spec: WatchSpec, onClosed: () => void) {
    this.res = res;
    this.store = store;
    this.spec = spec;
    this.onClosed = onClosed;
    res.once('close', () => this.cleanup());
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
      for (const e of history) this.onChange(e);
    } else {
      const objs = store.list(spec.def.storageKey, spec.def.namespaced ? spec.namespace : undefined);
      for (const stored of objs) {
        const obj = spec.toExternal(stored);
        if (spec.matches(obj)) this.send('ADDED', obj);
      }
      if (spec.initialEventsEndBookmark) this.sendBookmark(true);
    }
    this.unsubscribe = store.subscribe((e) => this.onChange(e));
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

  private onChange(e: ChangeEvent): void {
    if (this.closed) return;
    const { spec } = this;
    if (e.storageKey !== spec.def.storageKey) return;
    if (spec.startRv !== undefined && e.rv <= spec.startRv) return;
    if (spec.def.namespaced && spec.namespace !== undefined && e.namespace !== spec.namespace) return;
    const cur = spec.toExternal(e.object);
    const curMatch = spec.matches(cur);
    if (e.type === 'ADDED') {
      if (curMatch) this.send('ADDED', cur);
      return;
    }
    if (e.type === 'DELETED') {
      if (curMatch) this.send('DELETED', cur);
      return;
    }
    const prev = e.prev ? spec.toExternal(e.prev) : undefined;
    const prevMatch = prev ? spec.matches(prev) : false;
    if (curMatch && prevMatch) this.send('MODIFIED', cur);
    else if (curMatch) this.send('ADDED', cur);
    else if (prevMatch && prev) {
      (prev.metadata as Obj).resourceVersion = String(e.rv);
      this.send('DELETED', prev);
    }
  }

  private write(type: WatchEventType, object: Obj | Status): void {
    if (this.closed || this.res.writableEnded) return;
    this.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private send(type: WatchEventType, obj: Obj): void {
    this.write(type, this.spec.render(obj));
  }

  private sendError(status: Status): void {
    this.write('ERROR', status);
  }

  private sendBookmark(initialEventsEnd: boolean): void {
    const { def } = this.spec;
    const metadata: Obj = { resourceVersion: String(this.store.resourceVersion) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    const empty = canonicalize({ kind: def.kind, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, metadata }, def.schema);
    this.write('BOOKMARK', (this.spec.renderBookmark ?? this.spec.render)(empty));
  }

  /** Ends the stream cleanly (the terminating chunk is sent). */
  end(): void {
    if (!this.res.writableEnded) this.res.end();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.timeoutTimer = null;
    this.bookmarkTimer = null;
    this.onClosed();
  }
}
