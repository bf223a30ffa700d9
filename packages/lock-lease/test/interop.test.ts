import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { InvalidRecordError } from '@baton/core';
import { waitFor } from '@baton/contract';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { readFileSync, readdirSync } from 'node:fs';
import { LEASE_DURATION_MS_ANNOTATION, LeaseLockFactory, TERM_ANNOTATION, leaseCodecFor } from '../src/index.ts';
import { ClientGoWriter, microNow } from './client-go-writer.ts';
import { runElector } from './elector-probe.ts';
import type { ElectorProbe } from './elector-probe.ts';

/** Record variants other clients write (test/fixtures/variants), as they would sit in a Lease's spec. */
const VARIANTS = new URL('./fixtures/variants/', import.meta.url);
const variants = readdirSync(VARIANTS).map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(file, VARIANTS), 'utf8'))] as const);
const asLease = (fields: Record<string, unknown>, annotations: Record<string, string> = {}) => {
  const { leaderTransitions, ...rest } = fields;
  return { metadata: { name: 'x', namespace: 'default', resourceVersion: '1', annotations }, spec: { ...rest, leaseTransitions: leaderTransitions } };
};

describe('records other clients write, read from a Lease', () => {
  test.each(variants)('%s', (_, variant) => {
    const record = leaseCodecFor('lease default/x').decode(asLease(variant.fields) as never);
    const { expected } = variant;
    expect(record).toEqual({
      holderIdentity: expected.holderIdentity,
      leaseDurationMs: expected.leaseDurationMs,
      acquireTime: Date.parse(expected.acquireTime),
      renewTime: Date.parse(expected.renewTime),
      leaderTransitions: expected.leaderTransitions,
      fencingToken: 0,
    });
  });

  test.each([
    ['leaseDurationSeconds', { leaseDurationSeconds: 'six' }, /spec\.leaseDurationSeconds must be a positive integer, got "six"/],
    ['leaseDurationSeconds', { leaseDurationSeconds: 0 }, /spec\.leaseDurationSeconds must be a positive integer, got 0/],
    ['renewTime', { renewTime: 'yesterday' }, /spec\.renewTime is not a time: "yesterday"/],
    ['leaseTransitions', { leaderTransitions: -1 }, /spec\.leaseTransitions must be a non-negative integer, got -1/],
  ])('a bad %s is an InvalidRecordError naming the field as written', (_, override, message) => {
    const fields = { holderIdentity: 'a', leaseDurationSeconds: 5, leaderTransitions: 0, ...override };
    expect(() => leaseCodecFor('lease default/x').decode(asLease(fields) as never)).toThrow(InvalidRecordError);
    expect(() => leaseCodecFor('lease default/x').decode(asLease(fields) as never)).toThrow(message);
  });

  test('baton\'s milliseconds count only for the term they were written for', () => {
    const fields = { holderIdentity: 'baton-1', leaseDurationSeconds: 6, leaderTransitions: 2 };
    const codec = leaseCodecFor('lease default/x');
    const read = (annotations: Record<string, string>) => (codec.decode(asLease(fields, annotations) as never) as { leaseDurationMs: number }).leaseDurationMs;
    expect(read({ [LEASE_DURATION_MS_ANNOTATION]: '5100', [TERM_ANNOTATION]: '2/baton-1' })).toBe(5100);
    expect(read({ [LEASE_DURATION_MS_ANNOTATION]: '5100', [TERM_ANNOTATION]: '1/baton-1' })).toBe(6000); // an earlier term
    expect(read({ [LEASE_DURATION_MS_ANNOTATION]: '5100', [TERM_ANNOTATION]: '2/baton-0' })).toBe(6000); // another holder
    expect(read({ [LEASE_DURATION_MS_ANNOTATION]: '5100' })).toBe(6000); // no mark: written before marks existed
  });
});

describe('a client-go elector takes over a Lease from baton', () => {
  let fake: FakeApiServer;
  let leases: LeaseLockFactory;
  const probes: ElectorProbe[] = [];
  beforeAll(async () => {
    fake = await startFakeApiServer();
    leases = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false });
  });
  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await leases.close();
    await fake.stop();
  });

  test('baton then waits the client-go holder\'s own leaseDurationSeconds, not its stale milliseconds', async () => {
    const name = `interop-${process.pid}`;
    // baton held it with 2.5 s (3 s in the spec, 2500 ms in the annotation)…
    const now = Date.now();
    await leases.lock(name, 'baton-1').create({ holderIdentity: 'baton-1', leaseDurationMs: 2500, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 7 });
    // …then a client-go elector with 3 s took over: it keeps the annotations it did not write.
    const writer = new ClientGoWriter(fake);
    const takenAt = performance.now();
    await writer.writeLease('default', name, { holderIdentity: 'go-1', leaseDurationSeconds: 3, acquireTime: microNow(), renewTime: microNow(), leaderTransitions: 1 });
    const stored = (await leases.lock(name, 'baton-2').get())!;
    expect(stored.record).toMatchObject({ holderIdentity: 'go-1', leaseDurationMs: 3000, leaderTransitions: 1, fencingToken: 7 });

    // The Go elector is killed and never renews: baton takes over after 3 s, not 2.5 s.
    const probe = runElector(leases.lock(name, 'baton-2'));
    probes.push(probe);
    await waitFor(() => probe.elector.isLeader(), 8_000, 'baton to take over');
    expect(performance.now() - takenAt).toBeGreaterThanOrEqual(3000);
    const after = (await leases.lock(name, 'baton-2').get())!.record;
    expect(after).toMatchObject({ holderIdentity: 'baton-2', leaderTransitions: 2, fencingToken: 8 });
  });
});
