// Leases through @kubernetes/client-node's CoordinationV1Api: every status code and field the
// real server produces for the calls a leader elector makes.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CoordinationV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type V1Lease,
} from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { apiError, MICROTIME, raw, RFC3339_SECONDS, UUID } from './helpers.ts';

let server: FakeApiServer;
let api: CoordinationV1Api;
const ns = 'leases-test';

beforeAll(async () => {
  // Each test works in a namespace of its own, created on first use.
  server = await startFakeApiServer({ autoCreateNamespaces: true });
  api = server.kubeConfig.makeApiClient(CoordinationV1Api);
});
afterAll(async () => {
  await server.stop();
});

let n = 0;
const uniqueName = (): string => `lease-${++n}`;

function lease(name: string, spec: V1Lease['spec'] = {}): V1Lease {
  return { metadata: { name }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, ...spec } };
}

describe('create', () => {
  test('201 with uid, creationTimestamp (RFC 3339 seconds), resourceVersion and MicroTimes', async () => {
    const name = uniqueName();
    const before = server.resourceVersion();
    const t = new V1MicroTime('2024-05-06T07:08:09.123Z');
    const created = await api.createNamespacedLease({
      namespace: ns,
      body: lease(name, { acquireTime: t, renewTime: t, leaseTransitions: 0 }),
    });
    expect(created.kind).toBe('Lease');
    expect(created.apiVersion).toBe('coordination.k8s.io/v1');
    expect(created.metadata?.uid).toMatch(UUID);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(before);
    expect(created.metadata?.namespace).toBe(ns);
    // client-node leaves MicroTime (and metav1.Time) fields as the strings the server sent.
    expect(String(created.spec?.renewTime)).toBe('2024-05-06T07:08:09.123000Z');
    expect(String(created.spec?.acquireTime)).toMatch(MICROTIME);
    const rawGet = await raw(server, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`);
    expect(rawGet.json.metadata.creationTimestamp).toMatch(RFC3339_SECONDS);
    // Leases have no generation on a real server (their strategy does not track one).
    expect(rawGet.json.metadata.generation).toBeUndefined();
    // Field order as Go encodes it.
    expect(Object.keys(rawGet.json)).toEqual(['kind', 'apiVersion', 'metadata', 'spec']);
    expect(Object.keys(rawGet.json.metadata)).toEqual(['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp']);
    expect(Object.keys(rawGet.json.spec)).toEqual(['holderIdentity', 'leaseDurationSeconds', 'acquireTime', 'renewTime', 'leaseTransitions']);
  });

  test('the namespace is created implicitly', async () => {
    await api.createNamespacedLease({ namespace: 'brand-new-ns', body: lease('x') });
    const nsObj = await raw(server, 'GET', '/api/v1/namespaces/brand-new-ns');
    expect(nsObj.status).toBe(200);
    expect(nsObj.json.status.phase).toBe('Active');
    expect(nsObj.json.metadata.labels['kubernetes.io/metadata.name']).toBe('brand-new-ns');
  });

  test('409 AlreadyExists with a proper Status', async () => {
    const name = uniqueName();
    await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    const err = await apiError(api.createNamespacedLease({ namespace: ns, body: lease(name) }));
    expect(err.code).toBe(409);
    expect(err.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `leases.coordination.k8s.io "${name}" already exists`,
      reason: 'AlreadyExists',
      details: { name, group: 'coordination.k8s.io', kind: 'leases' },
      code: 409,
    });
  });

  test('422 Invalid for leaseDurationSeconds <= 0 and negative leaseTransitions', async () => {
    const name = uniqueName();
    const err = await apiError(api.createNamespacedLease({ namespace: ns, body: lease(name, { leaseDurationSeconds: 0 }) }));
    expect(err.code).toBe(422);
    expect(err.body.reason).toBe('Invalid');
    expect(err.body.message).toBe(
      `Lease.coordination.k8s.io "${name}" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0`,
    );
    expect(err.body.details).toEqual({
      name,
      group: 'coordination.k8s.io',
      kind: 'Lease',
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'spec.leaseDurationSeconds' }],
    });

    const both = await apiError(
      api.createNamespacedLease({ namespace: ns, body: lease(name, { leaseDurationSeconds: -1, leaseTransitions: -2 }) }),
    );
    expect(both.code).toBe(422);
    expect(both.body.message).toBe(
      `Lease.coordination.k8s.io "${name}" is invalid: [spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0, spec.leaseTransitions: Invalid value: -2: must be greater than or equal to 0]`,
    );
    expect(both.body.details.causes).toHaveLength(2);
  });

  test('422 for a bad name, a preferredHolder without strategy, an unknown strategy', async () => {
    const bad = await apiError(api.createNamespacedLease({ namespace: ns, body: lease('Not_A_Name') }));
    expect(bad.code).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('metadata.name');
    expect(bad.body.message).toContain('a lowercase RFC 1123 subdomain must consist of');
    const holder = await apiError(api.createNamespacedLease({ namespace: ns, body: lease(uniqueName(), { preferredHolder: 'b' }) }));
    expect(holder.body.message).toContain('spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined');
    const strategy = await apiError(api.createNamespacedLease({ namespace: ns, body: lease(uniqueName(), { strategy: 'Newest' }) }));
    expect(strategy.body.message).toContain('spec.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"');
    const ok = await api.createNamespacedLease({
      namespace: ns,
      body: lease(uniqueName(), { strategy: 'OldestEmulationVersion', preferredHolder: 'b' }),
    });
    expect(ok.spec?.strategy).toBe('OldestEmulationVersion');
  });

  test('400 BadRequest for a MicroTime without six fractional digits (a plain Date)', async () => {
    // client-node serializes a plain Date with milliseconds; the real server rejects that.
    const err = await apiError(
      api.createNamespacedLease({ namespace: ns, body: lease(uniqueName(), { renewTime: new Date('2024-01-01T00:00:00.123Z') }) }),
    );
    expect(err.code).toBe(400);
    expect(err.body.reason).toBe('BadRequest');
    expect(err.body.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2024-01-01T00:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
  });

  test('400 for a wrongly typed field; unknown fields are dropped with a warning, or rejected when strict', async () => {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    const typed = await raw(server, 'POST', path, { body: { metadata: { name: uniqueName() }, spec: { leaseDurationSeconds: '15' } } });
    expect(typed.status).toBe(400);
    expect(typed.json.message).toContain('json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32');
    const name = uniqueName();
    const warn = await raw(server, 'POST', path, { body: { metadata: { name }, spec: { holderIdentity: 'a', holder: 'typo' } } });
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toBe('299 - "unknown field \\"spec.holder\\""');
    expect(warn.json.spec).toEqual({ holderIdentity: 'a' });
    const strict = await raw(server, 'POST', `${path}?fieldValidation=Strict`, {
      body: { metadata: { name: uniqueName() }, spec: { holder: 'typo' } },
    });
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('Lease in version "v1" cannot be handled as a Lease: strict decoding error: unknown field "spec.holder"');
  });

  test('500 when resourceVersion is set on create; generateName; dry run', async () => {
    const err = await apiError(
      api.createNamespacedLease({ namespace: ns, body: { metadata: { name: uniqueName(), resourceVersion: '5' }, spec: {} } }),
    );
    expect(err.code).toBe(500);
    expect(err.body.message).toBe('Internal error occurred: resourceVersion should not be set on objects to be created');
    const generated = await api.createNamespacedLease({ namespace: ns, body: { metadata: { generateName: 'gen-' }, spec: {} } });
    expect(generated.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
    const rv = server.resourceVersion();
    const dry = await api.createNamespacedLease({ namespace: ns, body: lease('dry-run-only'), dryRun: 'All' });
    expect(dry.metadata?.uid).toMatch(UUID);
    expect(server.resourceVersion()).toBe(rv);
    expect(server.getObject('leases', ns, 'dry-run-only')).toBeUndefined();
  });
});

describe('get and list', () => {
  test('404 NotFound with a proper Status', async () => {
    const err = await apiError(api.readNamespacedLease({ name: 'missing', namespace: ns }));
    expect(err.code).toBe(404);
    expect(err.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'leases.coordination.k8s.io "missing" not found',
      reason: 'NotFound',
      details: { name: 'missing', group: 'coordination.k8s.io', kind: 'leases' },
      code: 404,
    });
  });

  test('list carries the global resourceVersion; fieldSelector and labelSelector filter', async () => {
    const lns = 'list-test';
    await api.createNamespacedLease({ namespace: lns, body: { metadata: { name: 'a', labels: { app: 'x', tier: '1' } }, spec: {} } });
    await api.createNamespacedLease({ namespace: lns, body: { metadata: { name: 'b', labels: { app: 'y' } }, spec: {} } });
    await api.createNamespacedLease({ namespace: lns, body: { metadata: { name: 'c' }, spec: {} } });
    const all = await api.listNamespacedLease({ namespace: lns });
    expect(all.items.map((l) => l.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(all.metadata?.resourceVersion).toBe(String(server.resourceVersion()));
    const byName = await api.listNamespacedLease({ namespace: lns, fieldSelector: 'metadata.name=b' });
    expect(byName.items.map((l) => l.metadata?.name)).toEqual(['b']);
    const notB = await api.listNamespacedLease({ namespace: lns, fieldSelector: 'metadata.name!=b' });
    expect(notB.items.map((l) => l.metadata?.name)).toEqual(['a', 'c']);
    expect((await api.listNamespacedLease({ namespace: lns, labelSelector: 'app=x' })).items.map((l) => l.metadata?.name)).toEqual(['a']);
    expect((await api.listNamespacedLease({ namespace: lns, labelSelector: 'app in (x,y)' })).items).toHaveLength(2);
    expect((await api.listNamespacedLease({ namespace: lns, labelSelector: '!app' })).items.map((l) => l.metadata?.name)).toEqual(['c']);
    expect((await api.listNamespacedLease({ namespace: lns, labelSelector: 'app,tier=1' })).items.map((l) => l.metadata?.name)).toEqual(['a']);
    const across = await api.listLeaseForAllNamespaces({ fieldSelector: 'metadata.namespace=list-test' });
    expect(across.items).toHaveLength(3);
    const badField = await apiError(api.listNamespacedLease({ namespace: lns, fieldSelector: 'spec.holderIdentity=a' }));
    expect(badField.code).toBe(400);
    expect(badField.body.message).toBe('field label not supported: spec.holderIdentity');
    const badLabel = await apiError(api.listNamespacedLease({ namespace: lns, labelSelector: 'a in (' }));
    expect(badLabel.code).toBe(400);
  });

  test('list pagination with limit and continue; items carry no kind/apiVersion', async () => {
    const pns = 'page-test';
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await api.createNamespacedLease({ namespace: pns, body: lease(name) });
    const first = await raw(server, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${pns}/leases?limit=2`);
    expect(first.json.items.map((i: V1Lease) => i.metadata?.name)).toEqual(['p1', 'p2']);
    expect(first.json.items[0].kind).toBeUndefined();
    expect(first.json.metadata.remainingItemCount).toBe(3);
    const listRv = first.json.metadata.resourceVersion;
    // A change between pages is not seen: the continuation is a consistent snapshot.
    await api.deleteNamespacedLease({ name: 'p4', namespace: pns });
    const second = await api.listNamespacedLease({ namespace: pns, limit: 2, _continue: first.json.metadata.continue });
    expect(second.items.map((i) => i.metadata?.name)).toEqual(['p3', 'p4']);
    expect(second.metadata?.resourceVersion).toBe(listRv);
    const third = await api.listNamespacedLease({ namespace: pns, limit: 2, _continue: second.metadata?._continue });
    expect(third.items.map((i) => i.metadata?.name)).toEqual(['p5']);
    expect(third.metadata?._continue).toBeUndefined();
    // resourceVersionMatch=Exact serves the state as of that revision.
    const exact = await raw(server, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${pns}/leases?resourceVersion=${listRv}&resourceVersionMatch=Exact`);
    expect(exact.json.items).toHaveLength(5);
  });

  test('a read at a resourceVersion from the future waits for it to arrive', async () => {
    const current = server.resourceVersion();
    const pending = raw(server, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases?resourceVersion=${current + 1}`);
    await api.createNamespacedLease({ namespace: ns, body: lease(uniqueName()) });
    expect((await pending).status).toBe(200);
  });
});

