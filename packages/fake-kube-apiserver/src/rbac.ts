// Bearer-token authentication and a small RBAC model: a token maps to a user and a list of rules
// (verbs x apiGroups x resources x namespaces x optional resourceNames), evaluated the way the
// RBAC authorizer evaluates the rules of the roles bound to a user.

export interface RbacRule {
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or `*`. */
  verbs: string[];
  /** API groups (`''` is core, `coordination.k8s.io`, ...); omitted means any group. */
  apiGroups?: string[];
  /** Plural resource names (`leases`, `pods/status`), or `*`. */
  resources: string[];
  /** When set, only requests naming one of these objects match (never create, never an unnamed list). */
  resourceNames?: string[];
  /** Namespaces the rule applies in (a RoleBinding per namespace); omitted or `*` means cluster-wide. */
  namespaces?: string[];
}

export type TokenSpec = { user: string; rules: RbacRule[]; groups?: string[] } | 'admin';

export interface UserInfo {
  name: string;
  groups: string[];
  /** 'admin' is system:masters: everything is allowed. */
  rules: RbacRule[] | 'admin';
}

/** Who a request without credentials is, as kube-apiserver's anonymous authenticator says. */
export const ANONYMOUS: UserInfo = {
  name: 'system:anonymous',
  groups: ['system:unauthenticated'],
  rules: [],
};

/** What authorization sees of a request (k8s.io/apiserver authorizer.Attributes). */
export interface Attributes {
  isResourceRequest: boolean;
  verb: string;
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** A token's spec to the user it authenticates as (admin is in system:masters). */
export function userFromSpec(spec: TokenSpec): UserInfo {
  if (spec === 'admin') return { name: 'admin', groups: ['system:masters', 'system:authenticated'], rules: 'admin' };
  return {
    name: spec.user,
    groups: [...(spec.groups ?? []), 'system:authenticated'],
    rules: spec.rules,
  };
}

/**
 * The user behind an Authorization header: a known bearer token, anonymous when there is no
 * credential (and anonymous auth is on), or null for a credential that is not accepted (401).
 */
export function authenticate(
  header: string | undefined,
  tokens: ReadonlyMap<string, UserInfo>,
  anonymousAuth: boolean,
): UserInfo | null {
  if (!header) return anonymousAuth ? ANONYMOUS : null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!bearer) return null;
  return tokens.get(bearer[1]!) ?? null;
}

const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];
const DISCOVERY_PREFIXES = ['/api', '/apis', '/openapi'];

function nonResourceAllowed(user: UserInfo, path: string): boolean {
  const p = path.split('?')[0]!;
  if (PUBLIC_PATHS.includes(p) || p.startsWith('/healthz/') || p.startsWith('/livez/') || p.startsWith('/readyz/')) {
    return true;
  }
  if (!user.groups.includes('system:authenticated')) return false;
  return DISCOVERY_PREFIXES.some((pre) => p === pre || p.startsWith(`${pre}/`));
}

const has = (list: string[] | undefined, v: string): boolean => list === undefined || list.includes('*') || list.includes(v);

function ruleAllows(rule: RbacRule, a: Attributes): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(a.verb)) return false;
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resOk =
    rule.resources.includes('*') ||
    rule.resources.includes(resource) ||
    (a.subresource !== '' && rule.resources.includes(`*/${a.subresource}`));
  if (!resOk) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) {
    if (!a.name || !rule.resourceNames.includes(a.name)) return false;
  }
  if (rule.namespaces && !rule.namespaces.includes('*')) {
    // A namespaced grant (RoleBinding) never covers cluster-scoped or all-namespace requests.
    if (!a.namespace || !rule.namespaces.includes(a.namespace)) return false;
  }
  return true;
}

/** Whether any of the user's rules allows the request (RBAC only allows; there is no deny). */
export function authorize(user: UserInfo, a: Attributes): boolean {
  if (user.rules === 'admin') return true;
  if (!a.isResourceRequest) return nonResourceAllowed(user, a.path);
  return user.rules.some((rule) => ruleAllows(rule, a));
}

/** The reason text of a 403, as the RBAC authorizer words it. */
export function forbiddenReason(user: UserInfo, a: Attributes): string {
  if (!a.isResourceRequest) return `User ${JSON.stringify(user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}
