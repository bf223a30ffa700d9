// core/v1 (Endpoints, ConfigMaps, Pods, Services, Namespaces, Events) and events.k8s.io/v1 through
// @kubernetes/client-node: the registry behaviours that differ by kind.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CoreV1Api,
  EventsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type CoreV1Event,
  type EventsV1Event,
  type V1Lease,
} from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { apiError, raw, RFC3339_SECONDS } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;
let events: EventsV1Api;

beforeAll(async () => {
  server = await startFakeApiServer();
  core = server.kubeConfig.makeApiClient(CoreV1Api);
  events = server.kubeConfig.makeApiClient(EventsV1Api);
});
afterAll(async () => {
  await server.stop();
});

const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

describe('Endpoints (the legacy annotation lock)', () => {
  test('create, conditional and unconditional update, create-on-update, deprecation warning', async () => {
    const record = JSON.stringify({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2024-01-01T00:00:00Z', renewTime: '2024-01-01T00:00:00Z', leaderTransitions: 0 });
    const created = await core.createNamespacedEndpoints({
      namespace: 'default',
      body: { metadata: { name: 'lock', annotations: { [LEADER_ANNOTATION]: record } } },
    });
    expect(created.metadata?.annotations?.[LEADER_ANNOTATION]).toBe(record);
    expect(created.subsets).toBeUndefined();
    const stale = { ...created };
    const updated = await core.replaceNamespacedEndpoints({
      name: 'lock',
      namespace: 'default',
      body: { ...created, metadata: { ...created.metadata, annotations: { [LEADER_ANNOTATION]: '{}' } } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    expect((await apiError(core.replaceNamespacedEndpoints({ name: 'lock', namespace: 'default', body: stale }))).code).toBe(409);
    // Endpoints allow unconditional updates: no resourceVersion overwrites.
    const unconditional = await core.replaceNamespacedEndpoints({
      name: 'lock',
      namespace: 'default',
      body: { metadata: { name: 'lock', annotations: { x: 'y' } } },
    });
    expect(unconditional.metadata?.annotations).toEqual({ x: 'y' });
    const r = await raw(server, 'PUT', '/api/v1/namespaces/default/endpoints/fresh', {
      body: { metadata: { name: 'fresh' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] },
    });
    expect(r.status).toBe(201);
    expect(r.json.subsets[0].ports[0]).toEqual({ port: 80, protocol: 'TCP' });
    expect(r.headers.get('warning')).toBe('299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"');
    const bad = await raw(server, 'POST', '/api/v1/namespaces/default/endpoints', {
      body: { metadata: { name: 'bad' }, subsets: [{ addresses: [{ ip: 'nope' }], ports: [{ port: 0 }] }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.details.causes.map((c: { field: string }) => c.field)).toEqual(['subsets[0].addresses[0].ip', 'subsets[0].ports[0].port']);
  });
});

describe('ConfigMaps', () => {
  test('unconditional PUT, 404 on a PUT to a missing one, immutability, key validation', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm' }, data: { a: '1' } } });
    const replaced = await core.replaceNamespacedConfigMap({ name: 'cm', namespace: 'default', body: { metadata: { name: 'cm' }, data: { b: '2' } } });
    expect(replaced.data).toEqual({ b: '2' });
    const missing = await apiError(core.replaceNamespacedConfigMap({ name: 'nope', namespace: 'default', body: { metadata: { name: 'nope' } } }));
    expect(missing.code).toBe(404);
    expect(missing.body.message).toBe('configmaps "nope" not found');
    expect(missing.body.details).toEqual({ name: 'nope', kind: 'configmaps' });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'frozen' }, immutable: true, data: { a: '1' } } });
    const frozen = await apiError(
      core.patchNamespacedConfigMap({ name: 'frozen', namespace: 'default', body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    expect(frozen.code).toBe(422);
    expect(frozen.body.message).toContain('data: Forbidden: field is immutable when `immutable` is set');
    const badKey = await apiError(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'k' }, data: { 'a b': 'x' } } }));
    expect(badKey.code).toBe(422);
    expect(badKey.body.details.causes[0].field).toBe('data[a b]');
  });
});

describe('Pods and Services', () => {
  test('a Pod is defaulted, Pending, tracks generation, keeps its status, and is returned on delete', async () => {
    const pod = await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] }, status: { phase: 'Running' } },
    });
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.metadata?.generation).toBe(1);
    expect(pod.spec?.restartPolicy).toBe('Always');
    expect(pod.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    const updated = await core.patchNamespacedPod(
      { name: 'p', namespace: 'default', body: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(updated.metadata?.generation).toBe(2);
    expect(updated.spec?.containers[0]?.image).toBe('busybox:1.37');
    const immutable = await apiError(
      core.patchNamespacedPod(
        { name: 'p', namespace: 'default', body: { spec: { restartPolicy: 'Never' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(immutable.code).toBe(422);
    expect(immutable.body.message).toContain('pod updates may not change fields other than');
    const invalid = await apiError(core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'q' }, spec: { containers: [] } } }));
    expect(invalid.body.message).toContain('spec.containers: Required value');
    const deleted = await core.deleteNamespacedPod({ name: 'p', namespace: 'default' });
    expect(deleted.kind).toBe('Pod');
    expect(deleted.metadata?.name).toBe('p');
  });

  test('a Service gets a ClusterIP that a later update cannot change', async () => {
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'svc' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(svc.spec?.ports?.[0]).toMatchObject({ port: 80, protocol: 'TCP', targetPort: 80 });
    const kept = await core.replaceNamespacedService({ name: 'svc', namespace: 'default', body: { metadata: { name: 'svc' }, spec: { ports: [{ port: 81 }] } } });
    expect(kept.spec?.clusterIP).toBe(svc.spec?.clusterIP);
    const changed = await apiError(
      core.replaceNamespacedService({ name: 'svc', namespace: 'default', body: { metadata: { name: 'svc' }, spec: { clusterIP: '10.96.200.200', ports: [{ port: 81 }] } } }),
    );
    expect(changed.code).toBe(422);
    const badName = await apiError(core.createNamespacedService({ namespace: 'default', body: { metadata: { name: '1svc' }, spec: { ports: [{ port: 1 }] } } }));
    expect(badName.body.message).toContain('a DNS-1035 label must consist of');
  });
});

