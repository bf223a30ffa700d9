/**
 * PostgreSQL restarted for real under a running election: a throwaway cluster of this file's
 * own (`@baton/testkit`'s PostgresCluster: initdb on a free port, `pg_ctl` fast shutdown and
 * start), so it runs in every CI run without touching the shared server.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { PostgresCluster } from '@baton/testkit';
import { PostgresLockFactory } from '../src/index.ts';
import { runCandidate, stopAll } from './helpers.ts';
import type { Candidate, Timings } from './helpers.ts';

describe('PostgreSQL restarted for real (a throwaway cluster)', () => {
  const table = 'restart';
  const timings: Timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
  const factories: PostgresLockFactory[] = [];
  const candidates: Candidate[] = [];
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await PostgresCluster.create();
  }, 60_000);

  afterAll(async () => {
    await stopAll(candidates);
    await Promise.all(factories.map((f) => f.close()));
    await cluster?.destroy();
  });

  test('the leader steps down when its session dies with the server; after the restart exactly one candidate leads', async () => {
    const name = 'restart';
    for (const identity of ['a', 'b', 'c']) {
      const f = new PostgresLockFactory({ poolConfig: { ...cluster.connection, max: 2 }, table, sessionTimeout: 2200 });
      factories.push(f);
      candidates.push(runCandidate(f.lock(name, identity), timings));
      if (identity === 'a') await waitFor(() => candidates[0]!.elector.isLeader(), 5000, 'a to lead');
    }
    const [a] = candidates as [Candidate];
    await waitFor(() => candidates.every((c) => c.elector.getLeader() === 'a'), 5000, 'everyone to see a');

    const restartAt = performance.now();
    const postmaster = cluster.pid;
    await cluster.restart();
    expect(cluster.pid).not.toBe(postmaster); // a new server process, not a reconnect
    const upAt = performance.now();
    // The server ended the session on shutdown: the leader heard at once, not at renewDeadline.
    expect(a.stopped).toHaveLength(1);
    expect(a.stopped[0]! - restartAt).toBeLessThan(timings.renewDeadlineMs);

    await waitFor(() => candidates.filter((c) => c.elector.isLeader()).length === 1, 15_000, 'a leader after the restart');
    const leader = candidates.find((c) => c.elector.isLeader())!;
    const newTerm = leader.started.at(-1)!;
    console.log(
      `lock-postgres restart: the restart (fast shutdown + start) took ${Math.round(upAt - restartAt)} ms; the leader stepped down ` +
        `${Math.round(a.stopped[0]! - restartAt)} ms after it began; ${leader.elector.identity} led again ` +
        `${Math.round(newTerm.at - restartAt)} ms after it began`,
    );
    expect(newTerm.token).toBeGreaterThan(a.started[0]!.token);
    // Terms never overlapped: every term ended before the next one began.
    const terms = candidates
      .flatMap((c) => c.started.map((s, i) => ({ start: s.at, end: c.stopped[i] ?? Infinity, token: s.token })))
      .sort((x, y) => x.start - y.start);
    for (let i = 1; i < terms.length; i++) {
      expect(terms[i - 1]!.end).toBeLessThan(terms[i]!.start);
      expect(terms[i]!.token).toBeGreaterThan(terms[i - 1]!.token);
    }
  }, 60_000);
});
