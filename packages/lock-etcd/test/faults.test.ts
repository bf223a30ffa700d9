import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { LeaderElector } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot, Logger } from '@baton/core';
import { waitFor } from '@baton/contract';
import type { Etcd3 } from 'etcd3';
import { EtcdLockFactory } from '../src/index.ts';
import type { EtcdLockFactoryOptions } from '../src/index.ts';
import { EtcdCluster } from './support/etcd-server.ts';
import { TIMINGS, measured, testPrefixes } from './support/env.ts';
import { TcpProxy } from '@baton/testkit';

// Faults against an etcd of this file's own: a restart (SIGKILL, then start on the same data),
// connections reset and a partition through a TCP proxy, and a watch asked to start from a
// compacted revision.

let cluster: EtcdCluster;
let admin: Etcd3;
const prefixes = testPrefixes();
const cleanups: Array<() => Promise<void> | void> = [];
const electionBound = TIMINGS.leaseDurationMs + 4 * TIMINGS.retryPeriodMs + 2000;

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
  const made = new EtcdLockFactory({ connection: cluster.urls[0], ...prefixes, ...options });
  cleanups.push(() => made.close());
  return made;
}

interface Candidate {
  elector: LeaderElector;
  started: Array<{ token: number; at: number }>;
  stopped: number[];
  stop: AbortController;
  done: Promise<void>;
}

function candidate(locks: EtcdLockFactory, name: string, identity: string, timings: typeof TIMINGS = TIMINGS): Candidate {
  const c = { started: [], stopped: [], stop: new AbortController() } as unknown as Candidate;
  c.elector = new LeaderElector({
    lock: locks.lock(name, identity),
    leaseDuration: timings.leaseDurationMs,
    renewDeadline: timings.renewDeadlineMs,
    retryPeriod: timings.retryPeriodMs,
    releaseOnCancel: true,
    callbacks: {
      onStartedLeading: (term) => {
        c.started.push({ token: term.fencingToken, at: performance.now() });
        term.signal.addEventListener('abort', () => c.stopped.push(performance.now()), { once: true });
      },
    },
  });
  c.done = c.elector.run(c.stop.signal);
  cleanups.push(async () => {
    c.stop.abort();
    await c.done;
  });
  return c;
}

/** A watch on `name` through `locks` whose health reports are recorded. */
function healthOf(locks: EtcdLockFactory, name: string): { reports: boolean[]; lastAt: number } {
  const seen = { reports: [] as boolean[], lastAt: 0 };
  const report = (healthy: boolean): void => {
    seen.reports.push(healthy);
    seen.lastAt = performance.now();
  };
  cleanups.push(locks.lock(name, 'health-probe').watch({ onChange: () => {}, onHealth: report }));
  return seen;
}

describe('etcd restarted mid-term', () => {
  test('SIGKILL and start on the same data: the leader keeps its term, the follower’s watch comes back', async () => {
    const slow = { leaseDurationMs: 6000, renewDeadlineMs: 4500, retryPeriodMs: 500 } as unknown as typeof TIMINGS;
    const a = candidate(factory(), 'restart', 'a', slow);
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const followerLocks = factory();
    const b = candidate(followerLocks, 'restart', 'b', slow);
    const health = healthOf(followerLocks, 'restart');
    await waitFor(() => b.elector.getLeader() === 'a' && health.reports.at(-1) === true, electionBound, 'b to see a, watch healthy');

    const downAt = performance.now();
    await cluster.members[0]!.restart();
    const upAt = performance.now();
    await waitFor(() => health.reports.includes(false) && health.reports.at(-1) === true, 10_000, 'the watch to break and come back');
    const watchBackAt = health.lastAt;
    // The leader renews on the restarted member without losing its term.
    const before = JSON.parse((await admin.get(`${prefixes.keyPrefix}restart`).string())!).renewTime as number;
    await waitFor(async () => JSON.parse((await admin.get(`${prefixes.keyPrefix}restart`).string())!).renewTime > before, 5000, 'a renewal after the restart');
    expect(a.started).toHaveLength(1);
    expect(a.stopped).toHaveLength(0);
    expect(b.started).toHaveLength(0);

    // The follower's watch is live again: a release is taken at once.
    const releasedAt = performance.now();
    a.stop.abort();
    await waitFor(() => b.elector.isLeader(), 2000, 'b to take the released lease');
    expect(b.started[0]!.at - releasedAt).toBeLessThan(500);
    expect(b.started[0]!.token).toBeGreaterThan(a.started[0]!.token);
    measured['etcd SIGKILL + restart'] = `member healthy again ${(upAt - downAt).toFixed(0)} ms after the kill, watch healthy again ${(watchBackAt - downAt).toFixed(0)} ms after the kill; leader kept its term; release taken ${(b.started[0]!.at - releasedAt).toFixed(0)} ms after`;
  });
});

