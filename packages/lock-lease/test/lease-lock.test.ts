import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { PermissionDeniedError } from '@baton/core';
import { waitFor } from '@baton/contract';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer, RbacRule } from '@baton/fake-kube-apiserver';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { LeaderPodLabel, LeaseLock, LeaseLockFactory, leaseCodec } from '../src/index.ts';
import { FAST, runElector } from './elector-probe.ts';
import type { ElectorProbe } from './elector-probe.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/client-go-lease.json', import.meta.url), 'utf8'));
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const GROUP = 'coordination.k8s.io';

let fake: FakeApiServer;
let leases: LeaseLockFactory;
const probes: ElectorProbe[] = [];
let seq = 0;
const uniqueName = (): string => `lease-test-${process.pid}-${++seq}`;
const start = (lock: LeaseLock, wrap?: Parameters<typeof runElector>[1], timings?: Parameters<typeof runElector>[2]): ElectorProbe => {
  const probe = runElector(lock, wrap, timings);
  probes.push(probe);
  return probe;
};

beforeAll(async () => {
  fake = await startFakeApiServer();
  leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default' });
});
afterEach(async () => {
  fake.faults.reset();
  await Promise.all(probes.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await leases.close();
  await fake.stop();
});

describe('client-go interoperability', () => {
  test('a Lease written by client-go reads as the same record', () => {
    expect(leaseCodec.decode(fixture)).toEqual({
      holderIdentity: 'master-1_2f1e6a0c-5a4b-4f0e-9f0e-3c7b9d2b1a11',
      leaseDurationMs: 15_000,
      acquireTime: Date.parse('2026-11-20T10:00:00.123Z'),
      renewTime: Date.parse('2026-11-20T10:05:42.654Z'),
      leaderTransitions: 3,
      fencingToken: 0,
    });
  });

  test('a baton candidate respects a live client-go lease and counts the transition when it takes over', async () => {
    const name = uniqueName();
    fake.putObject({ ...fixture, metadata: { ...fixture.metadata, name, namespace: 'default' } });
    const baton = start(leases.lock(name, 'baton-1'));
    await waitFor(() => baton.elector.getLeader() === fixture.spec.holderIdentity, 5000, 'baton to see the Go leader');
    expect(baton.elector.isLeader()).toBe(false);
    // The Go leader's 15 s lease is never renewed here; shorten the wait by having "Go" release it.
    const api = fake.kubeConfig.makeApiClient(CoordinationV1Api);
    const current = await api.readNamespacedLease({ name, namespace: 'default' });
    current.spec!.holderIdentity = '';
    await api.replaceNamespacedLease({ name, namespace: 'default', body: current });
    await waitFor(() => baton.elector.isLeader(), 5000, 'baton to lead');
    const spec = (fake.getObject('leases', 'default', name, GROUP) as { spec: Record<string, unknown> }).spec;
    expect(spec.leaseTransitions).toBe(4);
  });

  test('a Lease written by baton has exactly the spec client-go reads', async () => {
    const name = uniqueName();
    const baton = start(leases.lock(name, 'baton-1'));
    await waitFor(() => baton.elector.isLeader(), 5000, 'baton to lead');
    const lease = fake.getObject('leases', 'default', name, GROUP) as { spec: Record<string, unknown> };
    expect(Object.keys(lease.spec).sort()).toEqual(['acquireTime', 'holderIdentity', 'leaseDurationSeconds', 'leaseTransitions', 'renewTime']);
    expect(lease.spec.holderIdentity).toBe('baton-1');
    expect(lease.spec.leaseDurationSeconds).toBe(2); // 1.2 s, rounded up for readers in seconds
    expect(lease.spec.acquireTime).toMatch(MICRO_TIME);
    expect(lease.spec.renewTime).toMatch(MICRO_TIME);
    expect(lease.spec.leaseTransitions).toBe(0);
  });
});

test('fields baton does not own survive every write', async () => {
  const name = uniqueName();
  fake.putObject({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'default', labels: { team: 'payments' }, annotations: { 'example.com/owner': 'ops' } },
    spec: { strategy: 'OldestEmulationVersion', preferredHolder: 'baton-2' },
  });
  const baton = start(leases.lock(name, 'baton-1'));
  await waitFor(() => (baton.elector.isLeader() ? true : false), 5000, 'baton to lead');
  const before = fake.resourceVersion();
  await waitFor(() => fake.resourceVersion() > before + 2, 5000, 'a few renewals');
  const lease = fake.getObject('leases', 'default', name, GROUP) as { metadata: Record<string, Record<string, string>>; spec: Record<string, unknown> };
  expect(lease.metadata.labels).toEqual({ team: 'payments' });
  expect(lease.metadata.annotations!['example.com/owner']).toBe('ops');
  expect(lease.spec.strategy).toBe('OldestEmulationVersion');
  expect(lease.spec.preferredHolder).toBe('baton-2');
});

