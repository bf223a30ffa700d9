/**
 * Fault tests against the real PostgreSQL: a leader's backend terminated, a leader process
 * killed with SIGKILL, a network partition through a TCP proxy, and a table altered or full
 * of garbage. (A server restart is in restart.test.ts, opt-in.)
 *
 * The first two use client-go-like timings (lease 15s): a follower taking over within a second
 * shows the takeover came from the session ending, not from the lease expiring.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { InvalidRecordError, LockConflictError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';
import { waitFor } from '@baton/contract';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresLockFactory } from '../src/index.ts';
import type { PostgresLockFactoryOptions } from '../src/index.ts';
import { Closer, PG_CONFIG, advisoryHolder, dropTable, plantGarbageRow, runCandidate, stopAll, uniqueTable } from './helpers.ts';
import type { Candidate, Timings } from './helpers.ts';
import { TcpProxy } from '@baton/testkit';

const table = uniqueTable('faults');
const admin = new pg.Pool({ ...PG_CONFIG, max: 3, application_name: 'baton-test-admin' });
const closer = new Closer();
const candidates: Candidate[] = [];

afterEach(async () => {
  await stopAll(candidates.splice(0));
  await closer.closeAll();
});
afterAll(async () => {
  await dropTable(admin, table);
  await admin.end();
});

/** client-go's defaults: a takeover within a second cannot be a lease expiry. */
const SLOW: Timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const SLOW_SESSION_TIMEOUT = 12_000;

function factory(options: Partial<PostgresLockFactoryOptions> = {}): PostgresLockFactory {
  return closer.add(new PostgresLockFactory({ poolConfig: { ...PG_CONFIG, max: 2 }, table, sessionTimeout: SLOW_SESSION_TIMEOUT, ...options }));
}

function candidate(f: PostgresLockFactory, name: string, identity: string, timings: Timings): Candidate {
  const c = runCandidate(f.lock(name, identity), timings);
  candidates.push(c);
  return c;
}

let counter = 0;
const uniqueName = (): string => `fault-${process.pid}-${++counter}`;

/** Measured failover times, printed once at the end for the report. */
const measured: Record<string, number> = {};
afterAll(() => {
  if (Object.keys(measured).length > 0) console.log(`lock-postgres fault timings (ms): ${JSON.stringify(measured)}`);
});

describe('a leader whose session ends', () => {
  test('pg_terminate_backend on the leader session: it steps down at once and a follower leads within a second', async () => {
    const name = uniqueName();
    const fa = factory();
    const fb = factory();
    const a = candidate(fa, name, 'a', SLOW);
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    const b = candidate(fb, name, 'b', SLOW);
    await waitFor(() => b.elector.getLeader() === 'a', 5000, 'b to see a');

    const at = performance.now();
    await admin.query('SELECT pg_terminate_backend($1)', [fa.sessionProcessId()]);
    await waitFor(() => b.elector.isLeader(), 1000, 'b to lead within a second');
    measured.terminateBackendFailover = Math.round(b.started[0]!.at - at);
    expect(a.stopped).toHaveLength(1);
    expect(a.stopped[0]!).toBeLessThan(b.started[0]!.at);
    expect(a.stopped[0]! - at).toBeLessThan(500);
    expect(b.started[0]!.token).toBeGreaterThan(a.started[0]!.token);
    expect(await advisoryHolder(admin, fb.keyOf(name))).toBe(fb.sessionProcessId());
  });

  test('the leader process killed with SIGKILL: a follower leads within a second', async () => {
    const name = uniqueName();
    const child = spawnCandidate({ name, identity: 'child', timings: SLOW });
    const leading = await child.next((e) => e.event === 'leading');
    const b = candidate(factory(), name, 'b', SLOW);
    await waitFor(() => b.elector.getLeader() === 'child', 5000, 'b to see the child lead');
    expect(await advisoryHolder(admin, factory().keyOf(name))).toBe(leading.sessionPid);

    const at = performance.now();
    child.process.kill('SIGKILL');
    await waitFor(() => b.elector.isLeader(), 1000, 'b to lead within a second');
    measured.sigkillFailover = Math.round(b.started[0]!.at - at);
    expect(b.started[0]!.token).toBeGreaterThan(leading.token as number);
    await child.exited;
  });
});

