import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { LeaderElector } from '@baton/core';
import type { LeaderTerm } from '@baton/core';
import { waitFor } from '@baton/contract';
import { startFakeApiServer } from '@baton/fake-kube-apiserver';
import type { FakeApiServer } from '@baton/fake-kube-apiserver';
import { LeaseLockFactory } from '../src/index.ts';

// The rate limiter end to end: followers that poll far past the factory's budget must not
// starve the renewals of a lease the same factory holds. With the requests served in arrival
// order, the leader's renewal would wait behind the followers' requests, which stay queued for
// up to their retryPeriod (4 s, an attempt's bound) — past its renewDeadline (3 s) — and it
// would lose the lease.

let fake: FakeApiServer;
beforeAll(async () => {
  fake = await startFakeApiServer();
});
afterAll(async () => {
  await fake.stop();
});

const QPS = 4;
/** The leader's timings: a renewDeadline with room for a loaded machine's stalls. */
const TIMINGS = { leaseDuration: 4_000, renewDeadline: 3_000, retryPeriod: 400 };
/** The followers': their requests may wait in the queue for longer than the leader's renewDeadline. */
const FOLLOWING = { leaseDuration: 10_000, renewDeadline: 6_000, retryPeriod: 4_000 };
const FOLLOWERS = 40;

test('a leader keeps its lease while polling followers of the same factory use up the budget many times over', async () => {
  const name = `budget-${process.pid}`;
  const holder = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false });
  const limited = new LeaseLockFactory({ kubeConfig: fake.kubeConfig, namespace: 'default', events: false, qps: QPS, burst: 1 });
  const stop = new AbortController();
  const runs: Promise<void>[] = [];
  const elect = (lock: ReturnType<LeaseLockFactory['lock']>, watch: boolean, onTerm?: (t: LeaderTerm) => void, timings: object = TIMINGS): LeaderElector => {
    const elector = new LeaderElector({ lock, ...timings, watch, callbacks: { onStartedLeading: (t) => onTerm?.(t) } });
    runs.push(elector.run(stop.signal));
    return elector;
  };
  try {
    // Another process holds the followers' locks (default timings: it renews every 2 s), so they
    // keep polling for as long as the test runs.
    const others = Array.from({ length: FOLLOWERS }, (_, i) => elect(holder.lock(`${name}-f${i}`, 'other'), true, undefined, {}));
    await waitFor(() => others.every((e) => e.isLeader()), 10_000, 'the other process to hold every followed lock');

    const terms: LeaderTerm[] = [];
    const leader = elect(limited.lock(`${name}-held`, 'leader'), true, (t) => terms.push(t));
    await waitFor(() => leader.isLeader(), 5_000, 'the leader to lead');
    const followers = Array.from({ length: FOLLOWERS }, (_, i) => elect(limited.lock(`${name}-f${i}`, `f${i}`), false, undefined, FOLLOWING));

    // The server keeps the last 1,000 requests: counted from a cleared log, the window stays well inside that.
    // The followers' requests: reads, and creates that find the lease there (a create names no
    // object in its URL; nothing else creates during the window).
    const polls = () => fake.requests().filter((r) => (r.verb === 'get' && r.name.startsWith(`${name}-f`)) || r.verb === 'create').length;
    const renewals = () => fake.requests().filter((r) => r.verb === 'update' && r.name === `${name}-held`).length;
    fake.clearRequests();
    const pollsBefore = 0;
    const renewalsBefore = 0;
    const started = performance.now();
    // The window: until the followers have sent two seconds' worth of the whole budget.
    await waitFor(() => polls() - pollsBefore >= 2 * QPS, 15_000, 'the followers to use up the budget');
    const windowMs = performance.now() - started;

    // The budget was the bottleneck: the followers wanted ~2× it (40 every ~4–9 s) and got what
    // the leader left of it.
    expect((polls() - pollsBefore + renewals() - renewalsBefore) / (windowMs / 1000)).toBeLessThanOrEqual(QPS * 1.25);
    expect(followers.some((e) => e.isLeader())).toBe(false);
    // …and the leader never lost its lease: one term, still on, renewed all along (a renewal
    // waits for the next token, ~0.1 s, so at least one a second).
    expect(terms).toHaveLength(1);
    expect(terms[0]!.signal.aborted).toBe(false);
    expect(renewals() - renewalsBefore).toBeGreaterThanOrEqual(Math.floor(windowMs / 1000));
  } finally {
    stop.abort();
    await Promise.all(runs);
    await Promise.all([holder.close(), limited.close()]);
  }
});
