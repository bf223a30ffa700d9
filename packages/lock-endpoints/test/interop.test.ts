import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { InvalidRecordError } from '@baton/core';
import { waitFor } from '@baton/contract';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { readFileSync, readdirSync } from 'node:fs';
import { ClientGoWriter } from '../../lock-lease/test/client-go-writer.ts';
import { runElector } from '../../lock-lease/test/elector-probe.ts';
import type { ElectorProbe } from '../../lock-lease/test/elector-probe.ts';
import { AnnotationLockFactory, LEADER_ANNOTATION, annotationCodec } from '../src/index.ts';

/** The record variants of lock-lease's fixtures, as annotation JSON. */
const VARIANTS = new URL('../../lock-lease/test/fixtures/variants/', import.meta.url);
const variants = readdirSync(VARIANTS).map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(file, VARIANTS), 'utf8'))] as const);
const withAnnotation = (value: unknown) => ({
  metadata: { name: 'x', namespace: 'default', resourceVersion: '1', annotations: { [LEADER_ANNOTATION]: JSON.stringify(value) } },
});
/** A foreign takeover that kept baton's fields (see the fixture's `writer`). */
const keptFields = JSON.parse(readFileSync(new URL('./fixtures/foreign-kept-baton-fields.json', import.meta.url), 'utf8')) as {
  before: Record<string, unknown>;
  fields: Record<string, unknown>;
  expected: { holderIdentity: string; leaseDurationMs: number; leaderTransitions: number; fencingToken: number };
};

describe('records other clients write, read from the leader annotation', () => {
  test.each(variants)('%s', (_, variant) => {
    const { expected } = variant;
    expect(annotationCodec('configmap default/x').decode(withAnnotation(variant.fields))).toEqual({
      holderIdentity: expected.holderIdentity,
      leaseDurationMs: expected.leaseDurationMs,
      acquireTime: Date.parse(expected.acquireTime),
      renewTime: Date.parse(expected.renewTime),
      leaderTransitions: expected.leaderTransitions,
      fencingToken: 0,
    });
  });

  test('an unreadable field is named as written', () => {
    const decode = () => annotationCodec('configmap default/x').decode(withAnnotation({ holderIdentity: 'py-1', leaseDurationSeconds: 'soon' }));
    expect(decode).toThrow(InvalidRecordError);
    expect(decode).toThrow(/configmap default\/x: invalid leader election record: leaseDurationSeconds must be a positive integer, got "soon"/);
  });
});

describe('baton\'s milliseconds in the annotation count only for the term they were written for', () => {
  const codec = annotationCodec('endpoints default/x');
  const leaseMs = (value: Record<string, unknown>) => (codec.decode(withAnnotation(value)) as { leaseDurationMs: number }).leaseDurationMs;

  test('a foreign holder that kept baton\'s fields is judged by its leaseDurationSeconds', () => {
    expect(leaseMs(keptFields.before)).toBe(2500); // baton's own term
    expect(codec.decode(withAnnotation({ ...keptFields.before, ...keptFields.fields }))).toMatchObject(keptFields.expected);
  });

  test.each([
    ['another holder, same transitions', '1/baton-0', 3000],
    ['the same holder, an earlier term', '0/baton-1', 3000],
    ['no mark (written before marks existed)', undefined, 3000],
    ['the record\'s own term', '1/baton-1', 2500],
  ])('%s', (_, batonTerm, expected) => {
    expect(leaseMs({ holderIdentity: 'baton-1', leaseDurationSeconds: 3, leaderTransitions: 1, leaseDurationMs: 2500, batonTerm })).toBe(expected);
  });
});

