/**
 * Distributed-lock waiters that wait at the server (`acquireWhenFree`): blocked in
 * `pg_advisory_lock` on a connection of their own, handed the lock by PostgreSQL the moment
 * the holder lets go, with the new term written in the same statement.
 */
import { describe, expect, test } from '@jest/globals';
import { AbortedError, DistributedLocks, LockConflictError } from '@baton/core';
import type { LeaderElectionRecord, LockHandle } from '@baton/core';
import { waitFor, within } from '@baton/testkit';
import { PostgresLockFactory } from '../src/index.ts';
import { adminClient, advisoryHolder, PG_CONFIG, tableFixture, uniqueAppName } from './helpers.ts';

const { table, closer, admin } = tableFixture('baton_swait');

interface Side {
  app: string;
  factory: PostgresLockFactory;
  locks: DistributedLocks;
}

function side(identity: string, timings: { leaseDuration?: number; renewDeadline?: number; retryPeriod?: number; sessionTimeout?: number } = {}): Side {
  const app = uniqueAppName(`sw-${identity}`);
  const { sessionTimeout, ...lease } = timings;
  const factory = closer.add(new PostgresLockFactory({ poolConfig: PG_CONFIG, table, applicationName: app, ...(sessionTimeout ? { sessionTimeout } : {}) }));
  const locks = new DistributedLocks({ factory, identity, ...lease });
  closer.defer(() => locks.close());
  return { app, factory, locks };
}

