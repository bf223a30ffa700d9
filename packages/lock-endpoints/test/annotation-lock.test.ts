import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { InvalidRecordError, LeaderElector, MultiLock } from '@baton/core';
import type { ResourceLock } from '@baton/core';
import { waitFor } from '@baton/contract';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { LeaseLockFactory } from '@baton/lock-lease';
import { AnnotationLockFactory, LEADER_ANNOTATION, annotationCodec } from '../src/index.ts';

/** Exactly what kube-controller-manager wrote on its Endpoints before Leases. */
const KCM_ANNOTATION =
  '{"holderIdentity":"master-1_6b3f4f0e-c2d4-11e8-9c6d-42010a800002","leaseDurationSeconds":15,"acquireTime":"2018-09-27T12:50:31Z","renewTime":"2018-09-28T09:51:35Z","leaderTransitions":2}';
const FAST = { leaseDuration: 1200, renewDeadline: 800, retryPeriod: 200 };

let fake: FakeApiServer;
let endpoints: AnnotationLockFactory;
let seq = 0;
const uniqueName = (): string => `annotation-test-${process.pid}-${++seq}`;
const endpointsObject = (name: string, annotation?: string) => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, namespace: 'default', annotations: { 'example.com/keep': 'me', ...(annotation ? { [LEADER_ANNOTATION]: annotation } : {}) } },
  subsets: [{ addresses: [{ ip: '10.0.0.7' }], ports: [{ port: 8080, protocol: 'TCP' }] }],
});

beforeAll(async () => {
  fake = await startFakeApiServer();
  endpoints = new AnnotationLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false });
});
afterAll(async () => {
  await fake.stop();
});

test('kube-controller-manager\'s annotation reads as its record', () => {
  const record = annotationCodec('endpoints kube-system/kcm').decode(endpointsObject('kcm', KCM_ANNOTATION));
  expect(record).toEqual({
    holderIdentity: 'master-1_6b3f4f0e-c2d4-11e8-9c6d-42010a800002',
    leaseDurationMs: 15_000,
    acquireTime: Date.parse('2018-09-27T12:50:31Z'),
    renewTime: Date.parse('2018-09-28T09:51:35Z'),
    leaderTransitions: 2,
    fencingToken: 0,
  });
});

test('baton writes client-go\'s fields first, in its order, and keeps other annotations and subsets', async () => {
  const name = uniqueName();
  fake.putObject(endpointsObject(name));
  const lock = endpoints.lock(name, 'baton-1');
  const free = (await lock.get())!;
  expect(free.record.holderIdentity).toBe('');
  const now = Date.UTC(2026, 10, 21, 12, 0, 0, 250);
  await lock.update({ holderIdentity: 'baton-1', leaseDurationMs: 15_000, acquireTime: now, renewTime: now, leaderTransitions: 1, fencingToken: 5 }, free.version);
  const stored = fake.getObject('endpoints', 'default', name) as ReturnType<typeof endpointsObject>;
  expect(stored.subsets).toEqual(endpointsObject(name).subsets);
  expect(stored.metadata.annotations['example.com/keep']).toBe('me');
  expect(stored.metadata.annotations[LEADER_ANNOTATION]).toBe(
    '{"holderIdentity":"baton-1","leaseDurationSeconds":15,"acquireTime":"2026-11-21T12:00:00.250Z","renewTime":"2026-11-21T12:00:00.250Z","leaderTransitions":1,"fencingToken":5,"leaseDurationMs":15000,"batonTerm":"1/baton-1"}',
  );
});

describe('a malformed annotation is an InvalidRecordError naming the object, and is never overwritten', () => {
  test.each([
    ['not JSON', '{holderIdentity: x', /is not JSON/],
    ['not an object', '[1,2]', /not a JSON object/],
    ['wrong types', '{"holderIdentity":7,"leaseDurationSeconds":15}', /holderIdentity must be a string, got 7/],
    ['a negative duration', '{"holderIdentity":"x","leaseDurationSeconds":-15}', /leaseDurationSeconds must be a positive integer, got -15/],
  ])('%s', async (_, annotation, message) => {
    const name = uniqueName();
    fake.putObject(endpointsObject(name, annotation));
    const lock = endpoints.lock(name, 'baton-1');
    const error = await lock.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect((error as Error).message).toMatch(new RegExp(`endpoints default/${name}`));
    expect((error as Error).message).toMatch(message);

    const errors: unknown[] = [];
    const stop = new AbortController();
    const run = new LeaderElector({ lock, ...FAST, onError: (e) => errors.push(e), callbacks: { onStartedLeading: () => {} } }).run(stop.signal);
    await waitFor(() => errors.length >= 3, 5000, 'the elector to report the record three times');
    stop.abort();
    await run;
    const stored = fake.getObject('endpoints', 'default', name) as ReturnType<typeof endpointsObject>;
    expect(stored.metadata.annotations[LEADER_ANNOTATION]).toBe(annotation);
  });
});

test('a fleet migrates from the Endpoints annotation to a Lease through MultiLock, never with two leaders', async () => {
  const name = uniqueName();
  const leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false });
  const replicas: Array<{ id: string; elector: LeaderElector; stop: AbortController; done: Promise<void> }> = [];
  // Counted at every start of a term, the only moment an overlap can begin — not sampled on a
  // timer, which a busy worker may not run (once no sample saw even the one leader).
  const leadersNow = () => replicas.filter((r) => r.elector.isLeader()).length;
  let maxLeaders = 0;
  const callbacks = {
    onStartedLeading: () => {
      maxLeaders = Math.max(maxLeaders, leadersNow());
    },
  };
  const launch = (id: string, lock: ResourceLock) => {
    const stop = new AbortController();
    const elector = new LeaderElector({ lock, ...FAST, callbacks });
    replicas.push({ id, elector, stop, done: elector.run(stop.signal) });
  };
  const retire = async (id: string) => {
    const replica = replicas.find((r) => r.id === id)!;
    replica.stop.abort();
    await replica.done;
    replicas.splice(replicas.indexOf(replica), 1);
  };
  const oneLeader = () => waitFor(() => leadersNow() === 1, 8000, 'one leader');
  try {
    // Old release: the annotation lock alone.
    launch('old-1', endpoints.lock(name, 'old-1'));
    launch('old-2', endpoints.lock(name, 'old-2'));
    await oneLeader();
    // Rolling update to the MultiLock release, one replica at a time.
    for (const [old, next] of [['old-1', 'mid-1'], ['old-2', 'mid-2']] as const) {
      await retire(old);
      launch(next, new MultiLock(endpoints.lock(name, next), leases.lock(name, next)));
      await oneLeader();
    }
    // Rolling update to the Lease-only release.
    for (const [mid, next] of [['mid-1', 'new-1'], ['mid-2', 'new-2']] as const) {
      await retire(mid);
      launch(next, leases.lock(name, next));
      await oneLeader();
    }
    expect(replicas.map((r) => r.id).sort()).toEqual(['new-1', 'new-2']);
    expect(maxLeaders).toBe(1);
  } finally {
    await Promise.all(replicas.map((r) => (r.stop.abort(), r.done)));
  }
}, 60_000);
