// The collection reads: list (consistent snapshots, resourceVersion semantics, paging with continue
// tokens, tables) and watch (parameters validated, then a WatchStream registered with the hub).

import type { ServerResponse } from 'node:http';
import { encodeList } from './encoding.ts';
import { sendEncoded, warningHeader, baseHeaders } from './http-io.ts';
import { groupVersion, type KindDef, type Obj } from './kinds/index.ts';
import type { Registry } from './registry.ts';
import {
  decodeContinue,
  encodeContinue,
  isSelective,
  listOptionsInvalid,
  parseSelection,
  queryFlag,
  selectionMatcher,
} from './request-options.ts';
import { exactName } from './selectors.ts';
import { badRequest, expired, fieldErr, tooLargeResourceVersion, type Status } from './status.ts';
import type { Store } from './store.ts';
import { partialList, partialObjectMetadata, toTable, type Rendering } from './table.ts';
import { WatchStream } from './watch.ts';
import type { WatchHub } from './watch-hub.ts';

/** How long a read for a resourceVersion the store has not reached waits before its 504. */
const FUTURE_RV_WAIT_MS = 3000;

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** What list and watch need from the server. */
export interface CollectionReadHooks {
  store(): Store;
  registry(): Registry;
  watchHub: WatchHub;
  bookmarkIntervalMs: number;
  /** Aborted when the server stops. */
  signal(): AbortSignal;
}

/** A request's place: its kind, namespace (undefined: all), query, rendering and warnings. */
export interface CollectionRequest {
  def: KindDef;
  namespace: string | undefined;
  /** A watch on one object by URL (`.../leases/x?watch=1` or `/watch/.../leases/x`). */
  name: string;
  query: URLSearchParams;
  rendering: Rendering;
  warnings: string[];
}

const storeKey = (obj: Obj): string => {
  const meta = (obj.metadata ?? {}) as Obj;
  return `${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`;
};

/**
 * Validates resourceVersion and resourceVersionMatch; for a resourceVersion newer than the
 * store's it waits briefly for it, then 504s as the real server does. Returns the revision an
 * Exact list is served at.
 */