describe('RBAC', () => {
  /** The Role in deploy/kubernetes/rbac.yaml, as the fake apiserver's rules. */
  const deployRules = (): RbacRule[] => {
    const docs = parseAllDocuments(readFileSync(new URL('../../../deploy/kubernetes/rbac.yaml', import.meta.url), 'utf8'));
    const role = docs.map((d) => d.toJS()).find((d) => d.kind === 'Role');
    return role.rules.map((r: RbacRule) => ({ ...r, namespaces: [role.metadata.namespace] }));
  };

  test('the manifests\' least-privilege Role is enough to lead, renew, watch, record events and label pods', async () => {
    const token = 'least-privilege';
    const server = await startFakeApiServer({ tokens: { [token]: { user: 'system:serviceaccount:default:my-app', rules: deployRules() } } });
    try {
      const kubeConfig = server.kubeConfigFor(token);
      server.putObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'my-app-1', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'x' }] } });
      const label = new LeaderPodLabel({ kubeConfig, namespace: 'default', podName: 'my-app-1' });
      const lock = new LeaseLockFactory({ kubeConfig, namespace: 'default' }).lock('my-app', 'my-app-1');
      const probe = start(lock, (callbacks) => label.wrap(callbacks));
      await waitFor(() => probe.elector.isLeader(), 5000, 'the elector to lead');
      await waitFor(() => server.listObjects('events', 'default').length > 0, 5000, 'an Event');
      await waitFor(
        () => (server.getObject('pods', 'default', 'my-app-1') as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['baton.dev/leader'] === 'true',
        5000,
        'the pod label',
      );
      const renewals = server.resourceVersion();
      await waitFor(() => server.resourceVersion() > renewals + 2, 5000, 'renewals');
      expect(probe.errors).toEqual([]);
      await probe.stop();
    } finally {
      await server.stop();
    }
  });

  test('without rights on the Lease: PermissionDeniedError, reported and retried, never a crash', async () => {
    const server = await startFakeApiServer({ tokens: { nobody: { user: 'nobody', rules: [] } } });
    try {
      const lock = new LeaseLockFactory({ kubeConfig: server.kubeConfigFor('nobody'), namespace: 'default' }).lock('my-app', 'x');
      await expect(lock.get()).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(lock.get()).rejects.toThrow(/forbidden/i);
      const probe = start(lock);
      await waitFor(() => probe.errors.length >= 2, 5000, 'repeated errors');
      expect(probe.errors.every((e) => e instanceof PermissionDeniedError)).toBe(true);
      expect(probe.elector.isLeader()).toBe(false);
      await probe.stop();
    } finally {
      await server.stop();
    }
  });
});

