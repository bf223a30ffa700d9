import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { InvalidRecordError, LeaderElector, LockConflictError, LockNotFoundError } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot, ResourceLock } from '@baton/core';
import { deferred, waitFor, within } from '@baton/contract';
import { Etcd3 } from 'etcd3';
import { EtcdLock, EtcdLockFactory } from '../src/index.ts';
import { EtcdCluster } from '@baton/testkit';
import { TIMINGS, testPrefixes } from './support/env.ts';

// The adapter on a real etcd of this file's own: the stored layout, fencing across deletions,
// the version rules, one watch stream per factory, and the user's own client.

let cluster: EtcdCluster;
let admin: Etcd3;
const prefixes = testPrefixes();
const closers: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start(1);
  admin = cluster.adminClient();
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  admin.close();
  await cluster.stop();
});

function factory(extra: Partial<ConstructorParameters<typeof EtcdLockFactory>[0]> = {}): EtcdLockFactory {
  const made = new EtcdLockFactory({ connection: cluster.urls[0], ...prefixes, ...extra });
  closers.push(() => made.close());
  return made;
}

const record = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationMs: 10_000,
  acquireTime: 1_767_225_600_000,
  renewTime: 1_767_225_600_000,
  leaderTransitions: 0,
  fencingToken: 1,
  ...overrides,
});

describe('what is stored', () => {
  test('one JSON key per lock, its mod revision as the version, the counter as 16 digits beside it', async () => {
    const lock = factory().lock('layout', 'a');
    const created = await lock.create(record('a', { fencingToken: 7 }));
    const kv = (await admin.get(`${prefixes.keyPrefix}layout`).exec()).kvs[0]!;
    expect(JSON.parse(kv.value.toString())).toEqual(record('a', { fencingToken: 7 }));
    expect(kv.value.toString().startsWith('{"holderIdentity":"a",')).toBe(true);
    expect(created.version).toBe(kv.mod_revision);
    expect(kv.lease).toBe('0');
    expect(await admin.get(`${prefixes.fencePrefix}layout`).string()).toBe('0000000000000007');
    expect(lock.describe()).toBe(`etcd ${prefixes.keyPrefix}layout`);
  });

  test('a renewal keeps the token and leaves the counter alone; a new term moves both', async () => {
    const lock = factory().lock('terms', 'a');
    const created = await lock.create(record('a'));
    const counterRevision = (await admin.get(`${prefixes.fencePrefix}terms`).exec()).kvs[0]!.mod_revision;
    const renewed = await lock.update(record('a', { renewTime: 1_767_225_602_000 }), created.version);
    expect(renewed.record.fencingToken).toBe(1);
    expect((await admin.get(`${prefixes.fencePrefix}terms`).exec()).kvs[0]!.mod_revision).toBe(counterRevision);
    const next = await lock.update(record('b', { leaderTransitions: 1, fencingToken: 2 }), renewed.version);
    expect(next.record.fencingToken).toBe(2);
    expect(await admin.get(`${prefixes.fencePrefix}terms`).string()).toBe('0000000000000002');
  });
});

describe('fencing tokens', () => {
  test('keep growing when the record is deleted: a fresh create gets a token above every earlier one', async () => {
    const locks = factory();
    const first = locks.lock('deleted', 'a');
    const created = await first.create(record('a', { fencingToken: 5 }));
    await first.update(record('b', { fencingToken: 6, leaderTransitions: 1 }), created.version);
    await admin.delete().key(`${prefixes.keyPrefix}deleted`);
    // A new process knows nothing of the old terms: it asks for token 1.
    const fresh = locks.lock('deleted', 'c');
    expect(await fresh.get()).toBeNull();
    const recreated = await fresh.create(record('c', { fencingToken: 1 }));
    expect(recreated.record.fencingToken).toBe(7);
    expect((await fresh.get())?.record.fencingToken).toBe(7);
  });

  test('a counter moved behind the lock’s back (stale knowledge) costs one more attempt, never a reused token', async () => {
    const lock = factory().lock('moved', 'a');
    const created = await lock.create(record('a', { fencingToken: 3 }));
    await admin.put(`${prefixes.fencePrefix}moved`).value('0000000000000040');
    const taken = await lock.update(record('b', { fencingToken: 4, leaderTransitions: 1 }), created.version);
    expect(taken.record.fencingToken).toBe(41);
    expect(await admin.get(`${prefixes.fencePrefix}moved`).string()).toBe('0000000000000041');
  });

  test('a corrupt counter is an InvalidRecordError and is never overwritten', async () => {
    const lock = factory().lock('bad-counter', 'a');
    await admin.put(`${prefixes.fencePrefix}bad-counter`).value('twelve');
    await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(lock.create(record('a'))).rejects.toBeInstanceOf(InvalidRecordError);
    expect(await admin.get(`${prefixes.fencePrefix}bad-counter`).string()).toBe('twelve');
    expect(await admin.get(`${prefixes.keyPrefix}bad-counter`).string()).toBeNull();
  });
});

describe('versions', () => {
  test('an update on a version this lock has not seen reads first and still compares', async () => {
    const name = 'unseen';
    const writer = factory().lock(name, 'a');
    const created = await writer.create(record('a'));
    const other = factory().lock(name, 'b');
    // `other` never read the lock: it must learn what the version holds before deciding the token.
    const taken = await other.update(record('b', { fencingToken: 2, leaderTransitions: 1 }), created.version);
    expect(taken.record.fencingToken).toBe(2);
    await expect(other.update(record('b', { fencingToken: 3 }), created.version)).rejects.toBeInstanceOf(LockConflictError);
  });

  test('a version that is not a revision is a conflict; an update of a deleted record is LockNotFoundError', async () => {
    const lock = factory().lock('gone', 'a');
    await expect(lock.update(record('a'), 'abc')).rejects.toBeInstanceOf(LockConflictError);
    const created = await lock.create(record('a'));
    await admin.delete().key(`${prefixes.keyPrefix}gone`);
    await expect(lock.update(record('a', { renewTime: 1 }), created.version)).rejects.toBeInstanceOf(LockNotFoundError);
  });
});

