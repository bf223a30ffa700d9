/**
 * One process running 1,000 elections must not open 1,000 connections: a factory uses its pool,
 * one session connection (all advisory locks), one LISTEN connection and one holder-wait
 * connection, however many names.
 * And when that session dies, all 1,000 locks fail over to the other process together.
 */
import { afterAll, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import pg from 'pg';
import { PostgresLockFactory } from '../src/index.ts';
import { PG_CONFIG, connectionsOf, dropTable, runCandidate, stopAll, uniqueAppName, uniqueTable } from './helpers.ts';
import type { Candidate, Timings } from './helpers.ts';

const ELECTIONS = 1000;
/** How long after a follower's term began this process may read the old session's end (see below). */
const MAX_READ_LAG_MS = 250;
const POOL_MAX = 4;
// Long timings keep the renewal load modest (1,000 renewals per retry period on one session).
const timings: Timings = { leaseDurationMs: 20_000, renewDeadlineMs: 12_000, retryPeriodMs: 4_000 };
const sessionTimeout = 14_000;

const table = uniqueTable('scale');
const admin = new pg.Pool({ ...PG_CONFIG, max: 2, application_name: 'baton-test-admin' });
const factories: PostgresLockFactory[] = [];
const candidates: Candidate[] = [];

afterAll(async () => {
  await stopAll(candidates.splice(0));
  await Promise.all(factories.map((f) => f.close()));
  await dropTable(admin, table);
  await admin.end();
});

function processFactory(app: string): PostgresLockFactory {
  // One session connection, as configured: unset, a burst of acquisitions would open up to four.
  const f = new PostgresLockFactory({ poolConfig: { ...PG_CONFIG, max: POOL_MAX }, table, sessionTimeout, sessionConnections: 1, applicationName: app });
  factories.push(f);
  return f;
}

test(`${ELECTIONS} elections in one process use the pool plus two connections, and fail over together`, async () => {
  const leaderApp = uniqueAppName('baton-scale-l');
  const followerApp = uniqueAppName('baton-scale-f');
  const leaders = processFactory(leaderApp);
  await leaders.ensureTable();
  const names = Array.from({ length: ELECTIONS }, (_, i) => `election-${i}`);

  let at = performance.now();
  const firstLocks = names.map((name) => leaders.lock(name, 'first'));
  const lostAt: number[] = names.map(() => Number.NaN);
  firstLocks.forEach((lock, i) => lock.onSessionLost!(() => (lostAt[i] = performance.now())));
  const first = firstLocks.map((lock) => runCandidate(lock, timings));
  candidates.push(...first);
  await waitFor(() => first.every((c) => c.elector.isLeader()), 60_000, `all ${ELECTIONS} to lead`);
  const allLeadMs = Math.round(performance.now() - at);

  const followers = processFactory(followerApp);
  const second = names.map((name) => runCandidate(followers.lock(name, 'second'), timings));
  candidates.push(...second);
  await waitFor(() => second.every((c) => c.elector.getLeader() === 'first'), 60_000, 'every follower to see the leader');

  const leaderConns = await connectionsOf(admin, leaderApp);
  const followerConns = await connectionsOf(admin, followerApp);
  const count = (conns: Array<{ application_name: string }>, suffix: string): number =>
    conns.filter((c) => c.application_name.endsWith(suffix)).length;
  expect(count(leaderConns, ':session')).toBe(1);
  expect(count(leaderConns, ':listen')).toBe(1);
  // Pool, session, LISTEN, and the holder-wait connection (opened once a lock is seen held elsewhere).
  expect(leaderConns.length).toBeLessThanOrEqual(POOL_MAX + 3);
  // A follower's first attempt is the one-statement acquisition, which runs on the session.
  expect(count(followerConns, ':session')).toBeLessThanOrEqual(1);
  expect(count(followerConns, ':listen')).toBe(1);
  expect(followerConns.length).toBeLessThanOrEqual(POOL_MAX + 3);
  expect(leaders.heldLocks()).toHaveLength(ELECTIONS);

  // One session dies: every leader steps down at once, and every lock gets a new term, almost
  // always a follower's (an old leader retrying after its jittered retryPeriod may win a few).
  at = performance.now();
  await admin.query('SELECT pg_terminate_backend($1)', [leaders.sessionProcessId()]);
  await waitFor(() => first.every((c) => !c.elector.isLeader()), 2000, 'every leader to step down');
  const stepDownMs = Math.round(performance.now() - at);
  const newTerm = (i: number): boolean => second[i]!.elector.isLeader() || first[i]!.started.length > 1;
  await waitFor(() => names.every((_, i) => newTerm(i)), 30_000, 'a new term on every lock');
  const failoverMs = Math.round(performance.now() - at);
  const toFollowers = second.filter((c) => c.started.length > 0).length;
  // Every lock's terms, in order, with larger tokens. An old leader stops when this process
  // reads its session's end (the FATAL); a follower whose acquireIfFree statement is already
  // queued can find the advisory lock free and answer first: PostgreSQL does not order the
  // two (raw pg clients, a try-lock loop against a terminated holder: the success read first
  // in 3 of 30 tries under load, by 0.1–0.6 ms), and this busy process has read it up to 16 ms
  // first. So a term may overlap the next by that reading lag, and no more: the old leader
  // must stop in the same pass that reports its onSessionLost, and the overlap is bounded.
  const problems: string[] = [];
  const overlapsMs: number[] = [];
  for (let i = 0; i < ELECTIONS; i++) {
    const terms = [first[i]!, second[i]!]
      .flatMap((c, who) => c.started.map((s, k) => ({ who: who === 0 ? 'first' : 'second', start: s.at - at, end: (c.stopped[k] ?? Infinity) - at, token: s.token })))
      .sort((x, y) => x.start - y.start);
    for (let k = 1; k < terms.length; k++) {
      const [before, after] = [terms[k - 1]!, terms[k]!];
      const detail = `election-${i}: ${JSON.stringify(before)} then ${JSON.stringify(after)} (ms after the session was terminated; onSessionLost ${(lostAt[i]! - at).toFixed(2)})`;
      if (after.token <= before.token) problems.push(`tokens: ${detail}`);
      if (before.end < after.start) continue;
      overlapsMs.push(before.end - after.start);
      const stoppedOnLoss = before.who === 'first' && k === 1 && before.end - (lostAt[i]! - at) <= 5;
      if (!stoppedOnLoss || before.end - after.start > MAX_READ_LAG_MS) problems.push(`overlap: ${detail}`);
    }
  }
  expect(problems).toEqual([]);
  expect(toFollowers).toBeGreaterThan(ELECTIONS / 2);
  const afterConns = await connectionsOf(admin, followerApp);
  expect(count(afterConns, ':session')).toBe(1);
  // + the holder-wait connection, blocked on one lock held by the other process.
  expect(afterConns.length).toBeLessThanOrEqual(POOL_MAX + 3);
  expect(count(await connectionsOf(admin, leaderApp), ':session')).toBeLessThanOrEqual(1);

  console.log(
    `lock-postgres scale: ${ELECTIONS} elections; all leading after ${allLeadMs} ms; connections leader=${leaderConns.length} ` +
      `follower=${followerConns.length} (pool max ${POOL_MAX}); after terminating the session: all stepped down in ${stepDownMs} ms, ` +
      `every lock had a new term after ${failoverMs} ms (${toFollowers} of them the other process's); ` +
      `${overlapsMs.length} term(s) began before this process read the old session's end (by ${overlapsMs.map((ms) => ms.toFixed(1)).join(', ') || '—'} ms)`,
  );
}, 120_000);
