// URL + method to the request attributes the apiserver derives (k8s.io/apiserver/pkg/endpoints/
// request.RequestInfoFactory): resource or non-resource, verb, group, version, namespace,
// resource, subresource and name.

import { exactName, parseFieldSelector } from './selectors.ts';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  /** The object name in the URL. */
  name: string;
  /** The name authorization sees: the URL name, or a list/watch's `metadata.name=` field selector. */
  authzName: string;
  /** The deprecated /watch/ path prefix was used. */
  watchPath: boolean;
}

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function truthy(v: string | null): boolean {
  return v === '1' || v === 'true' || v === 'True';
}

/** The attributes of a request, derived from method, path and query as RequestInfoFactory does. */
export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const base: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    authzName: '',
    watchPath: false,
  };
  let parts = path.replace(/^\/+|\/+$/g, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts.length < 1 || (parts[0] !== 'api' && parts[0] !== 'apis')) return base;
  const info = { ...base };
  info.apiPrefix = parts[0]!;
  parts = parts.slice(1);
  if (info.apiPrefix === 'apis') {
    if (parts.length < 1) return base;
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  if (parts.length < 1) return base;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts.length < 1) return base;
  info.isResourceRequest = true;
  info.verb = METHOD_VERBS[method] ?? method.toLowerCase();
  if (parts[0] === 'watch') {
    info.watchPath = true;
    info.verb = 'watch';
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  // parts is now resource[/name[/subresource...]] (or namespaces/name[/status])
  info.resource = parts[0] ?? '';
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 3) info.subresource = parts[2]!;
  if (parts.length >= 4) {
    // Deeper paths (e.g. proxy) are not served; keep the subresource so routing 404s.
    info.subresource = parts.slice(2).join('/');
  }
  const query = url.searchParams;
  if (info.name === '') {
    if (info.verb === 'get') info.verb = truthy(query.get('watch')) ? 'watch' : 'list';
    if (info.verb === 'delete') info.verb = 'deletecollection';
  } else if (info.verb === 'get' && truthy(query.get('watch'))) {
    info.verb = 'watch';
  }
  info.authzName = info.name;
  if ((info.verb === 'list' || info.verb === 'watch') && info.name === '') {
    try {
      const name = exactName(parseFieldSelector(query.get('fieldSelector') ?? ''));
      if (name && !name.includes('/') && name !== '.' && name !== '..') info.authzName = name;
    } catch {
      // A bad field selector is reported by the handler.
    }
  }
  return info;
}
