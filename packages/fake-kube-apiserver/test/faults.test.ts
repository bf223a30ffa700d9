// Fault injection through the programmatic handle, and stop/restart with or without state.

import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';
import { apiError, raw, WatchReader } from './helpers.ts';

let server: FakeApiServer;
let api: CoordinationV1Api;

beforeAll(async () => {
  server = await startFakeApiServer();
  api = server.kubeConfig.makeApiClient(CoordinationV1Api);
  await api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'f' }, spec: { holderIdentity: 'a' } } });
});
afterEach(() => {
  server.faults.reset();
});
afterAll(async () => {
  await server.stop();
});

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/default/leases/f';

describe('faults', () => {
  test('latency is added to every response', async () => {
    server.faults.setLatency(150);
    const started = performance.now();
    const r = await raw(server, 'GET', LEASE);
    expect(r.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  test('an error rate of 1 fails every request with the chosen status', async () => {
    server.faults.setErrorRate(1, 429, 7);
    const tooMany = await raw(server, 'GET', LEASE);
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers.get('retry-after')).toBe('7');
    expect(tooMany.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Too many requests, please try again later.',
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 7 },
      code: 429,
    });
    server.faults.setErrorRate(1, 500);
    const internal = await raw(server, 'GET', LEASE);
    expect([internal.status, internal.json.reason]).toEqual([500, 'InternalError']);
    server.faults.setErrorRate(1);
    const unavailable = await apiError(api.readNamespacedLease({ name: 'f', namespace: 'default' }));
    expect([unavailable.code, unavailable.body.reason]).toEqual([503, 'ServiceUnavailable']);
    server.faults.setErrorRate(0);
    expect((await raw(server, 'GET', LEASE)).status).toBe(200);
  });

  test('failNext fails exactly the next N requests', async () => {
    server.faults.failNext(2, 500);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await raw(server, 'GET', LEASE)).status);
    expect(codes).toEqual([500, 500, 200]);
  });

  test('a target restricts faults to matching requests (here: updates only)', async () => {
    server.faults.setTarget({ verb: 'update', resource: 'leases' });
    server.faults.setErrorRate(1, 503);
    const current = await api.readNamespacedLease({ name: 'f', namespace: 'default' });
    const err = await apiError(api.replaceNamespacedLease({ name: 'f', namespace: 'default', body: current }));
    expect(err.code).toBe(503);
    const injected = server.requests().filter((r) => r.injected === 'error');
    expect(injected.at(-1)).toMatchObject({ verb: 'update', resource: 'leases', name: 'f', user: 'admin', code: 503 });
    server.faults.setTarget((r) => r.userAgent.includes('never-matches'));
    expect((await raw(server, 'GET', LEASE)).status).toBe(200);
  });

  test('blackhole: requests are accepted and never answered; turning it off destroys them', async () => {
    server.faults.setBlackhole(true);
    const held = server.waitForRequest((r) => r.injected === 'blackhole');
    let settled = false;
    const pending = raw(server, 'GET', LEASE).then(
      () => 'answered',
      () => 'destroyed',
    );
    void pending.then(() => (settled = true));
    await held;
    expect(settled).toBe(false);
    server.faults.setBlackhole(false);
    expect(await pending).toBe('destroyed');
    expect((await raw(server, 'GET', LEASE)).status).toBe(200);
  });

  test('dropWatches ends open watch streams cleanly; closeConnections cuts them', async () => {
    const a = new WatchReader(server, '/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1');
    await a.waitFor(1);
    server.faults.dropWatches();
    await a.waitForEnd();
    const b = new WatchReader(server, '/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1');
    await b.waitFor(1);
    server.faults.closeConnections();
    await b.waitForEnd();
    expect(server.openWatchCount()).toBe(0);
  });
});

describe('stop and restart', () => {
  test('restart keeps state (objects and revision) on the same port by default; open watches end', async () => {
    const s = await startFakeApiServer();
    try {
      const c = s.kubeConfig.makeApiClient(CoordinationV1Api);
      const created = await c.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'keep' }, spec: {} } });
      const port = s.port;
      const watch = new WatchReader(s, '/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1');
      await watch.waitFor(1);
      await s.restart();
      await watch.waitForEnd();
      expect(s.port).toBe(port);
      const again = await c.readNamespacedLease({ name: 'keep', namespace: 'default' });
      expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
      const next = await c.replaceNamespacedLease({ name: 'keep', namespace: 'default', body: { ...again, spec: { holderIdentity: 'b' } } });
      expect(Number(next.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
      // A watch can resume across the restart from the resourceVersion it had.
      const resumed = new WatchReader(s, `/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1&resourceVersion=${created.metadata?.resourceVersion}`);
      await resumed.waitFor(1);
      expect(resumed.events[0]).toMatchObject({ type: 'MODIFIED' });
      await resumed.close();

      await s.restart({ keepState: false });
      expect((await apiError(c.readNamespacedLease({ name: 'keep', namespace: 'default' }))).code).toBe(404);
      expect((await raw(s, 'GET', '/api/v1/namespaces/default')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test('stop settles open watches and black-holed requests', async () => {
    const s = await startFakeApiServer();
    const watch = new WatchReader(s, '/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true');
    await watch.waitFor(1);
    s.faults.setTarget({ verb: 'get' });
    s.faults.setBlackhole(true);
    const held = raw(s, 'GET', '/api/v1/namespaces/default/configmaps/x').catch(() => 'destroyed');
    await s.waitForRequest((r) => r.injected === 'blackhole');
    const started = performance.now();
    await s.stop();
    expect(await held).toBe('destroyed');
    await watch.waitForEnd();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(s.openWatchCount()).toBe(0);
  });

  test('stop settles requests held by injected latency', async () => {
    const s = await startFakeApiServer();
    s.faults.setLatency(60_000);
    const arrived = s.waitForRequest((r) => r.verb === 'list', { arrived: true });
    const delayed = raw(s, 'GET', '/api/v1/namespaces/default/configmaps').catch(() => 'destroyed');
    await arrived;
    const started = performance.now();
    await s.stop();
    expect(await delayed).toBe('destroyed');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
