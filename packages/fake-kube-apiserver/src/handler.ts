// The HTTP layer: request info, faults, authentication, authorization, routing, query options,
// content negotiation and the responses, around the Registry (REST semantics) and WatchStream.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as discovery from './discovery.ts';
import type { Faults } from './faults.ts';
import { findKind, groupVersion, type KindDef, type Obj } from './kinds/index.ts';
import { openApiV3Document, openApiV3Root } from './openapi.ts';
import { authenticate, authorize, forbiddenReason, type Attributes, type UserInfo } from './rbac.ts';
import type { DeleteOptionsBody, FieldValidation, Registry, WriteOptions } from './registry.ts';
import { requestInfo, type RequestInfo } from './request-info.ts';
import {
  exactName,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  type FieldRequirement,
  type LabelRequirement,
} from './selectors.ts';
import {
  ApiError,
  badRequest,
  expired,
  failureStatus,
  fieldErr,
  forbidden,
  internalError,
  invalid,
  notAcceptable,
  pathNotFound,
  requestEntityTooLarge,
  tooLargeResourceVersion,
  unauthorized,
  unsupportedMediaType,
  type Status,
} from './status.ts';
import type { Store } from './store.ts';
import { negotiate, partialList, partialObjectMetadata, toTable, type Rendering } from './table.ts';
import type { FaultRequestInfo, RequestRecord } from './types.ts';
import { WatchStream } from './watch.ts';
import type { WatchHub } from './watch-hub.ts';
import { encodeList, encodeObject } from './encoding.ts';

const MAX_BODY = 3 * 1024 * 1024;
const TOO_LARGE_RV_WAIT_MS = 3000;

export interface HandlerContext {
  store(): Store;
  registry(): Registry;
  tokens: ReadonlyMap<string, UserInfo>;
  anonymousAuth: boolean;
  faults: Faults;
  bookmarkIntervalMs: number;
  version: Record<string, string>;
  serverAddress(): string;
  /** The open watches; the server ends them on stop and dropWatches(). */
  watchHub: WatchHub;
  /** Waits, unless the server stops first (then false). */
  sleep(ms: number): Promise<boolean>;
  /** Aborted when the server stops. */
  signal(): AbortSignal;
  record(r: RequestRecord): void;
  /** A request has arrived (before faults, authentication and handling). */
  arrived(r: RequestRecord): void;
}

function baseHeaders(): Record<string, string> {
  return { 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private' };
}

function warningHeader(warnings: string[]): Record<string, string[]> {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) };
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  sendEncoded(res, code, JSON.stringify(body), headers);
}