describe('update (PUT)', () => {
  test('with the current resourceVersion: 200 and a larger resourceVersion; stale: 409 Conflict', async () => {
    const name = uniqueName();
    const created = await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    const rv1 = created.metadata!.resourceVersion!;
    const updated = await api.replaceNamespacedLease({
      name,
      namespace: ns,
      body: { ...created, spec: { ...created.spec, holderIdentity: 'b', leaseTransitions: 1 } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(rv1));
    expect(updated.metadata?.uid).toBe(created.metadata?.uid);
    expect(updated.metadata?.creationTimestamp).toEqual(created.metadata?.creationTimestamp);
    const err = await apiError(
      api.replaceNamespacedLease({ name, namespace: ns, body: { ...created, spec: { ...created.spec, holderIdentity: 'c' } } }),
    );
    expect(err.code).toBe(409);
    expect(err.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      reason: 'Conflict',
      details: { name, group: 'coordination.k8s.io', kind: 'leases' },
      code: 409,
    });
  });

  test('a Lease PUT without resourceVersion is 422 (leases do not allow unconditional updates)', async () => {
    const name = uniqueName();
    await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    const err = await apiError(api.replaceNamespacedLease({ name, namespace: ns, body: lease(name, { holderIdentity: 'z' }) }));
    expect(err.code).toBe(422);
    expect(err.body.message).toBe(
      `leases.coordination.k8s.io "${name}" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update`,
    );
  });

  test('a PUT to a missing Lease creates it (201), as AllowCreateOnUpdate does', async () => {
    const name = uniqueName();
    const r = await raw(server, 'PUT', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`, { body: lease(name) });
    expect(r.status).toBe(201);
    expect(r.json.metadata.uid).toMatch(UUID);
  });

  test('a write that changes nothing keeps the resourceVersion', async () => {
    const name = uniqueName();
    const created = await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    const same = await api.replaceNamespacedLease({ name, namespace: ns, body: created });
    expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  test('400 when the body name differs from the URL; 409 on a uid mismatch', async () => {
    const name = uniqueName();
    const created = await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    const wrongName = await apiError(api.replaceNamespacedLease({ name, namespace: ns, body: { ...created, metadata: { ...created.metadata, name: 'other' } } }));
    expect(wrongName.code).toBe(400);
    expect(wrongName.body.message).toBe(`the name of the object (other) does not match the name on the URL (${name})`);
    const wrongUid = await apiError(
      api.replaceNamespacedLease({ name, namespace: ns, body: { ...created, metadata: { ...created.metadata, uid: '00000000-0000-0000-0000-000000000000' } } }),
    );
    expect(wrongUid.code).toBe(409);
    expect(wrongUid.body.message).toContain('Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000');
  });
});

describe('patch', () => {
  test('merge patch, JSON patch (with a test op as compare-and-swap) and strategic merge', async () => {
    const name = uniqueName();
    const created = await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    const merged = await api.patchNamespacedLease(
      { name, namespace: ns, body: { spec: { holderIdentity: 'merged' }, metadata: { labels: { a: '1' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.spec?.holderIdentity).toBe('merged');
    expect(merged.spec?.leaseDurationSeconds).toBe(15);
    expect(merged.metadata?.labels).toEqual({ a: '1' });

    // client-node's default patch type is JSON patch.
    const jsonPatched = await api.patchNamespacedLease({
      name,
      namespace: ns,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: merged.metadata?.resourceVersion },
        { op: 'replace', path: '/spec/holderIdentity', value: 'json' },
      ],
    });
    expect(jsonPatched.spec?.holderIdentity).toBe('json');
    const failedTest = await apiError(
      api.patchNamespacedLease({
        name,
        namespace: ns,
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: created.metadata?.resourceVersion },
          { op: 'replace', path: '/spec/holderIdentity', value: 'never' },
        ],
      }),
    );
    expect(failedTest.code).toBe(422);

    // A resourceVersion inside a merge patch is a precondition: stale means 409.
    const stale = await apiError(
      api.patchNamespacedLease(
        { name, namespace: ns, body: { metadata: { resourceVersion: created.metadata?.resourceVersion }, spec: { holderIdentity: 'x' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(stale.code).toBe(409);

    const strategic = await api.patchNamespacedLease(
      { name, namespace: ns, body: { metadata: { finalizers: ['example.com/f'] }, spec: { leaseTransitions: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.leaseTransitions).toBe(3);
    expect(strategic.metadata?.finalizers).toEqual(['example.com/f']);

    const invalidPatch = await apiError(
      api.patchNamespacedLease(
        { name, namespace: ns, body: { spec: { leaseDurationSeconds: 0 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(invalidPatch.code).toBe(422);
    const missing = await apiError(
      api.patchNamespacedLease({ name: 'nope', namespace: ns, body: { spec: {} } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    expect(missing.code).toBe(404);
  });

  test('server-side apply creates and updates; it needs a fieldManager', async () => {
    const name = uniqueName();
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: 'ssa' } };
    const noManager = await apiError(
      api.patchNamespacedLease({ name, namespace: ns, body }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply)),
    );
    expect(noManager.code).toBe(422);
    const created = await api.patchNamespacedLease(
      { name, namespace: ns, body, fieldManager: 'test' },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(created.spec?.holderIdentity).toBe('ssa');
    const updated = await api.patchNamespacedLease(
      { name, namespace: ns, body: { ...body, spec: { leaseDurationSeconds: 9 } }, fieldManager: 'test' },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(updated.spec).toEqual({ holderIdentity: 'ssa', leaseDurationSeconds: 9 });
  });
});

describe('delete', () => {
  test('Success Status; then 404; a stale resourceVersion precondition is 409', async () => {
    const name = uniqueName();
    const created = await api.createNamespacedLease({ namespace: ns, body: lease(name) });
    await api.replaceNamespacedLease({ name, namespace: ns, body: { ...created, spec: { holderIdentity: 'moved' } } });
    const stale = await apiError(
      api.deleteNamespacedLease({ name, namespace: ns, body: { preconditions: { resourceVersion: created.metadata?.resourceVersion } } }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body.message).toContain('Precondition failed: ResourceVersion in precondition');
    const status = await api.deleteNamespacedLease({ name, namespace: ns });
    expect(status).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Success',
      details: { name, group: 'coordination.k8s.io', kind: 'leases', uid: created.metadata?.uid },
    });
    expect((await apiError(api.deleteNamespacedLease({ name, namespace: ns }))).code).toBe(404);
  });

  test('an object with finalizers is marked for deletion and goes when they are removed', async () => {
    const name = uniqueName();
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name, finalizers: ['example.com/hold'] }, spec: {} } });
    await api.deleteNamespacedLease({ name, namespace: ns });
    const marked = await api.readNamespacedLease({ name, namespace: ns });
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    await api.patchNamespacedLease(
      { name, namespace: ns, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect((await apiError(api.readNamespacedLease({ name, namespace: ns }))).code).toBe(404);
  });

  test('deletecollection by label', async () => {
    const dns = 'delete-collection';
    await api.createNamespacedLease({ namespace: dns, body: { metadata: { name: 'k1', labels: { kill: 'yes' } }, spec: {} } });
    await api.createNamespacedLease({ namespace: dns, body: { metadata: { name: 'k2', labels: { kill: 'yes' } }, spec: {} } });
    await api.createNamespacedLease({ namespace: dns, body: { metadata: { name: 'k3' }, spec: {} } });
    await api.deleteCollectionNamespacedLease({ namespace: dns, labelSelector: 'kill=yes' });
    expect((await api.listNamespacedLease({ namespace: dns })).items.map((l) => l.metadata?.name)).toEqual(['k3']);
  });
});