describe.each(['endpoints', 'configmap'] as const)('foreign electors on %s', (kind) => {
  let fake: FakeApiServer;
  let locks: AnnotationLockFactory;
  const probes: ElectorProbe[] = [];
  const plural = kind === 'endpoints' ? 'endpoints' : 'configmaps';
  let seq = 0;
  const uniqueName = () => `interop-${kind}-${process.pid}-${++seq}`;
  beforeAll(async () => {
    fake = await startFakeApiServer();
    locks = new AnnotationLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', kind, events: false });
  });
  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await locks.close();
    await fake.stop();
  });

  test('after a client-go takeover baton waits the Go holder\'s leaseDurationSeconds, not its own old milliseconds', async () => {
    const name = uniqueName();
    const now = Date.now();
    await locks.lock(name, 'baton-1').create({ holderIdentity: 'baton-1', leaseDurationMs: 2500, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 7 });
    const takenAt = performance.now();
    const iso = new Date().toISOString();
    await new ClientGoWriter(fake).writeAnnotation('default', plural, name, { holderIdentity: 'go-1', leaseDurationSeconds: 3, acquireTime: iso, renewTime: iso, leaderTransitions: 1 });
    expect((await locks.lock(name, 'baton-2').get())!.record).toMatchObject({ holderIdentity: 'go-1', leaseDurationMs: 3000 });
    const probe = runElector(locks.lock(name, 'baton-2'));
    probes.push(probe);
    await waitFor(() => probe.elector.isLeader(), 8_000, 'baton to take over');
    expect(performance.now() - takenAt).toBeGreaterThanOrEqual(3000);
  });

  test('after a takeover by a writer that kept baton\'s fields, baton waits the holder\'s leaseDurationSeconds', async () => {
    const name = uniqueName();
    const now = Date.now();
    await locks.lock(name, 'baton-1').create({ holderIdentity: 'baton-1', leaseDurationMs: 2500, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: 7 });
    const takenAt = performance.now();
    const iso = new Date().toISOString();
    await new ClientGoWriter(fake).mergeAnnotation('default', plural, name, { ...keptFields.fields, acquireTime: iso, renewTime: iso });
    // baton's 2500 ms and its mark are still in the JSON, beside another holder's record.
    const stored = JSON.parse((fake.getObject(kind === 'endpoints' ? 'endpoints' : 'configmaps', 'default', name) as { metadata: { annotations: Record<string, string> } }).metadata.annotations[LEADER_ANNOTATION]!);
    expect(stored).toMatchObject({ holderIdentity: 'foreign-1', leaseDurationMs: 2500, batonTerm: '0/baton-1' });
    expect((await locks.lock(name, 'baton-2').get())!.record).toMatchObject(keptFields.expected);
    const probe = runElector(locks.lock(name, 'baton-2'));
    probes.push(probe);
    await waitFor(() => probe.elector.isLeader(), 8_000, 'baton to take over');
    expect(performance.now() - takenAt).toBeGreaterThanOrEqual(3000);
  });

  test('the Python client\'s record (duration as a string, str(datetime) times) is taken over once it expires', async () => {
    const name = uniqueName();
    fake.putObject({ apiVersion: 'v1', kind: kind === 'endpoints' ? 'Endpoints' : 'ConfigMap', metadata: { name, namespace: 'default' } });
    const stamp = new Date().toISOString().replace('T', ' ').replace(/Z$/, '123');
    const writtenAt = performance.now();
    await new ClientGoWriter(fake).writeAnnotation('default', plural, name, { holderIdentity: 'py-1', leaseDurationSeconds: '1', acquireTime: stamp, renewTime: stamp, leaderTransitions: 0 });
    const probe = runElector(locks.lock(name, 'baton-1'));
    probes.push(probe);
    await waitFor(() => probe.elector.getLeader() === 'py-1', 5_000, 'baton to see the Python leader');
    await waitFor(() => probe.elector.isLeader(), 5_000, 'baton to take over');
    expect(performance.now() - writtenAt).toBeGreaterThanOrEqual(1000);
    // The record was read (timeouts on this shared machine are another matter).
    expect(probe.errors.filter((e) => e instanceof InvalidRecordError)).toEqual([]);
  });
});