describe('a leader cut off by a network partition', () => {
  // sessionTimeout must sit in [renewDeadline, leaseDuration − retryPeriod]: 2000 ≤ 2200 ≤ 2500.
  const timings: Timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
  const sessionTimeout = 2200;

  test('no two leaders; the follower takes over only after the server ended the silent session; the old leader rejoins', async () => {
    const name = uniqueName();
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    closer.defer(() => proxy.close());
    // Everything the leader says goes through the proxy: pool, session and LISTEN connections.
    const fa = factory({ poolConfig: { ...PG_CONFIG, host: '127.0.0.1', port: proxy.port, max: 2 }, sessionTimeout, operationTimeout: 1500 });
    const fb = factory({ sessionTimeout });
    const a = candidate(fa, name, 'a', timings);
    await waitFor(() => a.elector.isLeader(), 5000, 'a to lead');
    const b = candidate(fb, name, 'b', timings);
    await waitFor(() => b.elector.getLeader() === 'a', 5000, 'b to see a');
    // Partition right after a renewal went through, so the bound below is exact.
    const aSessionPid = fa.sessionProcessId()!;
    const versionBefore = (await fb.lock(name, 'reader').get())!.version;
    await waitFor(async () => (await fb.lock(name, 'reader').get())!.version !== versionBefore, 2000, 'a renewal');
    const partitionedAt = performance.now();
    proxy.hang();

    await waitFor(() => b.elector.isLeader(), timings.leaseDurationMs + 3000, 'b to take over');
    const takeover = b.started[0]!.at;
    measured.partitionStepDown = Math.round(a.stopped[0]! - partitionedAt);
    measured.partitionTakeover = Math.round(takeover - partitionedAt);
    // The cut-off leader stepped down on its own, within renewDeadline of its last renewal…
    expect(a.stopped).toHaveLength(1);
    expect(a.stopped[0]! - partitionedAt).toBeLessThan(timings.renewDeadlineMs + 200);
    // …strictly before the follower started.
    expect(a.stopped[0]!).toBeLessThan(takeover);
    // The follower could only start once the server had ended the silent session, which takes
    // sessionTimeout after its last statement (a renewal just before the partition).
    expect(takeover - partitionedAt).toBeGreaterThanOrEqual(sessionTimeout - 50);
    const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [aSessionPid]);
    expect(rows).toHaveLength(0);
    // Well within the lease plus the holder-check interval.
    expect(takeover - partitionedAt).toBeLessThan(timings.leaseDurationMs + 1000);

    proxy.heal();
    // The old leader comes back as a follower: it sees b and does not lead again.
    await waitFor(() => a.elector.getLeader() === 'b', 10_000, 'a to see b after the partition heals');
    expect(a.elector.isLeader()).toBe(false);
    expect(a.started).toHaveLength(1);
    expect(b.started[0]!.token).toBeGreaterThan(a.started[0]!.token);
  }, 30_000);
});

