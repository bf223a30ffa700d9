/**
 * The adapter's own behaviour against the real PostgreSQL: options, the table, advisory-lock
 * semantics, fencing, holderGone, session loss, watch, cancellation, errors, connections.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import {
  AuthenticationError,
  BackendSetupError,
  BackendUnavailableError,
  ConfigError,
  InvalidRecordError,
  LockConflictError,
  PermissionDeniedError,
} from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot, Logger } from '@baton/core';
import { deferred, waitFor, within } from '@baton/contract';
import pg from 'pg';
import { PostgresLockFactory, advisoryLockKey, createPostgresLock, notifyChannel } from '../src/index.ts';
import type { PostgresLockFactoryOptions } from '../src/index.ts';
import { Closer, PG_CONFIG, adminClient, advisoryHolder, connectionsOf, dropTable, uniqueAppName, uniqueTable } from './helpers.ts';

const table = uniqueTable('adapter');
const admin = new pg.Pool({ ...PG_CONFIG, max: 3, application_name: 'baton-test-admin' });
const closer = new Closer();

afterEach(() => closer.closeAll());
afterAll(async () => {
  await dropTable(admin, table);
  await admin.end();
});

function factory(options: Partial<PostgresLockFactoryOptions> = {}): PostgresLockFactory {
  const given = options.pool !== undefined || options.connectionString !== undefined ? {} : { poolConfig: { ...PG_CONFIG, max: 2 } };
  return closer.add(new PostgresLockFactory({ table, sessionTimeout: 5_000, holderCheckInterval: 100, ...given, ...options }));
}

let counter = 0;
const uniqueName = (): string => `lock-${process.pid}-${++counter}`;

const record = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationMs: 15_000,
  acquireTime: 1_767_225_600_000,
  renewTime: 1_767_225_600_000,
  leaderTransitions: 0,
  fencingToken: 1,
  ...overrides,
});

/** A logger that keeps every message, for asserting what went wrong inside. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (fields: object, message: string): void => {
    lines.push(`${message} ${JSON.stringify(fields)}`);
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('options', () => {
  test('a lock says its holder is freed with its session: silentHolderTimeoutMs is sessionTimeout', () => {
    const factory = new PostgresLockFactory({ poolConfig: PG_CONFIG, table: uniqueTable('bound'), sessionTimeout: '3s' });
    const lock = factory.lock('bound', 'a');
    expect(lock.silentHolderTimeoutMs).toBe(3_000);
    return factory.close();
  });

  test('invalid options are ConfigErrors naming the field', () => {
    const cases: Array<[PostgresLockFactoryOptions, string]> = [
      [{}, 'connectionString'],
      [{ connectionString: 'postgres://x', poolConfig: {} }, 'connectionString'],
      [{ connectionString: '' }, 'connectionString'],
      [{ pool: {} as pg.Pool }, 'pool'],
      [{ poolConfig: PG_CONFIG, table: 'locks; DROP TABLE x' }, 'table'],
      [{ poolConfig: PG_CONFIG, table: '1abc' }, 'table'],
      [{ poolConfig: PG_CONFIG, table: 'x'.repeat(64) }, 'table'],
      [{ poolConfig: PG_CONFIG, schema: 'a"b' }, 'schema'],
      [{ poolConfig: PG_CONFIG, sessionTimeout: 'soon' }, 'sessionTimeout'],
      [{ poolConfig: PG_CONFIG, sessionTimeout: 50 }, 'sessionTimeout'],
      [{ poolConfig: PG_CONFIG, holderCheckInterval: -1 }, 'holderCheckInterval'],
      [{ poolConfig: PG_CONFIG, sessionConnections: 0 }, 'sessionConnections'],
      [{ poolConfig: PG_CONFIG, sessionConnections: 1.5 }, 'sessionConnections'],
      [{ poolConfig: PG_CONFIG, applicationName: 'ünï' }, 'applicationName'],
    ];
    for (const [options, field] of cases) {
      let caught: unknown;
      try {
        new PostgresLockFactory(options);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe(field);
    }
    const f = factory();
    const badLocks: Array<[string, string, string]> = [
      ['', 'me', 'name'],
      ['n', '', 'identity'],
      ['n', 'nul\u0000byte', 'identity'],
      ['n', 'lone \uD800 surrogate', 'identity'],
      ['x'.repeat(1025), 'me', 'name'],
    ];
    for (const [name, identity, field] of badLocks) {
      expect(() => f.lock(name, identity)).toThrow(ConfigError);
      try {
        f.lock(name, identity);
      } catch (error) {
        expect((error as ConfigError).field).toBe(field);
      }
    }
    expect(() => createPostgresLock({ poolConfig: PG_CONFIG, name: 'n', identity: '' })).toThrow(ConfigError);
  });

  test('advisory-lock keys are stable, scoped to the table, and match the documented SQL', async () => {
    // Pinned: changing the derivation would let old and new versions hold the same lock at once.
    expect(advisoryLockKey('my-app')).toBe(-3054999534446419850n);
    expect(advisoryLockKey('my-app', 'public', 'other')).not.toBe(advisoryLockKey('my-app'));
    const f = factory();
    for (const name of ['my-app', 'ünï/cødé 🚀', 'x'.repeat(500)]) {
      const { rows } = await admin.query<{ key: string }>(
        `SELECT ('x' || left(encode(sha256(convert_to('baton:public.' || $2::text || ':' || $1::text, 'UTF8')), 'hex'), 16))::bit(64)::bigint AS key`,
        [name, table],
      );
      expect(BigInt(rows[0]!.key)).toBe(f.keyOf(name));
      expect(f.lock(name, 'me').key).toBe(advisoryLockKey(name, 'public', table));
    }
    expect(notifyChannel('public', 'baton_locks')).toBe('baton:public.baton_locks');
    expect(Buffer.byteLength(notifyChannel('s'.repeat(63), 't'.repeat(63)))).toBeLessThanOrEqual(63);
  });
});

describe('the record table', () => {
  test('many processes starting at once create schema and table exactly once; names are quoted as given', async () => {
    const schema = uniqueTable('BatonSchema');
    const mixedCase = 'Leader_Records';
    closer.defer(() => admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    const factories = Array.from({ length: 10 }, () => factory({ schema, table: mixedCase }));
    await Promise.all(factories.map((f) => f.ensureTable()));
    const { rows } = await admin.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    expect(rows.map((r) => r.relname)).toEqual([mixedCase]);
    // And it works: a lock round-trips in the new table.
    const lock = factories[3]!.lock(uniqueName(), 'me');
    const created = await lock.create(record('me'));
    expect((await factories[7]!.lock(lock.name, 'other').get())?.record).toEqual(created.record);
  });

  test('a foreign table under the configured name is refused with InvalidRecordError and left untouched', async () => {
    const foreign = uniqueTable('foreign');
    closer.defer(() => dropTable(admin, foreign));
    await admin.query(`CREATE TABLE "${foreign}" (name text PRIMARY KEY, value int)`);
    await admin.query(`INSERT INTO "${foreign}" VALUES ('job', 42)`);
    const f = factory({ table: foreign });
    await expect(f.ensureTable()).rejects.toBeInstanceOf(InvalidRecordError);
    const lock = f.lock('job', 'me');
    await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(lock.create(record('me'))).rejects.toBeInstanceOf(InvalidRecordError);
    const { rows } = await admin.query(`SELECT * FROM "${foreign}"`);
    expect(rows).toEqual([{ name: 'job', value: 42 }]);
  });
});

describe('records and advisory locks', () => {
  test('the holder takes the advisory lock; others get LockConflictError until it releases', async () => {
    const name = uniqueName();
    const fa = factory();
    const fb = factory();
    const a = fa.lock(name, 'a');
    const b = fb.lock(name, 'b');
    const created = await a.create(record('a'));
    expect(await advisoryHolder(admin, a.key)).toBe(fa.sessionProcessId());
    expect(a.isHeld()).toBe(true);

    await expect(b.update(record('b', { fencingToken: 2 }), created.version)).rejects.toBeInstanceOf(LockConflictError);
    expect(b.isHeld()).toBe(false);
    expect((await b.get())?.version).toBe(created.version);

    const released = await a.update(record('', { fencingToken: 1 }), created.version);
    expect(await advisoryHolder(admin, a.key)).toBeUndefined();
    expect(a.isHeld()).toBe(false);

    const taken = await b.update(record('b', { leaderTransitions: 1, fencingToken: 2 }), released.version);
    expect(taken.record.holderIdentity).toBe('b');
    expect(await advisoryHolder(admin, b.key)).toBe(fb.sessionProcessId());
  });

  test('fencing tokens are assigned by the server: every term gets a larger one, and they never go down', async () => {
    const name = uniqueName();
    const a = factory().lock(name, 'a');
    const b = factory().lock(name, 'b');
    let s = await a.create(record('a', { fencingToken: 5 }));
    expect(s.record.fencingToken).toBe(5);
    // A renewal asking for less keeps the term's token.
    s = await a.update(record('a', { fencingToken: 3 }), s.version);
    expect(s.record.fencingToken).toBe(5);
    // The same holder asking for more starts a new term.
    s = await a.update(record('a', { fencingToken: 9 }), s.version);
    expect(s.record.fencingToken).toBe(9);
    // A release keeps the token (the counter is never reset).
    s = await a.update(record('', { fencingToken: 0 }), s.version);
    expect(s.record.fencingToken).toBe(9);
    // A new holder asking for a stale token still gets a larger one.
    s = await b.update(record('b', { fencingToken: 1 }), s.version);
    expect(s.record.fencingToken).toBe(10);
    expect((await a.get())?.record.fencingToken).toBe(10);
  });

  test('get reports holderGone once the holder session is gone: closed, or terminated', async () => {
    const name = uniqueName();
    const fa = factory();
    const a = fa.lock(name, 'a');
    const reader = factory().lock(name, 'reader');
    await a.create(record('a'));
    expect((await reader.get())?.holderGone).toBeUndefined();
    await fa.close();
    expect((await reader.get())?.holderGone).toBe(true);

    const name2 = uniqueName();
    const fc = factory();
    const c = fc.lock(name2, 'c');
    await c.create(record('c'));
    const reader2 = factory().lock(name2, 'reader');
    expect((await reader2.get())?.holderGone).toBeUndefined();
    await admin.query('SELECT pg_terminate_backend($1)', [fc.sessionProcessId()]);
    await waitFor(async () => (await reader2.get())?.holderGone === true, 2000, 'holderGone after terminate');
    // A released record never has a gone holder.
    const s = (await reader2.get())!;
    const released = await factory().lock(name2, 'x').update(record('', { fencingToken: s.record.fencingToken }), s.version);
    expect(released.holderGone).toBeUndefined();
    expect((await reader2.get())?.holderGone).toBeUndefined();
  });

  // Lease expiry of a hold runs on the injected clock: clock.test.ts.

  test('one session connection holds the locks of many names; two identities of one factory exclude each other', async () => {
    const app = uniqueAppName('baton-many');
    const f = factory({ applicationName: app });
    const names = Array.from({ length: 50 }, () => uniqueName());
    const snapshots = await Promise.all(names.map((n) => f.lock(n, 'me').create(record('me'))));
    expect(f.heldLocks().sort()).toEqual([...names].sort());
    const conns = await connectionsOf(admin, app);
    expect(conns.filter((c) => c.application_name === `${app}:session`)).toHaveLength(1);
    expect(conns.length).toBeLessThanOrEqual(1 + 2); // session + pool (max 2)

    const other = f.lock(names[0]!, 'other');
    await expect(other.update(record('other', { fencingToken: 2 }), snapshots[0]!.version)).rejects.toThrow(/held by "me" in this process/);
    await expect(other.update(record('other', { fencingToken: 2 }), snapshots[0]!.version)).rejects.toBeInstanceOf(LockConflictError);
  });

  test('with sessionConnections = 3, names spread over three sessions, and losing one loses only its own locks', async () => {
    const app = uniqueAppName('baton-sessions');
    const f = factory({ applicationName: app, sessionConnections: 3 });
    const locks = Array.from({ length: 30 }, () => f.lock(uniqueName(), 'me'));
    await Promise.all(locks.map((lock) => lock.create(record('me'))));
    const pids = new Set(locks.map((lock) => f.sessionProcessId(lock.name)));
    expect(pids.size).toBe(3);
    expect((await connectionsOf(admin, app)).filter((c) => c.application_name === `${app}:session`)).toHaveLength(3);
    for (const lock of locks) expect(await advisoryHolder(admin, lock.key)).toBe(f.sessionProcessId(lock.name));

    const victim = f.sessionProcessId(locks[0]!.name)!;
    const lost = new Set<string>();
    for (const lock of locks) lock.onSessionLost(() => lost.add(lock.name));
    await admin.query('SELECT pg_terminate_backend($1)', [victim]);
    const expected = locks.filter((lock) => f.sessionProcessId(lock.name) === victim || f.sessionProcessId(lock.name) === undefined);
    await waitFor(() => lost.size === expected.length && expected.length > 0, 2000, 'the victim session locks to be lost');
    expect(f.heldLocks()).toHaveLength(locks.length - expected.length);
    for (const lock of locks) expect(lock.isHeld()).toBe(!lost.has(lock.name));
  });

  test('onSessionLost fires at once when the session connection is terminated, for the locks it held', async () => {
    const f = factory();
    const held = f.lock(uniqueName(), 'a');
    const idle = f.lock(uniqueName(), 'a');
    const created = await held.create(record('a'));
    const lost = deferred<Error>();
    const idleLost: Error[] = [];
    held.onSessionLost((reason) => lost.resolve(reason));
    idle.onSessionLost((reason) => idleLost.push(reason));
    const at = performance.now();
    await admin.query('SELECT pg_terminate_backend($1)', [f.sessionProcessId()]);
    const reason = await within(lost.promise, 1000, 'onSessionLost');
    expect(performance.now() - at).toBeLessThan(1000);
    expect(reason.message).toMatch(/session connection lost/);
    expect(held.isHeld()).toBe(false);
    expect(idleLost).toEqual([]);
    // The same identity can take it again on a new session (nobody else took it meanwhile).
    const again = await held.update(record('a', { fencingToken: 2 }), created.version);
    expect(again.record.fencingToken).toBe(2);
    expect(await advisoryHolder(admin, held.key)).toBe(f.sessionProcessId());
  });
  test('terminated with a statement in flight: the loss is reported on its FATAL answer, before a waiter is granted the advisory lock', async () => {
    // The backend answers FATAL, frees its advisory locks (granting them to waiters), and only
    // then exits and closes its socket: the socket's end comes after a follower could lead.
    const f = factory();
    const held = f.lock(uniqueName(), 'a');
    const created = await held.create(record('a'));
    const pid = f.sessionProcessId()!;
    const events: string[] = [];
    const lost = deferred<Error>();
    held.onSessionLost((reason) => {
      events.push('lost');
      lost.resolve(reason);
    });
    const waiter = await adminClient();
    closer.defer(() => waiter.end());
    const granted = waiter.query('SELECT pg_advisory_lock($1::bigint)', [held.key.toString()]).then(() => events.push('granted'));
    const blocker = await adminClient();
    closer.defer(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM ${table} WHERE name = $1 FOR UPDATE`, [held.name]);
    // A renewal blocked on the record's row lock: a statement in flight on the session.
    const renewal = held.update(record('a', { fencingToken: 1 }), created.version).catch((error: unknown) => error);
    const waiting = async (): Promise<boolean> =>
      (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rowCount === 1;
    await waitFor(waiting, 5000, 'the renewal to wait on the row lock');

    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    const reason = await within(lost.promise, 1000, 'onSessionLost');
    await within(granted, 1000, 'the waiter to be granted the advisory lock');
    expect(events).toEqual(['lost', 'granted']);
    expect(reason.message).toMatch(/ended by the server: terminating connection due to administrator command/);
    expect(await renewal).toBeInstanceOf(BackendUnavailableError);
    expect(held.isHeld()).toBe(false);
    await blocker.query('ROLLBACK');
  });

  test('closing a held lock gives the advisory lock back, reports the loss, and refuses later calls', async () => {
    const name = uniqueName();
    const f = factory();
    const a = f.lock(name, 'a');
    await a.create(record('a'));
    const lost: Error[] = [];
    a.onSessionLost((reason) => lost.push(reason));
    await a.close();
    expect(lost.map((e) => e.message)).toEqual([expect.stringMatching(/closed while held/)]);
    expect(await advisoryHolder(admin, a.key)).toBeUndefined();
    expect((await f.lock(name, 'b').get())?.holderGone).toBe(true);
    await expect(a.get()).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(a.update(record('a'), '1')).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});

describe('watch', () => {
  test('reports health, carries the new record, and recovers after its LISTEN connection is killed', async () => {
    const name = uniqueName();
    const writer = factory().lock(name, 'writer');
    const fw = factory();
    const watcher = fw.lock(name, 'watcher');
    const health: boolean[] = [];
    const changes: Array<LockSnapshot | null | undefined> = [];
    closer.defer(
      watcher.watch({
        onChange: (s) => changes.push(s),
        onHealth: (h) => health.push(h),
      }),
    );
    await waitFor(() => health.at(-1) === true, 5000, 'watch healthy');
    const created = await writer.create(record('writer'));
    await waitFor(() => changes.some((s) => s?.version === created.version), 5000, 'the create to arrive');
    expect(changes.find((s) => s?.version === created.version)).toEqual(created);

    await admin.query('SELECT pg_terminate_backend($1)', [fw.listenerProcessId]);
    await waitFor(() => health.includes(false), 2000, 'the watch to report itself broken');
    await waitFor(() => health.at(-1) === true, 5000, 'the watch to come back');
    expect(health).toEqual([true, false, true]);
    const renewed = await writer.update(record('writer', { renewTime: 1_767_225_700_000 }), created.version);
    await waitFor(() => changes.some((s) => s?.version === renewed.version), 5000, 'the renewal to arrive');
  });

  test('a holder whose session dies is reported through the watch with holderGone', async () => {
    const name = uniqueName();
    const fa = factory();
    await fa.lock(name, 'a').create(record('a'));
    const seen: LockSnapshot[] = [];
    const watcher = factory().lock(name, 'watcher');
    const healthy = deferred();
    closer.defer(watcher.watch({ onChange: (s) => s && seen.push(s), onHealth: (h) => h && healthy.resolve() }));
    await within(healthy.promise, 5000, 'watch healthy');
    const at = performance.now();
    await admin.query('SELECT pg_terminate_backend($1)', [fa.sessionProcessId()]);
    await waitFor(() => seen.some((s) => s.holderGone === true), 1000, 'holderGone through the watch');
    expect(performance.now() - at).toBeLessThan(1000);
    expect(seen.find((s) => s.holderGone)?.record.holderIdentity).toBe('a');
  });

  test('a record too large for a NOTIFY payload is written, and watchers are told to re-read', async () => {
    const name = uniqueName();
    const identity = 'big-'.repeat(2500);
    const writer = factory().lock(name, identity);
    const watcher = factory().lock(name, 'watcher');
    const healthy = deferred();
    const changes: Array<LockSnapshot | null | undefined> = [];
    closer.defer(watcher.watch({ onChange: (s) => changes.push(s), onHealth: (h) => h && healthy.resolve() }));
    await within(healthy.promise, 5000, 'watch healthy');
    const created = await writer.create(record(identity));
    await waitFor(() => changes.includes(undefined), 1000, 'a re-read notification');
    expect((await watcher.get())?.record).toEqual(created.record);
  });
});

describe('cancellation and errors', () => {
  test('a call whose signal aborts settles at once, and local state stays consistent with the server', async () => {
    const name = uniqueName();
    const f = factory();
    const a = f.lock(name, 'a');
    const seeded = await factory().lock(name, 'seed').create(record(''));
    // Another transaction holds the row, so the write blocks on the server.
    const blocker = await adminClient();
    closer.defer(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query(`SELECT * FROM "${table}" WHERE name = $1 FOR UPDATE`, [name]);
    const controller = new AbortController();
    const call = a.update(record('a', { fencingToken: 2 }), seeded.version, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const at = performance.now();
    await expect(call).rejects.toThrow(/abort/i);
    expect(performance.now() - at).toBeLessThan(300);
    // Let the blocked write finish; afterwards the hold and the record agree.
    await blocker.query('ROLLBACK');
    await waitFor(async () => {
      const stored = await a.get();
      const holder = await advisoryHolder(admin, a.key);
      return stored?.record.holderIdentity === 'a' ? holder === f.sessionProcessId() && a.isHeld() : holder === undefined && !a.isHeld();
    }, 3000, 'hold and record to agree');
  });

  test('a call without a signal is bounded by operationTimeout', async () => {
    const name = uniqueName();
    const a = factory({ operationTimeout: 300 }).lock(name, 'a');
    const seeded = await factory().lock(name, 'seed').create(record(''));
    const blocker = await adminClient();
    closer.defer(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query(`SELECT * FROM "${table}" WHERE name = $1 FOR UPDATE`, [name]);
    const at = performance.now();
    await expect(a.update(record('a', { fencingToken: 2 }), seeded.version)).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(performance.now() - at).toBeLessThan(1000);
    await blocker.query('ROLLBACK');
  });

  test('missing privileges are a PermissionDeniedError', async () => {
    const role = uniqueTable('baton_noperm');
    await factory().ensureTable();
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    closer.defer(() => admin.query(`DROP ROLE IF EXISTS "${role}"`));
    const f = factory({ poolConfig: { ...PG_CONFIG, user: role, max: 1 } });
    await expect(f.lock(uniqueName(), 'me').get()).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  test('a database that does not exist and a role the server does not know are permanent typed errors', async () => {
    const missing = factory({ poolConfig: { ...PG_CONFIG, database: uniqueTable('baton_no_db'), max: 1 } });
    const setup = await missing.lock(uniqueName(), 'me').get().catch((error: unknown) => error);
    expect(setup).toBeInstanceOf(BackendSetupError);
    expect((setup as BackendSetupError).permanent).toBe(true);
    expect((setup as Error).message).toMatch(/does not exist.*3D000/);

    const stranger = factory({ poolConfig: { ...PG_CONFIG, user: uniqueTable('baton_no_role'), max: 1 } });
    const auth = await stranger.lock(uniqueName(), 'me').get().catch((error: unknown) => error);
    expect(auth).toBeInstanceOf(AuthenticationError);
    expect((auth as AuthenticationError).permanent).toBe(true);
  });

  test('an unreachable server is a BackendUnavailableError', async () => {
    const f = factory({ poolConfig: { host: '127.0.0.1', port: 1, user: 'postgres', database: 'test' }, connectTimeout: 500 });
    await expect(f.lock(uniqueName(), 'me').get()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  test('TLS settings reach every connection baton opens, the dedicated ones included', async () => {
    // This server has ssl = off, so a client that insists on TLS is refused: that proves the
    // setting reached the connection. (Against a TLS server the same options connect.)
    const logger = recordingLogger();
    const tlsPool = new pg.Pool({ ...PG_CONFIG, ssl: { rejectUnauthorized: false }, max: 1 });
    closer.defer(() => tlsPool.end());
    tlsPool.on('error', () => {});
    const f = factory({ pool: tlsPool, logger });
    const lock = f.lock(uniqueName(), 'me');
    await expect(lock.get()).rejects.toThrow(/SSL/);
    closer.defer(lock.watch({ onChange: () => {} }));
    await waitFor(() => logger.lines.some((l) => l.includes('LISTEN failed') && l.includes('SSL')), 3000, 'the LISTEN connection to try TLS');
    await expect(lock.create(record('me'))).rejects.toThrow(/SSL/);
  });
});

describe('connections', () => {
  test('close() ends what the factory opened, and leaves a pool passed in open', async () => {
    const app = uniqueAppName('baton-close');
    const own = factory({ poolConfig: { ...PG_CONFIG, max: 2 }, applicationName: app });
    const lock = own.lock(uniqueName(), 'me');
    await lock.create(record('me'));
    closer.defer(lock.watch({ onChange: () => {} }));
    await waitFor(async () => (await connectionsOf(admin, app)).some((c) => c.application_name === `${app}:listen`), 3000, 'the LISTEN connection');
    expect((await connectionsOf(admin, app)).length).toBeGreaterThanOrEqual(3);
    await own.close();
    await waitFor(async () => (await connectionsOf(admin, app)).length === 0, 3000, 'every connection to close');
    await expect(lock.get()).rejects.toBeInstanceOf(BackendUnavailableError);

    const app2 = uniqueAppName('baton-given');
    const given = new pg.Pool({ ...PG_CONFIG, max: 2, application_name: `${app2}:pool` });
    closer.defer(() => given.end());
    const borrowed = factory({ pool: given, applicationName: app2 });
    await borrowed.lock(uniqueName(), 'me').create(record('me'));
    await borrowed.close();
    await waitFor(async () => (await connectionsOf(admin, app2)).every((c) => c.application_name === `${app2}:pool`), 3000, 'session to close');
    expect((await given.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });
});
