// The HTTP entry point: request info, faults, authentication, authorization, then routing to the
// non-resource documents (discovery, OpenAPI, health) or to a resource verb. The REST semantics
// live in the Registry, collection reads in list-watch.ts, HTTP plumbing in http-io.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import * as discovery from './discovery.ts';
import { encodeList, encodeObject } from './encoding.ts';
import type { Faults } from './faults.ts';
import { readBody, sendEncoded, sendJson, sendStatus, sendText, warningHeader } from './http-io.ts';
import { findKind, groupVersion, type KindDef, type Obj } from './kinds/index.ts';
import { checkResourceVersion, list, watch, type CollectionReadHooks, type CollectionRequest } from './list-watch.ts';
import { openApiV3Document, openApiV3Root } from './openapi.ts';
import { authenticate, authorize, forbiddenReason, type Attributes, type UserInfo } from './rbac.ts';
import { decodeObjectBody, decodeOptionsBody } from './request-body.ts';
import { requestInfo, type RequestInfo } from './request-info.ts';
import { deleteOptions, parseSelection, selectionMatcher, writeOptions } from './request-options.ts';
import { ApiError, badRequest, failureStatus, forbidden, internalError, notAcceptable, pathNotFound, unauthorized } from './status.ts';
import { negotiate, partialObjectMetadata, toTable, type Rendering } from './table.ts';
import type { FaultRequestInfo, RequestRecord } from './types.ts';

/** What the handler needs from the server around it. */
export interface ServerHooks extends CollectionReadHooks {
  tokens: ReadonlyMap<string, UserInfo>;
  anonymousAuth: boolean;
  faults: Faults;
  version: Record<string, string>;
  serverAddress(): string;
  /** Waits, unless the server stops first (then false). */
  sleep(ms: number): Promise<boolean>;
  record(request: RequestRecord): void;
  /** A request has arrived (before faults, authentication and handling). */
  arrived(request: RequestRecord): void;
}

function methodNotAllowed(): ApiError {
  return new ApiError(failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}));
}

/** Serves every request of the server; stateless beyond the hooks, so a restart keeps it. */
export class ApiHandler {
  private readonly server: ServerHooks;