describe('watch', () => {
  test('many locks on one key share ONE etcd watcher; a deletion is delivered as null', async () => {
    const locks = factory();
    const watchers = Array.from({ length: 5 }, (_, i) => locks.lock('shared-watch', `w${i}`));
    const seen: Array<Array<LockSnapshot | null | undefined>> = watchers.map(() => []);
    const healthy = watchers.map(() => deferred());
    const stops = watchers.map((lock, i) =>
      lock.watch({ onChange: (s) => seen[i]!.push(s), onHealth: (ok) => ok && healthy[i]!.resolve() }),
    );
    await within(Promise.all(healthy.map((h) => h.promise)), 5000, 'every watch to be healthy');
    expect(locks.watchedKeys).toBe(1);
    const writer = factory().lock('shared-watch', 'writer');
    const created = await writer.create(record('writer'));
    await admin.delete().key(`${prefixes.keyPrefix}shared-watch`);
    await waitFor(() => seen.every((s) => s.length === 2), 2000, 'every watcher to see the create and the delete');
    for (const s of seen) expect(s).toEqual([created, null]);
    for (const stop of stops) stop();
    expect(locks.watchedKeys).toBe(0);
  });

  test('starts from the revision the lock read: a write between the read and the watch is delivered', async () => {
    const lock = factory().lock('from-read', 'reader');
    expect(await lock.get()).toBeNull();
    const writer = factory().lock('from-read', 'writer');
    const created = await writer.create(record('writer'));
    const delivered = deferred<LockSnapshot | null | undefined>();
    const stop = lock.watch({ onChange: (s) => delivered.resolve(s) });
    expect(await within(delivered.promise, 2000, 'the earlier write')).toEqual(created);
    stop();
  });

  test('a follower sends nothing while its watch is healthy: every renewal arrives pushed', async () => {
    const name = 'no-polling';
    const leaderLock = factory().lock(name, 'leader');
    const follower = countingReads(factory().lock(name, 'follower'));
    const run = (lock: ResourceLock, stop: AbortController) =>
      new LeaderElector({
        lock,
        leaseDuration: TIMINGS.leaseDurationMs,
        renewDeadline: TIMINGS.renewDeadlineMs,
        retryPeriod: TIMINGS.retryPeriodMs,
        callbacks: { onStartedLeading: () => {} },
      });
    const stopLeader = new AbortController();
    const stopFollower = new AbortController();
    const leader = run(leaderLock, stopLeader);
    const leaderDone = leader.run(stopLeader.signal);
    await waitFor(() => leader.isLeader(), 5000, 'the leader');
    const elector = run(follower.lock, stopFollower);
    const followerDone = elector.run(stopFollower.signal);
    await waitFor(() => elector.getLeader() === 'leader', 5000, 'the follower to see the leader');
    // Let the watch settle (its first healthy report triggers one re-read), then count.
    await waitFor(() => follower.calls.length > 0 && performance.now() - follower.lastCallAt > TIMINGS.retryPeriodMs * 2, 5000, 'the follower to go quiet');
    const before = follower.calls.length;
    const until = performance.now() + 6 * TIMINGS.retryPeriodMs;
    await waitFor(() => performance.now() >= until, 10 * TIMINGS.retryPeriodMs, 'six renewal periods');
    expect(follower.calls.slice(before)).toEqual([]);
    expect(elector.getLeader()).toBe('leader');
    stopFollower.abort();
    stopLeader.abort();
    await Promise.all([leaderDone, followerDone]);
  });
});

describe('the user’s own client', () => {
  test('is used as is and left open by close()', async () => {
    const own = new Etcd3({ hosts: cluster.urls });
    const locks = new EtcdLockFactory({ client: own, ...prefixes });
    expect(locks.client).toBe(own);
    const lock = locks.lock('own-client', 'a');
    const created = await lock.create(record('a'));
    expect((await lock.get())?.version).toBe(created.version);
    await locks.close();
    expect(await own.get(`${prefixes.keyPrefix}own-client`).string()).not.toBeNull();
    own.close();
  });

  test('a standalone lock opens its own client and closes it', async () => {
    const lock = new EtcdLock({ connection: { hosts: cluster.urls }, ...prefixes, name: 'standalone', identity: 'a' });
    await lock.create(record('a'));
    await lock.close();
    await expect(lock.get()).rejects.toThrow(/closed/);
  });
});

/** Wraps a lock and records every get (a read is what polling costs). */
function countingReads(lock: EtcdLock): { lock: ResourceLock; calls: number[]; lastCallAt: number } {
  const state = { calls: [] as number[], lastCallAt: 0, lock: undefined as unknown as ResourceLock };
  state.lock = {
    identity: lock.identity,
    describe: () => lock.describe(),
    get: (options) => {
      state.lastCallAt = performance.now();
      state.calls.push(state.lastCallAt);
      return lock.get(options);
    },
    create: (r, options) => lock.create(r, options),
    update: (r, v, options) => lock.update(r, v, options),
    watch: (handlers) => lock.watch(handlers),
    close: () => lock.close(),
  };
  return state;
}
