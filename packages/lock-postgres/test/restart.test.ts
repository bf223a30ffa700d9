/**
 * PostgreSQL restarted under a running election. OPT-IN: it restarts the shared server, which
 * breaks every other suite using it at that moment, so it runs only with
 * `BATON_PG_RESTART_TEST=1`, and alone:
 *
 *   BATON_PG_RESTART_TEST=1 scripts/pnpm test:only packages/lock-postgres/test/restart
 *
 * The restart uses `pg_ctlcluster --skip-systemctl-redirect <version> main restart` (override
 * with BATON_PG_RESTART_COMMAND), which waits until the server is up again.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { PostgresLockFactory } from '../src/index.ts';
import { PG_CONFIG, dropTable, runCandidate, stopAll, uniqueTable } from './helpers.ts';
import type { Candidate, Timings } from './helpers.ts';

const enabled = process.env.BATON_PG_RESTART_TEST === '1';
const run = promisify(execFile);

async function restartServer(): Promise<void> {
  const custom = process.env.BATON_PG_RESTART_COMMAND;
  if (custom) {
    await run('sh', ['-c', custom]);
    return;
  }
  const version = readdirSync('/etc/postgresql')[0]!;
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
}

(enabled ? describe : describe.skip)('PostgreSQL restarted (opt-in: BATON_PG_RESTART_TEST=1)', () => {
  const table = uniqueTable('restart');
  const timings: Timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
  const factories: PostgresLockFactory[] = [];
  const candidates: Candidate[] = [];
  const admin = new pg.Pool({ ...PG_CONFIG, max: 1, application_name: 'baton-test-admin' });
  admin.on('error', () => {}); // its idle connection dies with the restart

  afterAll(async () => {
    await stopAll(candidates);
    await Promise.all(factories.map((f) => f.close()));
    await waitFor(async () => admin.query('SELECT 1').then(() => true, () => false), 30_000, 'the server to accept connections');
    await dropTable(admin, table);
    await admin.end();
  });

  test('the leader steps down when its session dies with the server; after the restart exactly one candidate leads', async () => {
    const name = 'restart';
    for (const identity of ['a', 'b', 'c']) {
      const f = new PostgresLockFactory({ poolConfig: { ...PG_CONFIG, max: 2 }, table, sessionTimeout: 2200 });
      factories.push(f);
      candidates.push(runCandidate(f.lock(name, identity), timings));
      if (identity === 'a') await waitFor(() => candidates[0]!.elector.isLeader(), 5000, 'a to lead');
    }
    const [a] = candidates as [Candidate];
    await waitFor(() => candidates.every((c) => c.elector.getLeader() === 'a'), 5000, 'everyone to see a');

    const restartAt = performance.now();
    await restartServer();
    const upAt = performance.now();
    // The server ended the session on shutdown: the leader heard at once, not at renewDeadline.
    expect(a.stopped).toHaveLength(1);
    expect(a.stopped[0]! - restartAt).toBeLessThan(timings.renewDeadlineMs);

    await waitFor(() => candidates.filter((c) => c.elector.isLeader()).length === 1, 15_000, 'a leader after the restart');
    const leader = candidates.find((c) => c.elector.isLeader())!;
    const newTerm = leader.started.at(-1)!;
    console.log(
      `lock-postgres restart: the restart command took ${Math.round(upAt - restartAt)} ms; the leader stepped down ` +
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
