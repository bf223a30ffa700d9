/**
 * The adapter's timers run on the injected clock: lease expiry of a held advisory lock, the
 * LISTEN connection's reconnect backoff. Driven here by core's FakeClock against the real
 * PostgreSQL, so the timing is exact and nothing waits for real time to pass.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { createServer } from 'node:net';
import { FakeClock } from '@baton/core';
import type { LeaderElectionRecord, Logger } from '@baton/core';
import { waitFor } from '@baton/contract';
import pg from 'pg';
import { PostgresLockFactory } from '../src/index.ts';
import type { PostgresLockFactoryOptions } from '../src/index.ts';
import { Closer, PG_CONFIG, advisoryHolder, dropTable, uniqueTable } from './helpers.ts';

const table = uniqueTable('clock');
const admin = new pg.Pool({ ...PG_CONFIG, max: 2, application_name: 'baton-test-admin' });
const closer = new Closer();

afterEach(() => closer.closeAll());
afterAll(async () => {
  await dropTable(admin, table);
  await admin.end();
});

function factory(clock: FakeClock, options: Partial<PostgresLockFactoryOptions> = {}): PostgresLockFactory {
  return closer.add(new PostgresLockFactory({ poolConfig: { ...PG_CONFIG, max: 2 }, table, sessionTimeout: 5_000, clock, ...options }));
}

let counter = 0;
const uniqueName = (): string => `clock-${process.pid}-${++counter}`;

const record = (holderIdentity: string, leaseDurationMs: number): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationMs,
  acquireTime: 1_767_225_600_000,
  renewTime: 1_767_225_600_000,
  leaderTransitions: 0,
  fencingToken: 1,
});

/** Lets real I/O in flight (a statement, a connect) finish without moving the fake clock. */
const realPause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback port nobody listens on: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('lease expiry on the clock', () => {
  test('an advisory lock not renewed within the lease it last wrote is given back exactly at its end', async () => {
    const clock = new FakeClock();
    const name = uniqueName();
    const f = factory(clock);
    const a = f.lock(name, 'a');
    await f.ensureTable();
    await a.create(record('a', 10_000));
    expect(await advisoryHolder(admin, a.key)).toBe(f.sessionProcessId());

    await clock.advance(9_999);
    await realPause(100);
    expect(a.isHeld()).toBe(true);
    expect(await advisoryHolder(admin, a.key)).toBe(f.sessionProcessId());

    await clock.advance(1);
    expect(a.isHeld()).toBe(false);
    await waitFor(async () => (await advisoryHolder(admin, a.key)) === undefined, 3000, 'the advisory lock to be given back');
    expect((await factory(clock).lock(name, 'b').get())?.holderGone).toBe(true);
  });

  test('each renewal moves the end of the hold to the lease it wrote', async () => {
    const clock = new FakeClock();
    const name = uniqueName();
    const f = factory(clock);
    const a = f.lock(name, 'a');
    await f.ensureTable();
    const created = await a.create(record('a', 10_000));
    await clock.advance(6_000);
    await a.update({ ...created.record, renewTime: created.record.renewTime + 6_000 }, created.version);
    await clock.advance(9_000); // 15 s after the create, 9 s after the renewal
    await realPause(100);
    expect(a.isHeld()).toBe(true);
    expect(await advisoryHolder(admin, a.key)).toBe(f.sessionProcessId());
    await clock.advance(1_000);
    expect(a.isHeld()).toBe(false);
    await waitFor(async () => (await advisoryHolder(admin, a.key)) === undefined, 3000, 'the advisory lock to be given back');
  });
});

describe('LISTEN reconnect backoff on the clock', () => {
  test('a killed LISTEN connection is reopened after 100 ms of the clock, not of real time', async () => {
    const clock = new FakeClock();
    const f = factory(clock);
    const watcher = f.lock(uniqueName(), 'watcher');
    const health: boolean[] = [];
    closer.defer(watcher.watch({ onChange: () => {}, onHealth: (h) => health.push(h) }));
    await waitFor(() => health.at(-1) === true, 5000, 'watch healthy');

    await admin.query('SELECT pg_terminate_backend($1)', [f.listenerProcessId]);
    await waitFor(() => health.at(-1) === false, 5000, 'the watch to report itself broken');
    await realPause(300);
    expect(health.at(-1)).toBe(false); // 300 ms of real time: the clock has not moved
    await clock.advance(99);
    await realPause(100);
    expect(health.at(-1)).toBe(false);
    await clock.advance(1);
    await waitFor(() => health.at(-1) === true, 5000, 'the watch to come back');
    expect(health).toEqual([true, false, true]);
  });

  test('while the server cannot be reached, attempts back off 100, 200, 400 … ms, up to 2 s', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const logger: Logger = { debug: (_f, m) => void lines.push(m), info: () => {}, warn: () => {}, error: () => {} };
    const port = await closedPort();
    const f = factory(clock, { poolConfig: { host: '127.0.0.1', port, user: 'postgres', database: 'test', max: 1 }, logger });
    closer.defer(f.lock(uniqueName(), 'watcher').watch({ onChange: () => {} }));
    const attempts = (): number => lines.filter((m) => m === 'baton postgres LISTEN failed').length;
    await waitFor(() => attempts() === 1, 5000, 'the first attempt to fail');

    for (const delay of [100, 200, 400, 800, 1600, 2000, 2000]) {
      const before = attempts();
      await clock.advance(delay - 1);
      await realPause(50);
      expect(attempts()).toBe(before);
      await clock.advance(1);
      await waitFor(() => attempts() === before + 1, 5000, `the attempt after ${delay} ms`);
    }
  });
});

describe('closing', () => {
  test('a holder check answered after the factory closed arms no timer: nothing is left to keep the process alive', async () => {
    const clock = new FakeClock();
    const name = uniqueName();
    // Our own pool, so that it outlives the factory and the check's answer still arrives.
    const pool = new pg.Pool({ ...PG_CONFIG, max: 2 });
    closer.defer(() => pool.end());
    const holderFactory = closer.add(new PostgresLockFactory({ poolConfig: { ...PG_CONFIG, max: 1 }, table, sessionTimeout: 5_000 }));
    await holderFactory.lock(name, 'other').create(record('other', 15_000));

    const f = closer.add(new PostgresLockFactory({ pool, table, sessionTimeout: 5_000, holderCheckInterval: 100, clock }));
    const health: boolean[] = [];
    closer.defer(f.lock(name, 'watcher').watch({ onChange: () => {}, onHealth: (h) => health.push(h) }));
    await waitFor(() => health.at(-1) === true, 5000, 'watch healthy');

    // The holder check (a read of the table) is held up by a lock on the table.
    const blocker = await admin.connect();
    let blocked = true;
    closer.defer(async () => {
      if (blocked) await blocker.query('ROLLBACK');
      blocker.release();
    });
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
    await clock.advance(100); // the new watch's first silence: one holder check, now in flight
    await waitFor(
      async () => (await admin.query('SELECT 1 FROM pg_locks WHERE relation = $1::regclass AND NOT granted', [table])).rowCount! > 0,
      5000,
      'the holder check to wait on the table',
    );

    await f.close();
    await blocker.query('COMMIT');
    blocked = false;
    await waitFor(() => pool.idleCount === pool.totalCount && pool.waitingCount === 0, 5000, 'the holder check to be answered');
    await realPause(50);
    expect(clock.pendingTimers).toBe(0);
  });
});
