import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { LeaderElector } from '@baton/core';
import type { LeaderElectionRecord, LeaderTerm } from '@baton/core';
import { deferred, waitFor, within } from '@baton/contract';
import type { Etcd3 } from 'etcd3';
import { EtcdLockFactory } from '../src/index.ts';
import type { EtcdLockFactoryOptions } from '../src/index.ts';
import { ChildCandidate, checkTerms } from './support/child-candidate.ts';
import { EtcdCluster } from '@baton/testkit';
import { measured, testPrefixes } from './support/env.ts';
import { TcpProxy } from '@baton/testkit';

// The session option on a real etcd: records of a holder attached to its etcd lease, the
// lease's loss noticed by the holder before etcd can delete anything, and a SIGKILLed
// holder's record gone after the lease TTL — a takeover well before the lease duration.

let cluster: EtcdCluster;
let admin: Etcd3;
const prefixes = testPrefixes();
const cleanups: Array<() => Promise<void> | void> = [];
/** Slow elector timings, so that only the session can explain a fast handover. */
const SLOW = { leaseDurationMs: 10_000, renewDeadlineMs: 8_000, retryPeriodMs: 1_000 };
const now = (): number => performance.timeOrigin + performance.now();

beforeAll(async () => {
  cluster = await EtcdCluster.start(1);
  admin = cluster.adminClient();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  admin.close();
  await cluster.stop();
  for (const [name, value] of Object.entries(measured)) console.log(`measured: ${name}: ${value}`);
});

function factory(options: Partial<EtcdLockFactoryOptions> = {}): EtcdLockFactory {
  const made = new EtcdLockFactory({ connection: cluster.urls[0], ...prefixes, session: { ttl: '3s' }, ...options });
  cleanups.push(() => made.close());
  return made;
}

interface Run {
  elector: LeaderElector;
  terms: Array<LeaderTerm & { startedAt: number; endedAt?: number }>;
  done: Promise<void>;
}

function elect(locks: EtcdLockFactory, name: string, identity: string): Run {
  const stop = new AbortController();
  const run = { terms: [] } as unknown as Run;
  run.elector = new LeaderElector({
    lock: locks.lock(name, identity),
    leaseDuration: SLOW.leaseDurationMs,
    renewDeadline: SLOW.renewDeadlineMs,
    retryPeriod: SLOW.retryPeriodMs,
    releaseOnCancel: true,
    callbacks: {
      onStartedLeading: (term) => {
        const entry = Object.assign(term, { startedAt: now() }) as Run['terms'][number];
        term.signal.addEventListener('abort', () => (entry.endedAt = now()), { once: true });
        run.terms.push(entry);
      },
    },
  });
  run.done = run.elector.run(stop.signal);
  cleanups.push(async () => {
    stop.abort();
    await run.done;
  });
  return run;
}

const recordOf = async (name: string) => (await admin.get(`${prefixes.keyPrefix}${name}`).exec()).kvs[0];

describe('records bound to the session lease', () => {
  test('a session lock says how soon a silent holder loses it (2/3 of the TTL); a plain one says nothing', () => {
    expect(factory().lock('silent', 'a').silentHolderTimeoutMs).toBe(2_000);
    expect(factory({ session: false }).lock('plain', 'a').silentHolderTimeoutMs).toBeUndefined();
  });

  test('a holder’s record carries the factory’s lease; the release does not', async () => {
    const locks = factory();
    const a = elect(locks, 'bound', 'a');
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    // Attached by the acquisition, or by the first renewal when the grant was still under way.
    await waitFor(async () => (await recordOf('bound'))?.lease === locks.sessionLeaseId, 2 * SLOW.retryPeriodMs + 2000, 'the record to carry the session lease');
    expect(locks.sessionLeaseId).toMatch(/^[1-9][0-9]*$/);
    await cleanups.pop()!(); // stop the elector: it releases
    const released = await recordOf('bound');
    expect(JSON.parse(released!.value.toString()).holderIdentity).toBe('');
    expect(released!.lease).toBe('0');
  });

  test('closing the factory revokes the lease: a record still attached is deleted at once', async () => {
    const locks = factory();
    const lock = locks.lock('revoked-on-close', 'a');
    await waitFor(() => locks.sessionLeaseId !== undefined, 5000, 'the session lease to be granted');
    const held: LeaderElectionRecord = { holderIdentity: 'a', leaseDurationMs: 10_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };
    expect((await lock.create(held)) && (await recordOf('revoked-on-close'))?.lease).toBe(locks.sessionLeaseId);
    const lost = deferred<Error>();
    lock.onSessionLost!((reason) => lost.resolve(reason));
    await locks.close();
    expect((await within(lost.promise, 1, 'the session-lost listener')).message).toMatch(/closed/);
    expect(await recordOf('revoked-on-close')).toBeUndefined();
  });

  test('a lease revoked by hand: the holder hears onSessionLost and its term ends', async () => {
    const locks = factory();
    const a = elect(locks, 'revoked', 'a');
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    const lost = deferred<Error>();
    locks.lock('revoked', 'probe').onSessionLost!((reason) => lost.resolve(reason));
    await admin.leaseClient.leaseRevoke({ ID: locks.sessionLeaseId! });
    // Within one keep-alive period (TTL / 3) the holder is told; its own watch may tell it first.
    await within(lost.promise, 3000, 'the session loss to be noticed');
    await waitFor(() => a.terms[0]?.signal.aborted === true, 3000, 'the term to end');
  });
});