export async function checkResourceVersion(hooks: CollectionReadHooks, query: URLSearchParams, exactAllowed: boolean): Promise<number | undefined> {
  const requested = query.get('resourceVersion');
  const match = query.get('resourceVersionMatch') ?? '';
  if (match && !['Exact', 'NotOlderThan'].includes(match)) {
    throw listOptionsInvalid([fieldErr.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan'])]);
  }
  if (match && !requested) {
    throw listOptionsInvalid([fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
  }
  if (!requested) return undefined;
  if (!/^\d+$/.test(requested)) throw badRequest(`invalid resource version: ${requested}`);
  const rv = Number(requested);
  if (match === 'Exact') {
    if (!exactAllowed) throw listOptionsInvalid([fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for get')]);
    if (rv === 0) throw listOptionsInvalid([fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')]);
  }
  const store = hooks.store();
  if (rv > store.resourceVersion) {
    const reached = await store.waitForRevision(rv, FUTURE_RV_WAIT_MS, hooks.signal());
    if (!reached) throw tooLargeResourceVersion(rv, store.resourceVersion);
  }
  return match === 'Exact' ? rv : undefined;
}

export async function list(hooks: CollectionReadHooks, request: CollectionRequest, res: ServerResponse): Promise<number> {
  const { def, namespace, query, rendering } = request;
  const selection = parseSelection(def, query);
  const exactRv = await checkResourceVersion(hooks, query, true);
  const store = hooks.store();
  const registry = hooks.registry();
  const limitParam = query.get('limit');
  const limit = limitParam && /^\d+$/.test(limitParam) ? Number(limitParam) : 0;
  const continueParam = query.get('continue');
  let snapshotRv = store.resourceVersion;
  let startKey = '';
  if (continueParam) {
    if (query.get('resourceVersion')) {
      throw listOptionsInvalid([fieldErr.forbidden('resourceVersion', 'specifying resource version is not allowed when using continue')]);
    }
    const token = decodeContinue(continueParam);
    snapshotRv = token.rv;
    startKey = token.start;
  } else if (exactRv !== undefined) {
    snapshotRv = exactRv;
  }
  const snapshot = store.snapshotAt(def.storageKey, snapshotRv, def.namespaced ? namespace : undefined);
  if (snapshot === 'expired') {
    throw continueParam ? expired(CONTINUE_EXPIRED) : expired(`too old resource version: ${snapshotRv} (${store.compactedRevision + 1})`);
  }
  const selective = isSelective(selection);
  const matches = selectionMatcher(def, selection);
  const all = snapshot
    .map((stored) => registry.view(def, stored))
    .filter((obj) => (!startKey || storeKey(obj) >= startKey) && (!selective || matches(obj)));
  const items = limit > 0 ? all.slice(0, limit) : all;
  const listMeta: Obj = { resourceVersion: String(snapshotRv) };
  if (limit > 0 && all.length > limit) {
    // The NUL sorts right after the last returned key: the next page starts past it.
    listMeta.continue = encodeContinue({ rv: snapshotRv, start: `${storeKey(items[items.length - 1]!)}\u0000` });
    if (!selective) listMeta.remainingItemCount = all.length - limit;
  }
  let body: string;
  if (rendering.kind === 'table') body = JSON.stringify(toTable(def, items, rendering, listMeta));
  else if (rendering.kind === 'partial') body = JSON.stringify(partialList(items, listMeta, rendering.version));
  else body = encodeList({ kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: listMeta }, items);
  sendEncoded(res, 200, body, warningHeader(request.warnings));
  return 200;
}

export async function watch(hooks: CollectionReadHooks, request: CollectionRequest, res: ServerResponse): Promise<number> {
  const { def, namespace, query, rendering } = request;
  const selection = parseSelection(def, query);
  if (request.name) selection.fields.push({ field: 'metadata.name', op: '=', value: request.name });
  const rvParam = query.get('resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
  const allowBookmarks = queryFlag(query.get('allowWatchBookmarks'));
  const sendInitialEventsParam = query.get('sendInitialEvents');
  const sendInitialEvents = queryFlag(sendInitialEventsParam);
  if (sendInitialEventsParam !== null) {
    const errs = [];
    if (query.get('resourceVersionMatch') !== 'NotOlderThan') {
      errs.push(fieldErr.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    }
    if (sendInitialEvents && !allowBookmarks) {
      errs.push(fieldErr.forbidden('allowWatchBookmarks', 'allowWatchBookmarks must be set to true when sendInitialEvents is set to true'));
    }
    if (errs.length) throw listOptionsInvalid(errs);
  }
  const timeoutParam = query.get('timeoutSeconds');
  const timeoutMs = timeoutParam !== null && /^\d+$/.test(timeoutParam) && Number(timeoutParam) > 0 ? Number(timeoutParam) * 1000 : undefined;
  const registry = hooks.registry();
  const store = hooks.store();
  const rv = rvParam === '' ? 0 : Number(rvParam);
  // Unset or "0" (or sendInitialEvents): the current state first, as ADDED events.
  const startRv = rv === 0 || sendInitialEvents ? undefined : rv;
  // A resourceVersion the store has not reached yet: wait briefly, as the watch cache does.
  let failWith: Status | undefined;
  if (startRv !== undefined && startRv > store.resourceVersion) {
    const signal = hooks.signal();
    const reached = await store.waitForRevision(startRv, FUTURE_RV_WAIT_MS, signal);
    if (signal.aborted || res.destroyed || res.socket?.destroyed) return 0;
    if (!reached) failWith = tooLargeResourceVersion(startRv, store.resourceVersion).status;
  }
  const rowResourceVersion = (obj: Obj): Obj => ({ resourceVersion: String((obj.metadata as Obj | undefined)?.resourceVersion ?? '') });
  const render =
    rendering.kind === 'table'
      ? (obj: Obj): Obj => toTable(def, [obj], rendering, rowResourceVersion(obj))
      : rendering.kind === 'partial'
        ? (obj: Obj): Obj => partialObjectMetadata(obj, rendering.version)
        : undefined;
  const stream = new WatchStream(res, store, hooks.watchHub, {
    def,
    namespace,
    matches: selectionMatcher(def, selection),
    selective: isSelective(selection),
    pinnedName: exactName(selection.fields),
    toExternal: (stored) => registry.view(def, stored),
    render,
    // A bookmark is not a row: in table mode it is an empty Table carrying the resourceVersion.
    renderBookmark: (obj) =>
      rendering.kind === 'table'
        ? { kind: 'Table', apiVersion: `meta.k8s.io/${rendering.version}`, metadata: rowResourceVersion(obj), columnDefinitions: null, rows: null }
        : render
          ? render(obj)
          : obj,
    startRv,
    initialEventsEndBookmark: sendInitialEvents,
    allowBookmarks,
    bookmarkIntervalMs: hooks.bookmarkIntervalMs,
    timeoutMs,
  });
  stream.start({ ...baseHeaders(), ...warningHeader(request.warnings) }, failWith);
  return 200;
}