/** The backend of `app` blocked on an advisory lock, with when its statement started. */
async function blockedWait(app: string): Promise<{ pid: number; started: string } | undefined> {
  const { rows } = await admin().query<{ pid: number; started: string }>(
    `SELECT pid, query_start::text AS started FROM pg_stat_activity
     WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
    [`${app}:session`],
  );
  return rows[0];
}

async function storedHolder(name: string): Promise<{ holder: string; token: number }> {
  const { rows } = await admin().query<{ holder_identity: string; fencing_token: string }>(`SELECT holder_identity, fencing_token FROM "${table}" WHERE name = $1`, [name]);
  return { holder: rows[0]!.holder_identity, token: Number(rows[0]!.fencing_token) };
}

describe('waiting at the server', () => {
  test('a waiter blocks in pg_advisory_lock and holds the lock, with a larger token, once the holder releases', async () => {
    const a = side('a');
    const b = side('b');
    const held = await a.locks.get('job').acquire();
    const next = b.locks.get('job').acquire();
    let waiting: { pid: number } | undefined;
    await waitFor(async () => (waiting = await blockedWait(b.app)) !== undefined, 5_000, "b's wait at the server");
    await held.release();
    const taken = await within(next, 5_000, 'the handover');
    closer.defer(() => taken.release());
    expect(taken.fencingToken).toBeGreaterThan(held.fencingToken);
    // The connection that waited is the one holding the lock, and the record names b.
    expect(await advisoryHolder(admin(), a.factory.keyOf('job'))).toBe(waiting!.pid);
    expect(b.factory.sessionProcessId('job')).toBe(waiting!.pid);
    expect(await storedHolder('job')).toEqual({ holder: expect.stringMatching(/^b\//), token: taken.fencingToken });
  });

  test("a holder whose session ends hands the lock to the waiter at once (crash detection stays the session's)", async () => {
    const a = side('a');
    const b = side('b');
    const held = await a.locks.get('crash').acquire();
    const next = b.locks.get('crash').acquire();
    await waitFor(async () => (await blockedWait(b.app)) !== undefined, 5_000, "b's wait at the server");
    const started = performance.now();
    await admin().query('SELECT pg_terminate_backend($1)', [a.factory.sessionProcessId('crash')]);
    const taken = await within(next, 5_000, 'the takeover');
    closer.defer(() => taken.release());
    // Long before the 15 s lease: the server granted the lock when the session ended.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(taken.fencingToken).toBeGreaterThan(held.fencingToken);
    await waitFor(() => held.signal.aborted, 5_000, "a's handle to hear of its lost session");
  });

  test('a wait that outlasts its bound starts again; the lock is still handed over', async () => {
    const timings = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 300, sessionTimeout: 2_200 };
    const a = side('a', timings);
    const b = side('b', timings);
    const held = await a.locks.get('long').acquire();
    const next = b.locks.get('long').acquire();
    let first: { started: string } | undefined;
    await waitFor(async () => (first = await blockedWait(b.app)) !== undefined, 5_000, "b's first wait");
    // A later wait statement (the first one ran out after a retry period), a is still the holder.
    await waitFor(async () => ((await blockedWait(b.app))?.started ?? first!.started) !== first!.started, 5_000, "b's next wait");
    expect(held.isHeld()).toBe(true);
    await held.release();
    const taken = await within(next, 5_000, 'the handover');
    closer.defer(() => taken.release());
    expect(taken.fencingToken).toBeGreaterThan(held.fencingToken);
  });

  test('an abandoned wait ends its connection and never takes the lock', async () => {
    const a = side('a');
    const b = side('b');
    const c = side('c');
    const held = await a.locks.get('gave-up').acquire();
    const stop = new AbortController();
    const next = b.locks.get('gave-up').acquire({ signal: stop.signal });
    await waitFor(async () => (await blockedWait(b.app)) !== undefined, 5_000, "b's wait at the server");
    stop.abort();
    await expect(within(next, 2_000, 'the abandoned acquire')).rejects.toBeInstanceOf(AbortedError);
    await waitFor(async () => (await blockedWait(b.app)) === undefined, 5_000, "b's blocked statement to end");
    await held.release();
    const taken = await within(c.locks.get('gave-up').acquire(), 5_000, "c's acquisition");
    closer.defer(() => taken.release());
    expect(await storedHolder('gave-up')).toEqual({ holder: expect.stringMatching(/^c\//), token: taken.fencingToken });
  });

  test('three processes handing one lock around: never two holders, every token larger than the last', async () => {
    const sides = [side('p'), side('q'), side('r')];
    let holder: string | undefined;
    let overlaps = 0;
    const tokens: number[] = [];
    await Promise.all(
      sides.map(async ({ locks }, i) => {
        for (let round = 0; round < 15; round++) {
          const held: LockHandle = await locks.get('ring').acquire();
          if (holder !== undefined) overlaps++;
          holder = String(i);
          tokens.push(held.fencingToken);
          await new Promise<void>((resolve) => setImmediate(resolve));
          holder = undefined;
          await held.release();
        }
      }),
    );
    expect(overlaps).toBe(0);
    expect(tokens).toHaveLength(45);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
  });
});

describe('ResourceLock.release on PostgreSQL', () => {
  const term = (holderIdentity: string, fencingToken = 1): LeaderElectionRecord => ({
    holderIdentity,
    leaseDurationMs: 15_000,
    acquireTime: Date.now(),
    renewTime: Date.now(),
    leaderTransitions: 0,
    fencingToken,
  });

  test("with a waiter blocked at the server, it writes nothing: the waiter's term follows the holder's directly", async () => {
    const a = side('a');
    const b = side('b');
    const held = a.factory.lock('direct', 'a');
    const waiter = b.factory.lock('direct', 'b');
    const taken = await held.acquireIfFree!(term('a', 7));
    expect(taken.acquired).toBe(true);
    // Every change of the record, as the watchers hear it.
    const listener = await adminClient();
    closer.defer(() => listener.end());
    const heard: Array<{ holderIdentity: string; fencingToken: number }> = [];
    listener.on('notification', (message) => {
      const payload = JSON.parse(message.payload ?? '{}') as { name?: string; holderIdentity: string; fencingToken: number };
      if (payload.name === 'direct') heard.push(payload);
    });
    await listener.query(`LISTEN "${a.factory.notifyChannel}"`);
    const waiting = waiter.acquireWhenFree!(term('b'), { maxWaitMs: 5_000 });
    await waitFor(async () => (await blockedWait(b.app)) !== undefined, 5_000, "b's wait at the server");
    const released = await held.release!({ ...taken.snapshot.record, holderIdentity: '' }, taken.snapshot.version);
    expect(released).toBeNull();
    const result = await within(waiting, 5_000, 'the handover');
    expect(result.acquired).toBe(true);
    if (!result.acquired) return;
    expect(result.snapshot.record.holderIdentity).toBe('b');
    expect(result.snapshot.record.fencingToken).toBeGreaterThan(taken.snapshot.record.fencingToken);
    expect(await advisoryHolder(admin(), b.factory.keyOf('direct'))).toBe(b.factory.sessionProcessId('direct'));
    await waitFor(() => heard.length > 0, 5_000, "the waiter's NOTIFY");
    // No released record in between: the first change anyone heard is b's term.
    expect(heard[0]).toMatchObject({ holderIdentity: 'b', fencingToken: result.snapshot.record.fencingToken });
    expect(heard.filter((h) => h.holderIdentity === '')).toEqual([]);
  });

  test('with nobody waiting, it writes the released record as update does and gives the advisory lock back', async () => {
    const a = side('a');
    const lock = a.factory.lock('alone', 'a');
    const taken = await lock.acquireIfFree!(term('a'));
    expect(taken.acquired).toBe(true);
    const released = await lock.release!({ ...taken.snapshot.record, holderIdentity: '' }, taken.snapshot.version);
    expect(released?.record).toMatchObject({ holderIdentity: '', fencingToken: taken.snapshot.record.fencingToken });
    expect(await lock.get()).toMatchObject({ record: released!.record, version: released!.version });
    expect(await advisoryHolder(admin(), a.factory.keyOf('alone'))).toBeUndefined();
  });

  test('on a stale version it is a LockConflictError and keeps the hold', async () => {
    const a = side('a');
    const lock = a.factory.lock('stale', 'a');
    const taken = await lock.acquireIfFree!(term('a'));
    expect(taken.acquired).toBe(true);
    const stale = String(Number(taken.snapshot.version) + 1000);
    await expect(lock.release!({ ...taken.snapshot.record, holderIdentity: '' }, stale)).rejects.toBeInstanceOf(LockConflictError);
    expect(await advisoryHolder(admin(), a.factory.keyOf('stale'))).toBe(a.factory.sessionProcessId('stale'));
    expect((await lock.get())?.record.holderIdentity).toBe('a');
    const released = await lock.release!({ ...taken.snapshot.record, holderIdentity: '' }, taken.snapshot.version);
    expect(released?.record.holderIdentity).toBe('');
    expect(await advisoryHolder(admin(), a.factory.keyOf('stale'))).toBeUndefined();
  });
});

describe('a release caught by a try-lock contender', () => {
  const term = (holderIdentity: string): LeaderElectionRecord => ({
    holderIdentity,
    leaseDurationMs: 15_000,
    acquireTime: Date.now(),
    renewTime: Date.now(),
    leaderTransitions: 0,
    fencingToken: 0,
  });

  test('acquireIfFree takes over a record whose holder holds no advisory lock, in one statement', async () => {
    const a = side('a');
    const holder = a.factory.lock('gone', 'a');
    const taken = await holder.acquireIfFree!(term('a'));
    expect(taken.acquired).toBe(true);
    // The holder's session ends without a release (as after a crash, or a release handed to a
    // contender that then gave the advisory lock back): the record still names it.
    await admin().query('SELECT pg_terminate_backend($1)', [a.factory.sessionProcessId('gone')]);
    await waitFor(async () => (await advisoryHolder(admin(), a.factory.keyOf('gone'))) === undefined, 5_000, 'the advisory lock to go');
    const b = side('b');
    const result = await b.factory.lock('gone', 'b').acquireIfFree!(term('b'));
    expect(result.acquired).toBe(true);
    expect(result.snapshot.record).toMatchObject({ holderIdentity: 'b', leaderTransitions: taken.snapshot.record.leaderTransitions + 1 });
    expect(result.snapshot.record.fencingToken).toBeGreaterThan(taken.snapshot.record.fencingToken);
    expect(await advisoryHolder(admin(), b.factory.keyOf('gone'))).toBe(b.factory.sessionProcessId('gone'));
  });

  test('releases racing a loop of acquireIfFree never leave the record naming a holder nobody is (the term goes on)', async () => {
    // The release gives the advisory lock back first: a contender's pg_try_advisory_lock in
    // that instant makes it look handed over (nothing written). The contender then takes the
    // term itself instead of reporting a gone holder that nobody would ever take over.
    const a = side('a');
    const b = side('b');
    const holder = a.factory.lock('race', 'a');
    const prober = b.factory.lock('race', 'b');
    // A conflict (the other side holds the advisory lock over a released record) is a lost race.
    const orConflict = <T,>(call: Promise<T>): Promise<T | undefined> =>
      call.catch((error: unknown) => {
        if (error instanceof LockConflictError) return undefined;
        throw error;
      });
    let stop = false;
    let gone = 0;
    let won = 0;
    const probing = (async () => {
      while (!stop) {
        const result = await orConflict(prober.acquireIfFree!(term('b')));
        if (result?.acquired) {
          won++;
          await prober.update({ ...result.snapshot.record, holderIdentity: '' }, result.snapshot.version);
        } else if (result?.snapshot.holderGone) gone++;
      }
    })();
    let cycles = 0;
    const until = performance.now() + 2_000;
    try {
      while (performance.now() < until) {
        const taken = await orConflict(holder.acquireIfFree!(term('a')));
        if (!taken?.acquired) continue;
        cycles++;
        await holder.release!({ ...taken.snapshot.record, holderIdentity: '' }, taken.snapshot.version);
      }
    } finally {
      stop = true;
      await probing;
    }
    expect(gone).toBe(0);
    expect(cycles).toBeGreaterThan(20);
    expect(won).toBeGreaterThan(20);
  });
});