  constructor(server: ServerHooks) {
    this.server = server;
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
    const user = authenticate(req.headers.authorization, this.server.tokens, this.server.anonymousAuth);
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
    const authorizedName = info.authzName;
    const record = (code: number, injected?: 'error' | 'blackhole'): void => {
      this.server.record(injected ? { ...faultInfo, authorizedName, code, injected } : { ...faultInfo, authorizedName, code });
    };

    this.server.arrived({ ...faultInfo, authorizedName, code: 0 });
    const decision = this.server.faults.decide(faultInfo);
    if (decision.kind === 'blackhole') {
      this.server.faults.hold(res);
      req.resume();
      record(0, 'blackhole');
      return;
    }
    if (decision.latencyMs > 0) {
      const slept = await this.server.sleep(decision.latencyMs);
      if (!slept) {
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
      this.authorizeRequest(user, info, url);
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
      if (!info.isResourceRequest) {
        this.nonResource(method, url, res);
        record(res.statusCode);
        return;
      }
      record(await this.resource(info, url.searchParams, req, res, body));
    } catch (e) {
      const err = e instanceof ApiError ? e : internalError((e as Error)?.message ?? String(e));
      req.resume();
      sendStatus(res, err);
      record(err.code);
    }
  }

  /** 403 with the RBAC authorizer's wording unless the user's rules allow the request. */
  private authorizeRequest(user: UserInfo, info: RequestInfo, url: URL): void {
    const attributes: Attributes = {
      isResourceRequest: info.isResourceRequest,
      verb: info.verb,
      path: url.pathname,
      apiGroup: info.apiGroup,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.authzName,
    };
    if (authorize(user, attributes)) return;
    const why = forbiddenReason(user, attributes);
    const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    throw info.isResourceRequest ? forbidden({ group: info.apiGroup, resource }, info.authzName, why) : forbidden(null, '', why);
  }

  /** Health, /version, discovery and OpenAPI documents. */
  private nonResource(method: string, url: URL, res: ServerResponse): void {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(path)) {
      sendText(res, 200, 'ok');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendStatus(res, methodNotAllowed());
      return;
    }
    let doc: unknown;
    const parts = path.split('/').filter(Boolean);
    if (path === '/version') doc = this.server.version;
    else if (path === '/api') doc = discovery.coreVersions(this.server.serverAddress());
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

  /** One resource request, routed by verb; returns the status code answered. */
  private async resource(info: RequestInfo, query: URLSearchParams, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<number> {
    const def = findKind(info.apiGroup, info.apiVersion, info.resource);
    if (!def || info.subresource) throw pathNotFound();
    const warnings: string[] = def.warning ? [def.warning] : [];
    let namespace = info.namespace;
    if (def.namespaced) {
      if (!namespace && info.name) throw pathNotFound();
      if (!namespace && (info.verb === 'create' || info.verb === 'deletecollection')) throw methodNotAllowed();
    } else {
      // `namespaces/x` is the Namespace x itself; any other cluster-scoped kind under a namespace is 404.
      if (def.resource !== 'namespaces' && namespace) throw pathNotFound();
      namespace = '';
    }
    if (!def.verbs.includes(info.verb)) throw methodNotAllowed();
    const rendering = negotiate(req.headers.accept, query.get('includeObject'));
    if (!rendering) throw notAcceptable();
    const registry = this.server.registry();
    const encode = (obj: Obj): string => encodeRendered(def, obj, rendering);
    const collection: CollectionRequest = { def, namespace: namespace || undefined, name: info.name, query, rendering, warnings };

    switch (info.verb) {
      case 'get': {
        await checkResourceVersion(this.server, query, false);
        const obj = registry.get(def, namespace, info.name);
        sendEncoded(res, 200, encode(obj), warningHeader(warnings));
        return 200;
      }
      case 'list':
        return list(this.server, collection, res);
      case 'watch':
        return watch(this.server, collection, res);
      case 'create': {
        const options = writeOptions(query);
        const obj = registry.create(def, namespace, decodeObjectBody(def, req, body), options);
        sendEncoded(res, 201, encode(obj), warningHeader([...warnings, ...options.warnings]));
        return 201;
      }
      case 'update': {
        const options = writeOptions(query);
        const result = registry.update(def, namespace, info.name, decodeObjectBody(def, req, body), options);
        const code = result.created ? 201 : 200;
        sendEncoded(res, code, encode(result.obj), warningHeader([...warnings, ...options.warnings]));
        return code;
      }
      case 'patch': {
        const options = writeOptions(query);
        const result = registry.patch(def, namespace, info.name, String(req.headers['content-type'] ?? ''), body.toString('utf8'), options);
        const code = result.created ? 201 : 200;
        sendEncoded(res, code, encode(result.obj), warningHeader([...warnings, ...options.warnings]));
        return code;
      }
      case 'delete': {
        const options = writeOptions(query);
        const deleting = deleteOptions(decodeOptionsBody(req, body), query, options);
        const result = registry.delete(def, namespace, info.name, deleting, options);
        const out = result.body.kind === 'Status' ? JSON.stringify(result.body) : encode(result.body);
        sendEncoded(res, result.code, out, warningHeader(warnings));
        return result.code;
      }
      case 'deletecollection': {
        const options = writeOptions(query);
        const deleting = deleteOptions(decodeOptionsBody(req, body), query, options);
        const matches = selectionMatcher(def, parseSelection(def, query));
        const items = registry.list(def, namespace || undefined).filter(matches);
        const deleted = registry.deleteCollection(def, items, deleting, options);
        const head = { kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: { resourceVersion: String(this.server.store().resourceVersion) } };
        sendEncoded(res, 200, encodeList(head, deleted), warningHeader(warnings));
        return 200;
      }
      default:
        throw methodNotAllowed();
    }
  }
}

/** One object as the negotiated rendering, encoded (a stored object's JSON is memoized). */
function encodeRendered(def: KindDef, obj: Obj, rendering: Rendering): string {
  if (rendering.kind === 'table') {
    return JSON.stringify(toTable(def, [obj], rendering, { resourceVersion: String((obj.metadata as Obj | undefined)?.resourceVersion ?? '') }));
  }
  if (rendering.kind === 'partial') return JSON.stringify(partialObjectMetadata(obj, rendering.version));
  return encodeObject(obj);
}
