import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { FakeClock } from '@baton/core';
import type { Clock } from '@baton/core';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { scriptSources } from '../src/scripts.ts';
import { RedisLock } from '../src/index.ts';
import type { RedisLockOptions } from '../src/index.ts';
import { TIMINGS, adminClient, measured, runCandidate, stopAll, testPrefix, tokensInOrder } from './support/env.ts';
import type { Candidate } from './support/env.ts';
import { driveFor, driveUntil } from './support/fake-time.ts';
import { RedisServerProcess, TcpProxy } from '@baton/testkit';

// Faults against redis-server processes of this file's own (never the shared 6379): restarts
// with and without persistence, killed connections, a partition through a TCP proxy, and
// SCRIPT FLUSH. Elector timings: lease 1500 ms, renewDeadline 1000 ms, retry 250 ms.

const keyPrefix = testPrefix();
const cleanups: Array<() => Promise<void> | void> = [];
const candidates: Candidate[] = [];

afterEach(async () => {
  await stopAll(candidates.splice(0));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(() => {
  for (const [name, value] of Object.entries(measured)) console.log(`measured: ${name}: ${value}`);
});

async function server(args: string[] = []): Promise<{ server: RedisServerProcess; admin: Redis }> {
  const s = await RedisServerProcess.start({ args });
  cleanups.push(() => s.stop());
  const admin = adminClient(s.port);
  cleanups.push(() => void admin.disconnect());
  return { server: s, admin };
}

function candidate(port: number, name: string, identity: string, extra: Partial<RedisLockOptions> = {}, clock?: Clock): Candidate & { redis: RedisLock } {
  const lock = new RedisLock({ connection: { host: '127.0.0.1', port }, keyPrefix, name, identity, ...extra, ...(clock ? { clock } : {}) });
  cleanups.push(() => lock.close());
  const c = runCandidate(lock, TIMINGS, clock);
  candidates.push(c);
  return Object.assign(c, { redis: lock });
}

const electionBound = TIMINGS.leaseDurationMs + 4 * TIMINGS.retryPeriodMs + 2000;

/** Waits until `ms` have passed, checking `invariant` all along. */
async function holdFor(ms: number, invariant: () => void): Promise<void> {
  const until = performance.now() + ms;
  await waitFor(() => {
    invariant();
    return performance.now() >= until;
  }, ms + 2000, `${ms} ms of the invariant holding`);
}

const leaders = (cs: Candidate[]): Candidate[] => cs.filter((c) => c.elector.isLeader());

describe('server restarted mid-term', () => {
  test('with persistence (appendfsync always): the leader keeps its term, the follower’s watch comes back', async () => {
    const { server: s, admin } = await server(['--appendonly', 'yes', '--appendfsync', 'always']);
    const a = candidate(s.port, 'restart-durable', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const b = candidate(s.port, 'restart-durable', 'b');
    await waitFor(() => b.elector.getLeader() === 'a', electionBound, 'b to see a');

    const downAt = performance.now();
    await s.restart();
    const upAt = performance.now();
    // The leader renews on the restarted server without losing its term.
    const renewTime = Number(await admin.hget(`${keyPrefix}{restart-durable}`, 'renewTime'));
    await waitFor(async () => Number(await admin.hget(`${keyPrefix}{restart-durable}`, 'renewTime')) > renewTime, electionBound, 'a renewal after the restart');
    await holdFor(3 * TIMINGS.retryPeriodMs, () => expect(leaders([a, b])).toEqual([a]));
    expect(a.started).toHaveLength(1);
    expect(b.started).toHaveLength(0);
    measured['durable restart (SIGKILL + start, AOF always): server down'] = `${(upAt - downAt).toFixed(0)} ms; the leader kept its term`;

    // The follower's watch is live again: a release is taken at once.
    const releasedAt = performance.now();
    a.stop.abort();
    await waitFor(() => b.elector.isLeader(), 1000, 'b to take the released lease');
    expect(b.started[0]!.at - releasedAt).toBeLessThan(500);
    expect(b.started[0]!.token).toBeGreaterThan(a.started[0]!.token);
  });

  test('without persistence (the record and counter are lost): one leader again, tokens still increase', async () => {
    const { server: s } = await server();
    const a = candidate(s.port, 'restart-lossy', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const b = candidate(s.port, 'restart-lossy', 'b');
    const c = candidate(s.port, 'restart-lossy', 'c');
    await waitFor(() => b.elector.getLeader() === 'a' && c.elector.getLeader() === 'a', electionBound, 'b and c to see a');
    const all = [a, b, c];
    const termsBefore = all.reduce((n, x) => n + x.started.length, 0);

    await s.restart();
    // The old record is gone: the leader finds out at its next renewal; someone leads again.
    await waitFor(() => all.reduce((n, x) => n + x.started.length, 0) > termsBefore || a.stopped.length > 0, electionBound, 'the loss to be noticed');
    await waitFor(() => leaders(all).length === 1, electionBound, 'one leader again');
    await holdFor(3 * TIMINGS.retryPeriodMs, () => expect(leaders(all)).toHaveLength(1));
    const tokens = tokensInOrder(all);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
    // How long two electors both believed they led (a store that forgets cannot prevent it;
    // the fencing tokens above are what protects downstream systems).
    const newTerm = all.flatMap((x) => x.started.filter((st) => st.token !== a.started[0]!.token)).sort((x, y) => x.at - y.at)[0];
    const overlap = newTerm && a.stopped[0] !== undefined ? Math.max(0, a.stopped[0] - newTerm.at) : 0;
    measured['lossy restart (no persistence): overlap of old and new leader'] = `${overlap.toFixed(0)} ms (bounded by one retryPeriod + a round trip); tokens ${tokens.join(' < ')}`;
    expect(overlap).toBeLessThan(TIMINGS.retryPeriodMs * 2.2 + 500);
  });
});

describe('killed connections', () => {
  test('CLIENT KILL of the leader’s connection and every subscriber: the term survives, watches come back', async () => {
    const { server: s, admin } = await server();
    const a = candidate(s.port, 'kill', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const health: boolean[] = [];
    const b = candidate(s.port, 'kill', 'b');
    const stopWatch = b.redis.watch({ onChange: () => {}, onHealth: (h) => health.push(h) });
    cleanups.push(stopWatch);
    await waitFor(() => b.elector.getLeader() === 'a' && health.at(-1) === true, electionBound, 'b to see a');

    for (let i = 1; i <= 5; i++) {
      const id = await a.redis.client.client('ID');
      await admin.client('KILL', 'ID', String(id));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor(async () => (await a.redis.client.client('ID').catch(() => id)) !== id, 2000, 'a to reconnect');
      await waitFor(() => health.filter((h) => !h).length === i && health.at(-1) === true, 2000, `the watch to come back after kill ${i}`);
    }
    await holdFor(3 * TIMINGS.retryPeriodMs, () => expect(leaders([a, b])).toEqual([a]));
    expect(a.started).toHaveLength(1);

    const releasedAt = performance.now();
    a.stop.abort();
    await waitFor(() => b.elector.isLeader(), 1000, 'b to take the released lease');
    expect(b.started[0]!.at - releasedAt).toBeLessThan(500);
  });
});

describe('partition (fake clock: the elector and the adapter time everything on it, Redis is real)', () => {
  test('a leader behind a silent proxy steps down by renewDeadline; a follower on the healthy side takes over only after the lease', async () => {
    const { server: s } = await server();
    const proxy = await TcpProxy.start(s.port);
    cleanups.push(() => proxy.close());
    const clock = new FakeClock();
    const step = 5;
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = TIMINGS;
    // ioredis' dead-socket timer (real time) kept out of the way: only the clock decides here.
    const a = candidate(proxy.port, 'partition', 'a', { socketTimeout: 60_000 }, clock);
    const bothSettled = (): boolean => a.redis.diagnostics.callsInFlight === 0 && (b?.redis.diagnostics.callsInFlight ?? 0) === 0;
    let b: (Candidate & { redis: RedisLock }) | undefined;
    await driveUntil(clock, () => a.elector.isLeader(), { limitMs: 5_000, stepMs: step, settled: bothSettled, what: 'a to lead' });
    b = candidate(s.port, 'partition', 'b', {}, clock);
    const follower = b;
    await driveUntil(clock, () => follower.elector.getLeader() === 'a', { limitMs: 5_000, stepMs: step, settled: bothSettled, what: 'b to see a' });
    // A few renewals, each seen by b through its watch.
    await driveFor(clock, 4 * retryPeriodMs, { stepMs: step, settled: bothSettled, what: 'renewals' });

    const cutAt = clock.now();
    proxy.hang();
    const bSettled = (): boolean => follower.redis.diagnostics.callsInFlight === 0;
    await driveUntil(clock, () => follower.elector.isLeader(), { limitMs: leaseDurationMs + 4 * retryPeriodMs, stepMs: step, settled: bSettled, what: 'b to take over' });
    const stepDown = a.stopped[0]! - cutAt;
    const takeover = follower.started[0]!.at - cutAt;
    expect(a.terms[0]!.signal.aborted).toBe(true);
    // a's last renewal began within one retryPeriod before the cut; it steps down renewDeadline after it.
    expect(stepDown).toBeLessThanOrEqual(renewDeadlineMs);
    expect(stepDown).toBeGreaterThanOrEqual(renewDeadlineMs - retryPeriodMs - step);
    // b takes over a lease after it saw it last change, no sooner (and, watching, no later).
    expect(takeover).toBeGreaterThanOrEqual(leaseDurationMs - retryPeriodMs - step);
    expect(takeover).toBeLessThanOrEqual(leaseDurationMs + 2 * step);
    expect(follower.started[0]!.at - a.stopped[0]!).toBeGreaterThanOrEqual(leaseDurationMs - renewDeadlineMs - step);
    expect(follower.started[0]!.token).toBeGreaterThan(a.started[0]!.token);
    measured['partition (fake clock): leader steps down / follower takes over, after the cut'] =
      `${stepDown} ms / ${takeover} ms (renewDeadline ${renewDeadlineMs}, lease ${leaseDurationMs})`;

    // Healed: the old leader rejoins as a follower of the new one.
    proxy.heal();
    await driveUntil(clock, () => a.elector.getLeader() === 'b', { limitMs: 5 * leaseDurationMs, stepMs: step, settled: bothSettled, what: 'a to see b after healing' });
    expect(leaders([a, follower])).toEqual([follower]);
  });
});

describe('SCRIPT FLUSH during a term', () => {
  test('the next write gets NOSCRIPT, the script is sent again, and the term goes on', async () => {
    const { server: s, admin } = await server();
    const a = candidate(s.port, 'flush', 'a');
    await waitFor(() => a.elector.isLeader(), electionBound, 'a to lead');
    const b = candidate(s.port, 'flush', 'b');
    await waitFor(() => b.elector.getLeader() === 'a', electionBound, 'b to see a');
    const errorsBefore = a.errors.length;
    // Two renewals first, so the leader's connection calls the update script by SHA.
    const key = `${keyPrefix}{flush}`;
    const renewals = async (n: number): Promise<void> => {
      const seen = new Set<string>();
      await waitFor(async () => seen.add((await admin.hget(key, 'renewTime'))!).size > n, electionBound + n * 500, `${n} renewals`);
    };
    await renewals(2);

    await admin.script('FLUSH');
    expect(await admin.script('EXISTS', ...scriptShas())).toEqual([0]);
    const stats = async (): Promise<{ noscript: number; evalCalls: number }> => {
      const info = await admin.info('commandstats');
      const field = (cmd: string, name: string): number => Number(new RegExp(`cmdstat_${cmd}:.*?${name}=(\\d+)`).exec(info)?.[1] ?? 0);
      return { noscript: field('evalsha', 'failed_calls') + field('evalsha', 'rejected_calls'), evalCalls: field('eval', 'calls') };
    };
    const before = await stats();
    await renewals(2);
    await holdFor(3 * TIMINGS.retryPeriodMs, () => expect(leaders([a, b])).toEqual([a]));
    const after = await stats();
    expect(after.noscript).toBeGreaterThan(before.noscript);
    expect(after.evalCalls).toBeGreaterThan(before.evalCalls);
    expect(a.started).toHaveLength(1);
    expect(a.errors.length).toBe(errorsBefore);
  });
});

/** The SHA1s of baton's scripts, as the server names them. */
function scriptShas(): string[] {
  return [createHash('sha1').update(scriptSources().batonLockWrite).digest('hex')];
}