describe('through a TCP proxy', () => {
  async function proxy(): Promise<TcpProxy> {
    const p = await TcpProxy.start(cluster.members[0]!.clientPort);
    cleanups.push(() => p.close());
    return p;
  }

  test('every connection reset: the term survives, the watches report the break and come back', async () => {
    const p = await proxy();
    const locks = factory({ connection: p.url });
    const a = candidate(locks, 'reset', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const followerLocks = factory({ connection: p.url });
    const b = candidate(followerLocks, 'reset', 'b');
    const health = healthOf(followerLocks, 'reset');
    await waitFor(() => b.elector.getLeader() === 'a' && health.reports.at(-1) === true, electionBound, 'b to see a');

    p.reset();
    await waitFor(() => health.reports.includes(false) && health.reports.at(-1) === true, 5000, 'the watch to break and come back');
    const until = performance.now() + 3 * TIMINGS.retryPeriodMs;
    await waitFor(() => {
      expect(a.elector.isLeader()).toBe(true);
      return performance.now() >= until;
    }, 5000, 'a few renewals');
    expect(a.started).toHaveLength(1);
    a.stop.abort();
    await waitFor(() => b.elector.isLeader(), 2000, 'b to take the release');
  });

  test('a follower whose watch was down re-reads when it comes back, and sees what changed meanwhile', async () => {
    const p = await proxy();
    const a = candidate(factory(), 'missed', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const followerLocks = factory({ connection: p.url });
    const b = candidate(followerLocks, 'missed', 'b', { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 20_000 } as unknown as typeof TIMINGS);
    const health = healthOf(followerLocks, 'missed');
    await waitFor(() => b.elector.getLeader() === 'a' && health.reports.at(-1) === true, electionBound, 'b to see a');

    p.hang();
    p.reset(); // the follower's connections reset; new ones hang
    await waitFor(() => health.reports.at(-1) === false, 5000, 'the watch to report the break');
    a.stop.abort(); // released while b cannot hear it
    await a.done;
    const healedAt = performance.now();
    p.heal();
    // b polls only every 20 s: only the re-read after the watch is back explains a quick takeover.
    await waitFor(() => b.elector.isLeader(), 5000, 'b to take over after the watch came back');
    expect(performance.now() - healedAt).toBeLessThan(5000);
    expect(health.reports.at(-1)).toBe(true);
  });

  test('a partitioned leader steps down by renewDeadline; a follower takes over after expiry', async () => {
    const p = await proxy();
    const a = candidate(factory({ connection: p.url, operationTimeout: '500ms' }), 'partition', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const b = candidate(factory(), 'partition', 'b');
    await waitFor(() => b.elector.getLeader() === 'a', electionBound, 'b to see a');
    const cutAt = performance.now();
    p.hang();
    await waitFor(() => b.elector.isLeader(), electionBound + TIMINGS.leaseDurationMs, 'b to take over');
    expect(a.stopped[0]! - cutAt).toBeLessThan(TIMINGS.renewDeadlineMs + 500);
    expect(a.stopped[0]!).toBeLessThan(b.started[0]!.at);
    expect(b.started[0]!.token).toBeGreaterThan(a.started[0]!.token);
    p.heal();
    await waitFor(() => a.elector.getLeader() === 'b', electionBound, 'a to follow b after the heal');
    measured['partitioned leader (no session)'] = `stepped down ${(a.stopped[0]! - cutAt).toFixed(0)} ms after the cut, follower leading ${(b.started[0]!.at - cutAt).toFixed(0)} ms after`;
  });
});

describe('compaction', () => {
  test('a watch from a compacted revision is made again from the current one, and delivers again', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_fields, message) => warnings.push(message) };
    const name = 'compacted';
    const reader = factory({ logger }).lock(name, 'reader');
    const writer = factory().lock(name, 'writer');
    const first: LeaderElectionRecord = { holderIdentity: 'writer', leaseDurationMs: 10_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };
    let version = (await writer.create(first)).version;
    expect((await reader.get())?.version).toBe(version); // the reader will watch from here
    for (let i = 2; i <= 5; i++) version = (await writer.update({ ...first, renewTime: i }, version)).version;
    const { header } = await admin.kv.range({ key: Buffer.from('compaction-probe') });
    await admin.kv.compact({ revision: header.revision, physical: true });

    const reports: boolean[] = [];
    const changes: Array<LockSnapshot | null | undefined> = [];
    const stop = reader.watch({ onChange: (s) => changes.push(s), onHealth: (h) => reports.push(h) });
    cleanups.push(stop);
    // etcd answers the create, then cancels the watcher for the compacted revision; the hub
    // reports the break and is healthy again once the new watcher is attached.
    await waitFor(() => warnings.some((w) => /cancelled the watch/.test(w)) && reports.at(-1) === true, 5000, 'the watch to be made again');
    expect(reports.slice(-2)).toEqual([false, true]);
    // Watching from the current revision: the next write arrives pushed.
    const next = await writer.update({ ...first, renewTime: 99 }, version);
    await waitFor(() => changes.some((s) => s?.version === next.version), 2000, 'the next write to be delivered');
  });
});