describe('a table altered or full of garbage', () => {
  const record = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
    holderIdentity,
    leaseDurationMs: 1200,
    acquireTime: 1_767_225_600_000,
    renewTime: 1_767_225_600_000,
    leaderTransitions: 0,
    fencingToken: 1,
    ...overrides,
  });
  const fast: Timings = { leaseDurationMs: 1200, renewDeadlineMs: 800, retryPeriodMs: 200 };

  async function rowsOf(t: string, name?: string): Promise<unknown[]> {
    const where = name === undefined ? '' : 'WHERE name = $1';
    return (await admin.query(`SELECT * FROM "${t}" ${where} ORDER BY name`, name === undefined ? [] : [name])).rows;
  }

  test('garbage rows are InvalidRecordErrors, never overwritten, even with their current version; other locks keep working', async () => {
    const f = factory({ sessionTimeout: 900 });
    await f.ensureTable();
    const negative = uniqueName();
    await plantGarbageRow(admin, table, negative);
    const huge = uniqueName();
    await admin.query(
      `INSERT INTO "${table}" (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
       VALUES ($1, 'x', 1000, 0, 0, 0, 9007199254740993)`,
      [huge],
    );
    // A thousand rows of noise under random names.
    await admin.query(
      `INSERT INTO "${table}" (name, holder_identity, lease_duration_ms, acquire_time_ms, renew_time_ms, leader_transitions, fencing_token)
       SELECT 'noise-' || md5(random()::text), md5(random()::text), (random() * 2e9)::bigint - 1e9, -1, -1, -1, -1 FROM generate_series(1, 1000)`,
    );
    const before = await rowsOf(table);

    for (const name of [negative, huge]) {
      const lock = f.lock(name, 'me');
      await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
      const { version } = (await rowsOf(table, name))[0] as { version: string };
      await expect(lock.update(record('me', { fencingToken: 2 }), version)).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(lock.update(record(''), version)).rejects.toBeInstanceOf(InvalidRecordError);
      // The row exists (garbage): create is a conflict, and never overwrites it.
      await expect(lock.create(record('me'))).rejects.toBeInstanceOf(LockConflictError);
      expect(lock.isHeld()).toBe(false);
      const c = candidate(f, name, 'elector', fast);
      await waitFor(() => c.errors.some((e) => e instanceof InvalidRecordError), 3000, 'the elector to report the garbage');
      expect(c.started).toHaveLength(0);
    }
    // An election on a clean name in the same table works, with watchers polling next to the noise.
    const clean = uniqueName();
    const x = candidate(f, clean, 'x', fast);
    const y = candidate(factory({ sessionTimeout: 900 }), clean, 'y', fast);
    await waitFor(() => x.elector.isLeader() || y.elector.isLeader(), 5000, 'a leader on the clean lock');
    await stopAll(candidates.splice(0));
    const after = (await rowsOf(table)).filter((r) => (r as { name: string }).name !== clean);
    expect(after).toEqual(before);
  });

  test('a column dropped or retyped under a running election: typed errors, the leader steps down, nothing is overwritten', async () => {
    const altered = uniqueTable('altered');
    closer.defer(() => dropTable(admin, altered));
    const f = factory({ table: altered, sessionTimeout: 900 });
    const name = uniqueName();
    const leader = candidate(f, name, 'leader', fast);
    await waitFor(() => leader.elector.isLeader(), 5000, 'a leader');

    await admin.query(`ALTER TABLE "${altered}" DROP COLUMN leader_transitions`);
    const frozen = await rowsOf(altered);
    // The leader's renewals fail with InvalidRecordError; it steps down by renewDeadline.
    await waitFor(() => !leader.elector.isLeader(), fast.renewDeadlineMs + 1000, 'the leader to step down');
    expect(leader.errors.some((e) => e instanceof InvalidRecordError)).toBe(true);
    await expect(f.lock(name, 'reader').get()).rejects.toBeInstanceOf(InvalidRecordError);
    // A new process refuses the table up front.
    const fresh = factory({ table: altered });
    await expect(fresh.ensureTable()).rejects.toThrow(/has no column "leader_transitions"/);
    await stopAll(candidates.splice(0));
    expect(await rowsOf(altered)).toEqual(frozen);

    // Retyped: fencing_token becomes numeric holding a fraction.
    await admin.query(`ALTER TABLE "${altered}" ADD COLUMN leader_transitions bigint NOT NULL DEFAULT 0`);
    await admin.query(`ALTER TABLE "${altered}" ALTER COLUMN fencing_token TYPE numeric`);
    await admin.query(`UPDATE "${altered}" SET fencing_token = 1.5`);
    await expect(factory({ table: altered }).ensureTable()).rejects.toThrow(/fencing_token has type numeric, expected bigint/);
    await expect(f.lock(name, 'reader').get()).rejects.toBeInstanceOf(InvalidRecordError);
    const retyped = await rowsOf(altered);
    const c = candidate(f, name, 'again', fast);
    await waitFor(() => c.errors.some((e) => e instanceof InvalidRecordError), 3000, 'the elector to report the retyped column');
    await stopAll(candidates.splice(0));
    expect(await rowsOf(altered)).toEqual(retyped);
  });
});

// ---- a candidate in a child process -------------------------------------------------------

interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

interface ChildCandidate {
  process: ChildProcess;
  /** Resolves with the first event (seen or yet to come) that matches. */
  next(match: (event: ChildEvent) => boolean, timeoutMs?: number): Promise<ChildEvent>;
  exited: Promise<void>;
}

function spawnCandidate(options: { name: string; identity: string; timings: Timings }): ChildCandidate {
  const script = fileURLToPath(new URL('./fixtures/candidate.ts', import.meta.url));
  const env = {
    ...process.env,
    BATON_CANDIDATE: JSON.stringify({
      poolConfig: PG_CONFIG,
      table,
      name: options.name,
      identity: options.identity,
      ...options.timings,
      sessionTimeoutMs: SLOW_SESSION_TIMEOUT,
    }),
  };
  const child = spawn(process.execPath, ['--no-warnings', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: ChildEvent[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffered.slice(0, newline)) as ChildEvent);
      buffered = buffered.slice(newline + 1);
      for (const wake of waiters) wake();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  closer.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return {
    process: child,
    exited,
    next: (match, timeoutMs = 10_000) =>
      new Promise<ChildEvent>((resolve, reject) => {
        const check = (): void => {
          const found = events.find(match);
          if (found === undefined) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`child ${options.identity}: no matching event within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const onExit = (): void => {
          cleanup();
          reject(new Error(`child ${options.identity} exited; stderr: ${stderr}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      }),
  };
}