describe('Namespaces', () => {
  test('the default namespaces exist; deleting a namespace deletes what is in it', async () => {
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'c' } } });
    const deleted = await core.deleteNamespace({ name: 'doomed' });
    expect((deleted as { status?: { phase?: string } }).status?.phase).toBe('Terminating');
    expect((await apiError(core.readNamespacedConfigMap({ name: 'c', namespace: 'doomed' }))).code).toBe(404);
    expect((await apiError(core.readNamespace({ name: 'doomed' }))).code).toBe(404);
    const dup = await apiError(core.createNamespace({ body: { metadata: { name: 'default' } } }));
    expect(dup.body.message).toBe('namespaces "default" already exists');
  });

  test('namespaces are strict by default: create in a missing one is 404, get is the object\'s NotFound', async () => {
    const created = await apiError(core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'c' } } }));
    expect(created.code).toBe(404);
    expect(created.body.message).toBe('namespaces "ghost" not found');
    expect(created.body.details).toEqual({ name: 'ghost', kind: 'namespaces' });
    const read = await apiError(core.readNamespacedConfigMap({ name: 'c', namespace: 'ghost' }));
    expect(read.code).toBe(404);
    expect(read.body.message).toBe('configmaps "c" not found');
    const list = await core.listNamespacedConfigMap({ namespace: 'ghost' });
    expect(list.items).toEqual([]);
  });

  test('autoCreateNamespaces (and the older strictNamespaces: false): create makes the namespace', async () => {
    for (const options of [{ autoCreateNamespaces: true }, { strictNamespaces: false }]) {
      const lenient = await startFakeApiServer(options);
      try {
        const api = lenient.kubeConfig.makeApiClient(CoreV1Api);
        await api.createNamespacedConfigMap({ namespace: 'made', body: { metadata: { name: 'c' } } });
        expect((await api.readNamespace({ name: 'made' })).metadata?.labels).toEqual({ 'kubernetes.io/metadata.name': 'made' });
      } finally {
        await lenient.stop();
      }
    }
  });
});

