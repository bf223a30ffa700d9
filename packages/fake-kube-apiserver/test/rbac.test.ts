// Bearer tokens and RBAC: 401 and 403 Status objects as the real server words them, and the
// least-privilege rules a Lease-based leader elector needs.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, Watch } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer, type RbacRule } from '../src/index.ts';
import { apiError, raw } from './helpers.ts';

/** What client-go's LeaseLock needs, for one lease in one namespace. */
const electorRules: RbacRule[] = [
  { apiGroups: ['coordination.k8s.io'], verbs: ['get', 'update', 'watch', 'list'], resources: ['leases'], resourceNames: ['my-lock'], namespaces: ['apps'] },
  { apiGroups: ['coordination.k8s.io'], verbs: ['create'], resources: ['leases'], namespaces: ['apps'] },
  { apiGroups: [''], verbs: ['create', 'patch'], resources: ['events'], namespaces: ['apps'] },
];

let server: FakeApiServer;

beforeAll(async () => {
  server = await startFakeApiServer({
    autoCreateNamespaces: true,
    tokens: {
      'admin-token': 'admin',
      'elector-token': { user: 'system:serviceaccount:apps:elector', rules: electorRules },
      'reader-token': { user: 'reader', rules: [{ verbs: ['get', 'list', 'watch'], resources: ['*'] }] },
    },
  });
});
afterAll(async () => {
  await server.stop();
});

describe('authentication', () => {
  test('the configured admin token is the admin token', () => {
    expect(server.adminToken).toBe('admin-token');
  });

  test('an unknown token is 401 Unauthorized with a Status', async () => {
    const r = await raw(server, 'GET', '/api/v1/namespaces/default/configmaps', { token: 'wrong' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    const api = server.kubeConfigFor('wrong').makeApiClient(CoordinationV1Api);
    expect((await apiError(api.listNamespacedLease({ namespace: 'default' }))).code).toBe(401);
  });

  test('no credentials: system:anonymous, allowed /version and health, forbidden elsewhere', async () => {
    expect((await raw(server, 'GET', '/version', { token: null })).status).toBe(200);
    const health = await raw(server, 'GET', '/readyz', { token: null });
    expect([health.status, health.text]).toEqual([200, 'ok']);
    const api = await raw(server, 'GET', '/api', { token: null });
    expect(api.status).toBe(403);
    expect(api.json.message).toBe('forbidden: User "system:anonymous" cannot get path "/api"');
    const list = await raw(server, 'GET', '/api/v1/namespaces/default/pods', { token: null });
    expect(list.json.message).toBe('pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"');
  });

  test('anonymousAuth: false answers 401 to requests without credentials', async () => {
    const strict = await startFakeApiServer({ anonymousAuth: false });
    try {
      expect((await raw(strict, 'GET', '/version', { token: null })).status).toBe(401);
    } finally {
      await strict.stop();
    }
  });
});

describe('authorization', () => {
  test('an elector with least privilege can create, get, update and watch its lease, nothing more', async () => {
    const api = server.kubeConfigFor('elector-token').makeApiClient(CoordinationV1Api);
    const created = await api.createNamespacedLease({ namespace: 'apps', body: { metadata: { name: 'my-lock' }, spec: { holderIdentity: 'me' } } });
    const got = await api.readNamespacedLease({ name: 'my-lock', namespace: 'apps' });
    await api.replaceNamespacedLease({ name: 'my-lock', namespace: 'apps', body: { ...got, spec: { holderIdentity: 'me', leaseTransitions: 1 } } });
    // list/watch narrowed to the one name by a field selector are allowed by resourceNames.
    const one = await api.listNamespacedLease({ namespace: 'apps', fieldSelector: 'metadata.name=my-lock' });
    expect(one.items).toHaveLength(1);
    expect(created.metadata?.name).toBe('my-lock');

    const other = await apiError(api.readNamespacedLease({ name: 'other-lock', namespace: 'apps' }));
    expect(other.code).toBe(403);
    expect(other.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'leases.coordination.k8s.io "other-lock" is forbidden: User "system:serviceaccount:apps:elector" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "apps"',
      reason: 'Forbidden',
      details: { name: 'other-lock', group: 'coordination.k8s.io', kind: 'leases' },
      code: 403,
    });
    const unnamedList = await apiError(api.listNamespacedLease({ namespace: 'apps' }));
    expect(unnamedList.body.message).toBe(
      'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:apps:elector" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "apps"',
    );
    const deleteIt = await apiError(api.deleteNamespacedLease({ name: 'my-lock', namespace: 'apps' }));
    expect(deleteIt.code).toBe(403);
    const elsewhere = await apiError(api.readNamespacedLease({ name: 'my-lock', namespace: 'default' }));
    expect(elsewhere.code).toBe(403);
    const allNs = await apiError(api.listLeaseForAllNamespaces({}));
    expect(allNs.body.message).toContain('cannot list resource "leases" in API group "coordination.k8s.io" at the cluster scope');

    const core = server.kubeConfigFor('elector-token').makeApiClient(CoreV1Api);
    await core.createNamespacedEvent({ namespace: 'apps', body: { metadata: { name: 'e1' }, involvedObject: { kind: 'Lease', name: 'my-lock', namespace: 'apps' } } });
    const cm = await apiError(core.readNamespacedConfigMap({ name: 'x', namespace: 'apps' }));
    expect(cm.body.message).toBe('configmaps "x" is forbidden: User "system:serviceaccount:apps:elector" cannot get resource "configmaps" in API group "" in the namespace "apps"');
  });

  test('a watch narrowed to the named lease is allowed; discovery is allowed to any authenticated user', async () => {
    const kc = server.kubeConfigFor('elector-token');
    const seen: string[] = [];
    let resolveSeen: () => void = () => {};
    const gotOne = new Promise<void>((r) => (resolveSeen = r));
    const ctrl = await new Watch(kc).watch(
      '/apis/coordination.k8s.io/v1/namespaces/apps/leases',
      { fieldSelector: 'metadata.name=my-lock' },
      (type) => {
        seen.push(type);
        resolveSeen();
      },
      () => {},
    );
    await gotOne;
    expect(seen[0]).toBe('ADDED');
    ctrl.abort();
    const denied = await fetch(`${server.url}/apis/coordination.k8s.io/v1/namespaces/apps/leases?watch=1`, { headers: { Authorization: 'Bearer elector-token' } });
    expect(denied.status).toBe(403);
    await denied.text();
    expect((await raw(server, 'GET', '/apis/coordination.k8s.io/v1', { token: 'elector-token' })).status).toBe(200);
  });

  test('a read-only token reads everything everywhere and writes nothing', async () => {
    const api = server.kubeConfigFor('reader-token').makeApiClient(CoreV1Api);
    expect((await api.listNamespace()).items.length).toBeGreaterThan(0);
    const err = await apiError(api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'no' } } }));
    expect(err.code).toBe(403);
    expect(err.body.message).toBe('configmaps is forbidden: User "reader" cannot create resource "configmaps" in API group "" in the namespace "default"');
  });
});