describe('a holder cut off from etcd', () => {
  test('declares its session lost a third of the TTL before etcd deletes its record; the follower then takes over', async () => {
    const proxy = await TcpProxy.start(cluster.members[0]!.clientPort);
    cleanups.push(() => proxy.close());
    const holderLocks = factory({ connection: proxy.url, operationTimeout: '1s' });
    const a = elect(holderLocks, 'silence', 'a');
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    const lostAt = deferred<number>();
    holderLocks.lock('silence', 'probe').onSessionLost!(() => lostAt.resolve(now()));
    await waitFor(async () => (await recordOf('silence'))?.lease === holderLocks.sessionLeaseId, 2 * SLOW.retryPeriodMs + 2000, 'a’s record to carry its session lease');
    const b = elect(factory(), 'silence', 'b');
    await waitFor(() => b.elector.getLeader() === 'a', 5000, 'b to see a');
    const deletedAt = deferred<number>();
    const stopWatch = factory().lock('silence', 'watcher').watch({ onChange: (s) => s === null && deletedAt.resolve(now()) });
    cleanups.push(stopWatch);

    const cutAt = now();
    proxy.hang();
    const lost = await within(lostAt.promise, 3000, 'the holder to declare its session lost');
    const deleted = await within(deletedAt.promise, 5000, 'etcd to delete the record');
    await waitFor(() => b.elector.isLeader(), 5000, 'b to take over');
    expect(a.terms[0]!.endedAt).toBeDefined();
    expect(a.terms[0]!.endedAt!).toBeLessThanOrEqual(lost + 5);
    expect(lost).toBeLessThan(deleted);
    expect(a.terms[0]!.endedAt!).toBeLessThan(b.terms[0]!.startedAt);
    // Long before the lease duration: the session, not the elector's expiry, handed over.
    expect(b.terms[0]!.startedAt - cutAt).toBeLessThan(SLOW.leaseDurationMs);
    expect(b.terms[0]!.fencingToken).toBeGreaterThan(a.terms[0]!.fencingToken);
    measured['partitioned holder, session TTL 3 s'] =
      `session lost ${(lost - cutAt).toFixed(0)} ms after the cut, record deleted ${(deleted - cutAt).toFixed(0)} ms after (margin ${(deleted - lost).toFixed(0)} ms), follower leading ${(b.terms[0]!.startedAt - cutAt).toFixed(0)} ms after (lease duration ${SLOW.leaseDurationMs} ms)`;
  });
});

describe('a holder process killed with SIGKILL', () => {
  test('its record disappears after the session TTL and the follower takes over well before the lease duration', async () => {
    const child = new ChildCandidate({ hosts: cluster.urls, ...prefixes, name: 'sigkill', identity: 'child', ...SLOW, sessionTtl: '2s' });
    cleanups.push(() => child.kill());
    await child.start();
    await waitFor(() => child.leading !== undefined, 10_000, 'the child to lead');
    const follower = elect(factory({ session: { ttl: '2s' } }), 'sigkill', 'follower');
    await waitFor(() => follower.elector.getLeader() === 'child', 5000, 'the follower to see the child');
    await waitFor(async () => ((await recordOf('sigkill'))?.lease ?? '0') !== '0', 2 * SLOW.retryPeriodMs + 2000, 'the child’s record to carry its session lease');

    const killedAt = now();
    await child.kill('SIGKILL');
    await waitFor(() => follower.elector.isLeader(), SLOW.leaseDurationMs, 'the follower to take over');
    const failover = follower.terms[0]!.startedAt - killedAt;
    expect(failover).toBeLessThan(SLOW.leaseDurationMs);
    expect(follower.terms[0]!.fencingToken).toBeGreaterThan(child.terms[0]!.token);
    expect(checkTerms([child])).toEqual([]);
    measured['SIGKILLed holder, session TTL 2 s, lease duration 10 s'] = `follower leading ${failover.toFixed(0)} ms after the kill`;
  });
});