/** A response whose body is already JSON text (e.g. a stored object's memoized encoding). */
function sendEncoded(res: ServerResponse, code: number, json: string, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${json}\n`;
  res.writeHead(code, {
    ...baseHeaders(),
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendStatus(res: ServerResponse, err: ApiError, extra: Record<string, string | string[]> = {}): void {
  sendJson(res, err.code, err.status, { ...err.headers, ...extra });
}

function sendText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(code, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(requestEntityTooLarge(MAX_BODY));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function checkJsonContentType(req: IncomingMessage): void {
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/json' && ct !== '' && ct !== '*/*') throw unsupportedMediaType(ct);
}

function writeOptions(q: URLSearchParams): WriteOptions {
  const dryRun = q.getAll('dryRun');
  for (const d of dryRun) if (d !== 'All') throw badRequest(`Invalid dry run value: ${d}`);
  const fv = q.get('fieldValidation') ?? '';
  const fieldValidation: FieldValidation =
    fv === '' ? 'Warn' : fv === 'Strict' || fv === 'Warn' || fv === 'Ignore' ? fv : (() => {
      throw badRequest(`fieldValidation parameter unsupported: ${fv}; supported values: Ignore, Strict, Warn`);
    })();
  const opts: WriteOptions = { dryRun: dryRun.length > 0, fieldValidation, warnings: [] };
  const fm = q.get('fieldManager');
  if (fm) opts.fieldManager = fm;
  return opts;
}

interface Selection {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

function parseSelection(def: KindDef, q: URLSearchParams): Selection {
  try {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    for (const f of fields) {
      if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !(f.field in def.fieldLabels)) {
        throw new SelectorError(`field label not supported: ${f.field}`);
      }
    }
    return { labels, fields };
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

function matcher(def: KindDef, sel: Selection): (o: Obj) => boolean {
  return (o) => {
    const m = (o.metadata ?? {}) as Obj;
    if (!matchLabels(sel.labels, m.labels as Record<string, string> | undefined)) return false;
    return matchFields(sel.fields, (field) => {
      if (field === 'metadata.name') return String(m.name ?? '');
      if (field === 'metadata.namespace') return String(m.namespace ?? '');
      return def.fieldLabels[field]!(o);
    });
  };
}

function keyOf(o: Obj): string {
  const m = (o.metadata ?? {}) as Obj;
  return `${String(m.namespace ?? '')}/${String(m.name ?? '')}`;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return { rv: t.rv, start: t.start };
  } catch {
    throw badRequest(`continue key is not valid: ${s}`);
  }
}

function listOptionsInvalid(errs: ReturnType<typeof fieldErr.invalid>[]): ApiError {
  return invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errs);
}

export class ApiHandler {
  private readonly ctx: HandlerContext;

  constructor(ctx: HandlerContext) {
    this.ctx = ctx;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let info: RequestInfo;
    try {
      info = requestInfo(method, url);
    } catch {
      sendStatus(res, badRequest(`malformed request path: ${url.pathname}`));
      return;
    }
    const user = authenticate(req.headers.authorization, this.ctx.tokens, this.ctx.anonymousAuth);
    const faultInfo: FaultRequestInfo = {
      method,
      path: url.pathname,
      verb: info.verb,
      resource: info.resource,
      apiGroup: info.apiGroup,
      namespace: info.namespace,
      name: info.name,
      user: user?.name ?? '',
      userAgent: String(req.headers['user-agent'] ?? ''),
    };
    const record = (code: number, injected?: 'error' | 'blackhole'): void => {
      this.ctx.record(injected ? { ...faultInfo, code, injected } : { ...faultInfo, code });
    };

    this.ctx.arrived({ ...faultInfo, code: 0 });
    const decision = this.ctx.faults.decide(faultInfo);
    if (decision.kind === 'blackhole') {
      this.ctx.faults.hold(res);
      req.resume();
      record(0, 'blackhole');
      return;
    }
    if (decision.latencyMs > 0) {
      const ok = await this.ctx.sleep(decision.latencyMs);
      if (!ok) {
        res.destroy();
        return;
      }
    }
    if (decision.kind === 'error') {
      req.resume();
      sendStatus(res, decision.error);
      record(decision.error.code, 'error');
      return;
    }

    try {
      if (!user) throw unauthorized();
      const attrs: Attributes = {
        isResourceRequest: info.isResourceRequest,
        verb: info.verb,
        path: url.pathname,
        apiGroup: info.apiGroup,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.authzName,
      };
      if (!authorize(user, attrs)) {
        const why = forbiddenReason(user, attrs);
        throw info.isResourceRequest
          ? forbidden({ group: info.apiGroup, resource: info.subresource ? `${info.resource}/${info.subresource}` : info.resource }, info.authzName, why)
          : forbidden(null, '', why);
      }
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
      if (!info.isResourceRequest) {
        this.nonResource(method, url, res);
        record(res.statusCode);
        return;
      }
      const code = await this.resource(info, url, req, res, body.toString('utf8'));
      record(code);
    } catch (e) {
      const err = e instanceof ApiError ? e : internalError((e as Error)?.message ?? String(e));
      req.resume();
      sendStatus(res, err);
      record(err.code);
    }
  }

  // ---- non-resource paths -----------------------------------------------------------------

  private nonResource(method: string, url: URL, res: ServerResponse): void {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(path)) {
      sendText(res, 200, 'ok');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendStatus(res, new ApiError(failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})));
      return;
    }
    let doc: unknown;
    const parts = path.split('/').filter(Boolean);
    if (path === '/version') doc = this.ctx.version;
    else if (path === '/api') doc = discovery.coreVersions(this.ctx.serverAddress());
    else if (parts[0] === 'api' && parts.length === 2) doc = discovery.resourceList('', parts[1]!);
    else if (path === '/apis') doc = discovery.groupList();
    else if (parts[0] === 'apis' && parts.length === 2) doc = discovery.group(parts[1]!);
    else if (parts[0] === 'apis' && parts.length === 3) doc = discovery.resourceList(parts[1]!, parts[2]!);
    else if (path === '/openapi/v3') doc = openApiV3Root();
    else if (parts[0] === 'openapi' && parts[1] === 'v3') doc = openApiV3Document(parts.slice(2).join('/'));
    if (doc === undefined) {
      sendStatus(res, pathNotFound());
      return;
    }
    sendJson(res, 200, doc);
  }

  // ---- resources --------------------------------------------------------------------------

  private async resource(info: RequestInfo, url: URL, req: IncomingMessage, res: ServerResponse, body: string): Promise<number> {
    const def = findKind(info.apiGroup, info.apiVersion, info.resource);
    if (!def || info.subresource) throw pathNotFound();
    const q = url.searchParams;
    const warnings: string[] = def.warning ? [def.warning] : [];
    const notAllowed = (): ApiError =>
      new ApiError(failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}));
    let namespace = info.namespace;
    if (def.namespaced) {
      if (!namespace && info.name) throw pathNotFound();
      if (!namespace && (info.verb === 'create' || info.verb === 'deletecollection')) throw notAllowed();
    } else {
      if (def.resource !== 'namespaces' && namespace) throw pathNotFound();
      namespace = '';
    }
    if (!def.verbs.includes(info.verb)) throw notAllowed();
    const rendering = negotiate(req.headers.accept, q.get('includeObject'));
    if (!rendering) throw notAcceptable();
    const registry = this.ctx.registry();
    const ns = def.namespaced ? namespace : '';

    switch (info.verb) {
      case 'get': {
        await this.checkResourceVersion(q, false);
        const obj = registry.get(def, ns, info.name);
        sendEncoded(res, 200, this.encodeOne(def, obj, rendering), warningHeader(warnings));
        return 200;
      }
      case 'list':
        return this.list(def, ns || undefined, q, rendering, res, warnings);
      case 'watch':
        return await this.watch(def, ns || undefined, info, q, rendering, res, warnings);
      case 'create': {
        checkJsonContentType(req);
        const opts = writeOptions(q);
        const obj = registry.create(def, ns, parseJsonBody(body), opts);
        sendEncoded(res, 201, this.encodeOne(def, obj, rendering), warningHeader([...warnings, ...opts.warnings]));
        return 201;
      }
      case 'update': {
        checkJsonContentType(req);
        const opts = writeOptions(q);
        const r = registry.update(def, ns, info.name, parseJsonBody(body), opts);
        const code = r.created ? 201 : 200;
        sendEncoded(res, code, this.encodeOne(def, r.obj, rendering), warningHeader([...warnings, ...opts.warnings]));
        return code;
      }
      case 'patch': {
        const opts = writeOptions(q);
        const r = registry.patch(def, ns, info.name, String(req.headers['content-type'] ?? ''), body, opts);
        const code = r.created ? 201 : 200;
        sendEncoded(res, code, this.encodeOne(def, r.obj, rendering), warningHeader([...warnings, ...opts.warnings]));
        return code;
      }
      case 'delete': {
        const opts = writeOptions(q);
        const r = registry.delete(def, ns, info.name, this.deleteOptions(body, q), opts);
        const out = r.body.kind === 'Status' ? JSON.stringify(r.body) : this.encodeOne(def, r.body, rendering);
        sendEncoded(res, r.code, out, warningHeader(warnings));
        return r.code;
      }
      case 'deletecollection': {
        const opts = writeOptions(q);
        const sel = parseSelection(def, q);
        const matches = matcher(def, sel);
        const items = registry.list(def, ns || undefined).filter(matches);
        const deleted = registry.deleteCollection(def, items, this.deleteOptions(body, q), opts);
        const head = { kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: { resourceVersion: String(this.ctx.store().resourceVersion) } };
        sendEncoded(res, 200, encodeList(head, deleted), warningHeader(warnings));
        return 200;
      }
      default:
        throw notAllowed();
    }
  }

  private deleteOptions(body: string, q: URLSearchParams): DeleteOptionsBody {
    let opts: DeleteOptionsBody = {};
    if (body.trim() !== '') {
      const parsed = parseJsonBody(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('DeleteOptions must be an object');
      opts = parsed as DeleteOptionsBody;
    }
    const grace = q.get('gracePeriodSeconds');
    if (grace !== null) opts.gracePeriodSeconds = Number(grace);
    const policy = q.get('propagationPolicy');
    if (policy !== null) opts.propagationPolicy = policy;
    if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
        fieldErr.notSupported('propagationPolicy', opts.propagationPolicy, ['Foreground', 'Background', 'Orphan', 'nil']),
      ]);
    }
    return opts;
  }

  /** One object as the negotiated rendering, encoded (a stored object's JSON is memoized). */
  private encodeOne(def: KindDef, obj: Obj, r: Rendering): string {
    if (r.kind === 'table') {
      return JSON.stringify(toTable(def, [obj], r, { resourceVersion: String((obj.metadata as Obj | undefined)?.resourceVersion ?? '') }));
    }
    if (r.kind === 'partial') return JSON.stringify(partialObjectMetadata(obj, r.version));
    return encodeObject(obj);
  }

  /** For a resourceVersion newer than the store's, wait briefly for it, then 504 as the real server does. */
  private async checkResourceVersion(q: URLSearchParams, exactAllowed: boolean): Promise<number | undefined> {
    const rvParam = q.get('resourceVersion');
    const match = q.get('resourceVersionMatch') ?? '';
    if (match && !['Exact', 'NotOlderThan'].includes(match)) {
      throw listOptionsInvalid([fieldErr.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan'])]);
    }
    if (match && !rvParam) {
      throw listOptionsInvalid([fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    }
    if (!rvParam) return undefined;
    if (!/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    const rv = Number(rvParam);
    if (match === 'Exact') {
      if (!exactAllowed) throw listOptionsInvalid([fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for get')]);
      if (rv === 0) throw listOptionsInvalid([fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')]);
    }
    const store = this.ctx.store();
    if (rv > store.resourceVersion) {
      const ok = await store.waitForRevision(rv, TOO_LARGE_RV_WAIT_MS, this.ctx.signal());
      if (!ok) throw tooLargeResourceVersion(rv, store.resourceVersion);
    }
    return match === 'Exact' ? rv : undefined;
  }

  private async list(def: KindDef, namespace: string | undefined, q: URLSearchParams, r: Rendering, res: ServerResponse, warnings: string[]): Promise<number> {
    const sel = parseSelection(def, q);
    const exactRv = await this.checkResourceVersion(q, true);
    const store = this.ctx.store();
    const registry = this.ctx.registry();
    const limitParam = q.get('limit');
    const limit = limitParam && /^\d+$/.test(limitParam) ? Number(limitParam) : 0;
    const cont = q.get('continue');
    let snapshotRv = store.resourceVersion;
    let start = '';
    if (cont) {
      if (q.get('resourceVersion')) {
        throw listOptionsInvalid([fieldErr.forbidden('resourceVersion', 'specifying resource version is not allowed when using continue')]);
      }
      const t = decodeContinue(cont);
      snapshotRv = t.rv;
      start = t.start;
    } else if (exactRv !== undefined) {
      snapshotRv = exactRv;
    }
    const snapshot = store.snapshotAt(def.storageKey, snapshotRv, def.namespaced ? namespace : undefined);
    if (snapshot === 'expired') {
      throw cont
        ? expired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          )
        : expired(`too old resource version: ${snapshotRv} (${store.compactedRevision + 1})`);
    }
    const matches = matcher(def, sel);
    const selective = sel.labels.length > 0 || sel.fields.length > 0;
    const all = snapshot.map((o) => registry.view(def, o)).filter((o) => (!start || keyOf(o) >= start) && (!selective || matches(o)));
    const items = limit > 0 ? all.slice(0, limit) : all;
    const listMeta: Obj = { resourceVersion: String(snapshotRv) };
    if (limit > 0 && all.length > limit) {
      listMeta.continue = encodeContinue({ rv: snapshotRv, start: `${keyOf(items[items.length - 1]!)}\u0000` });
      if (sel.labels.length === 0 && sel.fields.length === 0) listMeta.remainingItemCount = all.length - limit;
    }
    let out: string;
    if (r.kind === 'table') out = JSON.stringify(toTable(def, items, r, listMeta));
    else if (r.kind === 'partial') out = JSON.stringify(partialList(items, listMeta, r.version));
    else out = encodeList({ kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: listMeta }, items);
    sendEncoded(res, 200, out, warningHeader(warnings));
    return 200;
  }

  private async watch(
    def: KindDef,
    namespace: string | undefined,
    info: RequestInfo,
    q: URLSearchParams,
    r: Rendering,
    res: ServerResponse,
    warnings: string[],
  ): Promise<number> {
    const sel = parseSelection(def, q);
    if (info.name) sel.fields.push({ field: 'metadata.name', op: '=', value: info.name });
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    const truthy = (v: string | null): boolean => v === 'true' || v === '1' || v === 'True';
    const allowBookmarks = truthy(q.get('allowWatchBookmarks'));
    const sendInitialEventsParam = q.get('sendInitialEvents');
    const sendInitialEvents = truthy(sendInitialEventsParam);
    if (sendInitialEventsParam !== null) {
      const errs = [];
      if (q.get('resourceVersionMatch') !== 'NotOlderThan') {
        errs.push(fieldErr.forbidden('resourceVersionMatch', "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
      }
      if (sendInitialEvents && !allowBookmarks) {
        errs.push(fieldErr.forbidden('allowWatchBookmarks', 'allowWatchBookmarks must be set to true when sendInitialEvents is set to true'));
      }
      if (errs.length) throw listOptionsInvalid(errs);
    }
    const timeoutParam = q.get('timeoutSeconds');
    const timeoutMs = timeoutParam !== null && /^\d+$/.test(timeoutParam) && Number(timeoutParam) > 0 ? Number(timeoutParam) * 1000 : undefined;
    const registry = this.ctx.registry();
    const store = this.ctx.store();
    const rv = rvParam === '' ? 0 : Number(rvParam);
    // Unset or "0" (or sendInitialEvents): the current state first, as ADDED events.
    const startRv = rv === 0 || sendInitialEvents ? undefined : rv;
    // A resourceVersion the store has not reached yet: wait briefly, as the watch cache does.
    let failWith: Status | undefined;
    if (startRv !== undefined && startRv > store.resourceVersion) {
      const signal = this.ctx.signal();
      const ok = await store.waitForRevision(startRv, TOO_LARGE_RV_WAIT_MS, signal);
      if (signal.aborted || res.destroyed || res.socket?.destroyed) return 0;
      if (!ok) failWith = tooLargeResourceVersion(startRv, store.resourceVersion).status;
    }
    const render =
      r.kind === 'table'
        ? (obj: Obj): Obj => toTable(def, [obj], r, { resourceVersion: String((obj.metadata as Obj | undefined)?.resourceVersion ?? '') })
        : r.kind === 'partial'
          ? (obj: Obj): Obj => partialObjectMetadata(obj, r.version)
          : undefined;
    const pinnedName = exactName(sel.fields);
    const stream: WatchStream = new WatchStream(
      res,
      store,
      this.ctx.watchHub,
      {
        def,
        namespace,
        matches: matcher(def, sel),
        selective: sel.labels.length > 0 || sel.fields.length > 0,
        pinnedName,
        toExternal: (o) => registry.view(def, o),
        render,
        // A bookmark is not a row: in table mode it is an empty Table carrying the resourceVersion.
        renderBookmark: (obj) =>
          r.kind === 'table'
            ? { kind: 'Table', apiVersion: `meta.k8s.io/${r.version}`, metadata: { resourceVersion: (obj.metadata as Obj).resourceVersion }, columnDefinitions: null, rows: null }
            : render
              ? render(obj)
              : obj,
        startRv,
        initialEventsEndBookmark: sendInitialEvents,
        allowBookmarks,
        bookmarkIntervalMs: this.ctx.bookmarkIntervalMs,
        timeoutMs,
      },
    );
    stream.start({ ...baseHeaders(), ...warningHeader(warnings) }, failWith);
    return 200;
  }
}

