// Optimistic concurrency under parallel writers: of many writes carrying the same
// resourceVersion exactly one wins, and read-modify-write loops lose no update.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ApiException, CoordinationV1Api, PatchStrategy, setHeaderOptions, type V1Lease } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from '../src/index.ts';

let server: FakeApiServer;
let api: CoordinationV1Api;

beforeAll(async () => {
  server = await startFakeApiServer();
  // Plain http: client-node opens a connection per request, and TLS handshakes are not the point here.
  api = server.kubeConfigFor(server.adminToken, { https: false }).makeApiClient(CoordinationV1Api);
});
afterAll(async () => {
  await server.stop();
});

async function outcome(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
}

const count = (codes: number[], code: number): number => codes.filter((c) => c === code).length;

describe('parallel writers', () => {
  test('50 parallel updates with the same resourceVersion: exactly one succeeds, 49 get 409', async () => {
    const base = await api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'race' }, spec: { holderIdentity: 'none' } } });
    const codes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        outcome(api.replaceNamespacedLease({ name: 'race', namespace: 'default', body: { ...base, spec: { holderIdentity: `c${i}` } } })),
      ),
    );
    expect(count(codes, 200)).toBe(1);
    expect(count(codes, 409)).toBe(49);
    const winner = codes.indexOf(200);
    const final = await api.readNamespacedLease({ name: 'race', namespace: 'default' });
    expect(final.spec?.holderIdentity).toBe(`c${winner}`);
    expect(Number(final.metadata?.resourceVersion)).toBe(Number(base.metadata?.resourceVersion) + 1);
  });

  test('parallel JSON patches guarded by a test on resourceVersion: exactly one applies', async () => {
    const base = await api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'race-patch' }, spec: {} } });
    const codes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        outcome(
          api.patchNamespacedLease({
            name: 'race-patch',
            namespace: 'default',
            body: [
              { op: 'test', path: '/metadata/resourceVersion', value: base.metadata?.resourceVersion },
              { op: 'add', path: '/spec/holderIdentity', value: `p${i}` },
            ],
          }),
        ),
      ),
    );
    expect(count(codes, 200)).toBe(1);
    expect(count(codes, 422)).toBe(29);
  });

  test('parallel merge patches carrying the same resourceVersion: exactly one applies', async () => {
    const base = await api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'race-merge' }, spec: {} } });
    const codes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        outcome(
          api.patchNamespacedLease(
            { name: 'race-merge', namespace: 'default', body: { metadata: { resourceVersion: base.metadata?.resourceVersion }, spec: { holderIdentity: `m${i}` } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        ),
      ),
    );
    expect(count(codes, 200)).toBe(1);
    expect(count(codes, 409)).toBe(29);
  });

  test('parallel creates of one name: exactly one 201, the rest 409 AlreadyExists', async () => {
    const codes = await Promise.all(
      Array.from({ length: 20 }, () => outcome(api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'race-create' }, spec: {} } }))),
    );
    expect(count(codes, 200)).toBe(1);
    expect(count(codes, 409)).toBe(19);
  });

  test('read-modify-write loops with retry on conflict lose no update', async () => {
    await api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'counter' }, spec: { leaseTransitions: 0 } } });
    let conflicts = 0;
    const increment = async (): Promise<void> => {
      for (;;) {
        const cur: V1Lease = await api.readNamespacedLease({ name: 'counter', namespace: 'default' });
        const next = { ...cur, spec: { ...cur.spec, leaseTransitions: (cur.spec?.leaseTransitions ?? 0) + 1 } };
        const code = await outcome(api.replaceNamespacedLease({ name: 'counter', namespace: 'default', body: next }));
        if (code === 200) return;
        expect(code).toBe(409);
        conflicts++;
      }
    };
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 4; i++) await increment();
      }),
    );
    const final = await api.readNamespacedLease({ name: 'counter', namespace: 'default' });
    expect(final.spec?.leaseTransitions).toBe(24);
    expect(conflicts).toBeGreaterThan(0);
  });
});