describe('Events: core/v1 and events.k8s.io/v1 are one set of objects', () => {
  test('a core Event is visible through events.k8s.io, converted', async () => {
    const created = await core.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { name: 'lease-a.1' },
        involvedObject: { kind: 'Lease', name: 'lease-a', namespace: 'default', apiVersion: 'coordination.k8s.io/v1' },
        reason: 'LeaderElection',
        message: 'a became leader',
        source: { component: 'baton' },
        firstTimestamp: new Date('2024-01-01T00:00:00Z'),
        lastTimestamp: new Date('2024-01-01T00:00:00Z'),
        count: 1,
        type: 'Normal',
      } as CoreV1Event,
    });
    expect(created.message).toBe('a became leader');
    const rawCore = await raw(server, 'GET', '/api/v1/namespaces/default/events/lease-a.1');
    // Go encodes the zero eventTime as null and the reporting fields as empty strings.
    expect(rawCore.json.eventTime).toBeNull();
    expect(rawCore.json.reportingComponent).toBe('');
    expect(rawCore.json.firstTimestamp).toMatch(RFC3339_SECONDS);
    const viaNew = await events.readNamespacedEvent({ name: 'lease-a.1', namespace: 'default' });
    expect(viaNew.apiVersion).toBe('events.k8s.io/v1');
    expect(viaNew.note).toBe('a became leader');
    expect(viaNew.regarding?.name).toBe('lease-a');
    expect(viaNew.deprecatedSource?.component).toBe('baton');
    expect(viaNew.deprecatedCount).toBe(1);
    const byObject = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=lease-a,reason=LeaderElection' });
    expect(byObject.items).toHaveLength(1);
  });

  test('an events.k8s.io Event is validated by the new rules and visible through core/v1', async () => {
    const body: EventsV1Event = {
      metadata: { name: 'lease-b.1' },
      eventTime: new V1MicroTime('2024-01-01T00:00:00.000Z'),
      reportingController: 'baton.dev/elector',
      reportingInstance: 'pod-1',
      action: 'Acquire',
      reason: 'LeaderElection',
      note: 'b became leader',
      type: 'Normal',
      regarding: { kind: 'Lease', name: 'lease-b', namespace: 'default' },
    };
    const created = await events.createNamespacedEvent({ namespace: 'default', body });
    expect(created.note).toBe('b became leader');
    expect(String(created.eventTime)).toBe('2024-01-01T00:00:00.000000Z');
    const viaCore = await core.readNamespacedEvent({ name: 'lease-b.1', namespace: 'default' });
    expect(viaCore.message).toBe('b became leader');
    expect(viaCore.reportingComponent).toBe('baton.dev/elector');
    const list = await events.listNamespacedEvent({ namespace: 'default' });
    expect(list.items.map((e) => e.metadata?.name)).toEqual(expect.arrayContaining(['lease-a.1', 'lease-b.1']));
    const missing = await apiError(
      events.createNamespacedEvent({ namespace: 'default', body: { metadata: { name: 'bad' }, eventTime: new V1MicroTime(), type: 'Odd' } as EventsV1Event }),
    );
    expect(missing.code).toBe(422);
    const fields = missing.body.details.causes.map((c: { field: string }) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['reportingController', 'reportingInstance', 'action', 'reason', 'type']));
  });
});

describe('discovery-driven clients', () => {
  test('KubernetesObjectApi finds resources through discovery and works generically', async () => {
    const client = KubernetesObjectApi.makeApiClient(server.kubeConfig);
    const lease: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'generic', namespace: 'default' },
      spec: { holderIdentity: 'g' },
    };
    const created = await client.create(lease);
    expect(created.metadata?.uid).toBeDefined();
    const read = await client.read({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'generic', namespace: 'default' } });
    expect((read as { spec?: { holderIdentity?: string } }).spec?.holderIdentity).toBe('g');
    const ns = await client.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    expect(ns.metadata?.name).toBe('default');
    await client.delete({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'generic', namespace: 'default' } });
  });

  test('the written kubeconfig file loads in client-node (https, the CA embedded); plain http works too', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    expect(kc.getCurrentCluster()?.server).toBe(server.httpsUrl);
    const list = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(list.items.length).toBeGreaterThan(0);
    const plain = server.kubeConfigFor(server.adminToken, { https: false });
    expect(plain.getCurrentCluster()?.server).toBe(server.url);
    expect((await plain.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })).metadata?.name).toBe('default');
  });

  test('discovery documents', async () => {
    const version = await raw(server, 'GET', '/version');
    expect(version.json).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.0' });
    const api = await raw(server, 'GET', '/api');
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = await raw(server, 'GET', '/apis');
    expect(groups.json.groups.map((g: { name: string }) => g.name)).toEqual(['coordination.k8s.io', 'events.k8s.io']);
    const coordination = await raw(server, 'GET', '/apis/coordination.k8s.io/v1');
    expect(coordination.json.resources).toEqual([
      expect.objectContaining({ name: 'leases', singularName: 'lease', namespaced: true, kind: 'Lease', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
    ]);
    const core = await raw(server, 'GET', '/api/v1');
    expect(core.json.resources.map((r: { name: string }) => r.name)).toEqual(['configmaps', 'endpoints', 'events', 'namespaces', 'pods', 'services']);
    expect((await raw(server, 'GET', '/apis/apps/v1')).status).toBe(404);
    expect((await raw(server, 'GET', '/apis/apps/v1/namespaces/default/deployments')).status).toBe(404);
    const notFound = await raw(server, 'GET', '/api/v1/namespaces/default/secrets');
    expect(notFound.json).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });
});