describe('faults', () => {
  const leaderAndFollower = async (timings?: Parameters<typeof runElector>[2]) => {
    const name = uniqueName();
    const a = start(leases.lock(name, 'a'), undefined, timings);
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    const b = start(leases.lock(name, 'b'), undefined, timings);
    await waitFor(() => b.elector.getLeader() === 'a', 5000, 'b to see a');
    return { name, a, b };
  };

  test('5xx on every write: the leader steps down by renewDeadline, and leads again once the server recovers', async () => {
    const name = uniqueName();
    const a = start(leases.lock(name, 'a'));
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    const failingAt = performance.now();
    fake.faults.setTarget({ verb: 'update', resource: 'leases' });
    fake.faults.setErrorRate(1, 503);
    await waitFor(() => !a.elector.isLeader(), 5000, 'a to step down');
    expect(performance.now() - failingAt).toBeLessThan(FAST.renewDeadline + 400);
    fake.faults.reset();
    await waitFor(() => a.terms.length === 2, 5000, 'a to lead again');
    expect(a.terms[1]!.fencingToken).toBeGreaterThan(a.terms[0]!.fencingToken);
  });

  // (Both candidates share the fake server's fault target, so after the heal either may lead;
  // the contract suite checks that a follower waits out the lease after a leader is cut off.)
  test('black-holed updates: the leader steps down by renewDeadline, and after the heal exactly one candidate leads', async () => {
    const { a, b } = await leaderAndFollower();
    const cutAt = performance.now();
    fake.faults.setTarget({ verb: 'update', resource: 'leases' });
    fake.faults.setBlackhole(true);
    await waitFor(() => !a.elector.isLeader(), 5000, 'a to step down');
    const steppedDown = performance.now();
    expect(steppedDown - cutAt).toBeLessThan(FAST.renewDeadline + 400);
    fake.faults.reset();
    await waitFor(() => a.elector.isLeader() || b.elector.isLeader(), 5000, 'a new leader');
    expect([a, b].filter((p) => p.elector.isLeader())).toHaveLength(1);
  });

  test('a dropped watch is resumed without missing a release (pushed: faster than polling could)', async () => {
    // A 3 s retryPeriod: polling would take 3–6.6 s to see the release; the resumed watch, milliseconds.
    const slow = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 3_000 };
    const { a, b } = await leaderAndFollower(slow);
    fake.faults.dropWatches();
    await a.stop();
    const releasedAt = performance.now();
    await waitFor(() => b.elector.isLeader(), 5000, 'b to take over');
    expect(performance.now() - releasedAt).toBeLessThan(1000);
  });

  test('an apiserver restart: the election carries on with one leader, and handover still works', async () => {
    const { a, b } = await leaderAndFollower();
    await fake.restart({ keepState: true });
    leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default' });
    await waitFor(() => [a, b].filter((p) => p.elector.isLeader()).length === 1, 5000, 'one leader after the restart');
    const leader = a.elector.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    await leader.stop();
    await waitFor(() => follower.elector.isLeader(), 5000, 'the follower to take over');
  });
});

test('Events record who became leader and who stopped', async () => {
  const name = uniqueName();
  const a = start(leases.lock(name, 'a'));
  await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
  await a.stop();
  const messages = () =>
    fake
      .listObjects('events', 'default')
      .filter((e) => (e as { involvedObject: { name: string } }).involvedObject.name === name)
      .map((e) => (e as { message: string; reason: string }).message);
  await waitFor(() => messages().length === 2, 5000, 'two events');
  expect(messages()).toEqual(['a became leader', 'a stopped leading']);
});

test('the leader label follows the leader through a handover and is cleared from a crashed one', async () => {
  const name = uniqueName();
  const pod = (podName: string, labels: Record<string, string> = {}) =>
    fake.putObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  pod(`${name}-1`);
  pod(`${name}-2`);
  pod(`${name}-crashed`, { 'baton.dev/leader': 'true' }); // left behind by a leader that died
  const labelled = () =>
    fake
      .listObjects('pods', 'default')
      .filter((p) => (p as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['baton.dev/leader'] === 'true')
      .map((p) => (p as { metadata: { name: string } }).metadata.name);
  const startPod = (podName: string) =>
    start(leases.lock(name, podName), (callbacks) =>
      new LeaderPodLabel({ kubeConfig: fake.kubeConfig, namespace: 'default', podName }).wrap(callbacks),
    );
  const first = startPod(`${name}-1`);
  await waitFor(() => first.elector.isLeader(), 5000, 'the first pod to lead');
  await waitFor(() => labelled().join() === `${name}-1`, 5000, 'the label on the first pod only');
  const second = startPod(`${name}-2`);
  await waitFor(() => second.elector.getLeader() === `${name}-1`, 5000, 'the second to follow');
  await first.stop();
  await waitFor(() => second.elector.isLeader(), 5000, 'the second pod to lead');
  await waitFor(() => labelled().join() === `${name}-2`, 5000, 'the label to move');
  const api = fake.kubeConfig.makeApiClient(CoreV1Api);
  expect((await api.readNamespacedPod({ name: `${name}-1`, namespace: 'default' })).metadata?.labels?.['baton.dev/leader']).toBeUndefined();
});
