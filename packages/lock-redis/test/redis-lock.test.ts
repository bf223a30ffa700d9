import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { waitFor, within, deferred } from '@baton/contract';
import {
  AbortedError,
  BackendUnavailableError,
  ConfigError,
  InvalidRecordError,
  LockConflictError,
  LockNotFoundError,
  PermissionDeniedError,
  AuthenticationError,
  BackendSetupError,
  isPermanentError,
} from '@baton/core';
import type { LockSnapshot } from '@baton/core';
import { Redis } from 'ioredis';
import { RedisLock, RedisLockFactory } from '../src/index.ts';
import { SHARED, adminClient, deleteKeys, measured, runCandidate, stopAll, testPrefix, record } from './support/env.ts';
import type { Candidate } from './support/env.ts';
import { RedisServerProcess, TcpProxy } from '@baton/testkit';

// The adapter's own behaviour against the shared redis-server on 6379 (and, for ACL and a
// black-holed connection, servers and a proxy of this file's own).

const keyPrefix = testPrefix();
const admin = adminClient();
const cleanups: Array<() => Promise<void> | void> = [];
let counter = 0;
const uniqueName = (): string => `lock-${++counter}`;

function openLock(name: string, identity: string, extra: Partial<ConstructorParameters<typeof RedisLock>[0]> = {}): RedisLock {
  const lock = new RedisLock({ connection: { ...SHARED }, keyPrefix, name, identity, ...extra });
  cleanups.push(() => lock.close());
  return lock;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await deleteKeys(admin, keyPrefix);
  await admin.quit();
  for (const [name, value] of Object.entries(measured)) console.log(`measured: ${name}: ${value}`);
});

describe('storage layout', () => {
  test('the record is a readable hash in the lock’s hash slot, with an expiry well beyond the lease', async () => {
    const name = uniqueName();
    const lock = openLock(name, 'a');
    expect(lock.describe()).toBe(`redis ${keyPrefix}{${name}}`);
    expect(lock.keys).toEqual({ record: `${keyPrefix}{${name}}`, fence: `${keyPrefix}{${name}}:fence`, channel: `${keyPrefix}{${name}}:changes` });
    const created = await lock.create(record('a'));
    expect(await admin.hgetall(lock.keys.record)).toEqual({
      holderIdentity: 'a',
      leaseDurationMs: '1500',
      acquireTime: '1767225600000',
      renewTime: '1767225600000',
      leaderTransitions: '0',
      fencingToken: '1',
      version: created.version,
    });
    const ttl = await admin.pttl(lock.keys.record);
    expect(ttl).toBeGreaterThan(1500 * 9);
    expect(ttl).toBeLessThanOrEqual(1500 * 10);
    expect(await admin.get(lock.keys.fence)).toBe('1');
    expect(await admin.pttl(lock.keys.fence)).toBe(-1); // the counter never expires
  });

  test('expiryFactor sets the backstop expiry, and every write refreshes it', async () => {
    const lock = openLock(uniqueName(), 'a', { expiryFactor: 3 });
    const created = await lock.create(record('a', { leaseDurationMs: 10_000 }));
    await admin.pexpire(lock.keys.record, 1000);
    await lock.update(record('a', { leaseDurationMs: 10_000, renewTime: 1_767_225_601_000 }), created.version);
    const ttl = await admin.pttl(lock.keys.record);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  test('fields baton does not own are kept by updates', async () => {
    const lock = openLock(uniqueName(), 'a');
    const created = await lock.create(record('a'));
    await admin.hset(lock.keys.record, 'owner-team', 'payments');
    await lock.update(record('a', { renewTime: 1_767_225_602_000 }), created.version);
    expect(await admin.hget(lock.keys.record, 'owner-team')).toBe('payments');
  });
});

describe('fencing counter', () => {
  test('acquisitions store max(requested, INCR counter); renewals and releases keep the token', async () => {
    const lock = openLock(uniqueName(), 'a');
    const first = await lock.create(record('a', { fencingToken: 1 }));
    expect(first.record.fencingToken).toBe(1);
    // A renewal (same holder, same token) keeps it and does not count.
    const renewed = await lock.update(record('a', { renewTime: 1_767_225_601_000 }), first.version);
    expect(renewed.record.fencingToken).toBe(1);
    expect(await admin.get(lock.keys.fence)).toBe('1');
    // Another holder asking for a stale token still gets a larger one than any before.
    const taken = await lock.update(record('b', { fencingToken: 1, leaderTransitions: 1 }), renewed.version);
    expect(taken.record.fencingToken).toBe(2);
    expect((await lock.get())?.record.fencingToken).toBe(2);
    // A release keeps the token.
    const released = await lock.update({ ...taken.record, holderIdentity: '' }, taken.version);
    expect(released.record.fencingToken).toBe(2);
    // The same identity acquiring again (new token asked) counts as an acquisition.
    const again = await lock.update(record('b', { fencingToken: 2, leaderTransitions: 1 }), released.version);
    expect(again.record.fencingToken).toBe(3);
    // Asking for more than the counter moves the counter up.
    const jump = await lock.update(record('c', { fencingToken: 100, leaderTransitions: 2 }), again.version);
    expect(jump.record.fencingToken).toBe(100);
    expect(await admin.get(lock.keys.fence)).toBe('100');
  });

  test('tokens keep growing after the record key is deleted or expires', async () => {
    const lock = openLock(uniqueName(), 'a');
    const first = await lock.create(record('a', { fencingToken: 1 }));
    const second = await lock.update(record('b', { fencingToken: 2, leaderTransitions: 1 }), first.version);
    expect(second.record.fencingToken).toBe(2);
    await admin.del(lock.keys.record);
    // A newcomer that never saw the old record asks for token 1 and gets 3.
    const recreated = await lock.create(record('c', { fencingToken: 1 }));
    expect(recreated.record.fencingToken).toBe(3);
    await admin.pexpire(lock.keys.record, 1);
    await waitFor(async () => (await admin.exists(lock.keys.record)) === 0, 2000, 'the record to expire');
    expect(await lock.get()).toBeNull();
    expect((await lock.create(record('d', { fencingToken: 1 }))).record.fencingToken).toBe(4);
  });
});

describe('compare-and-swap', () => {
  test('update of a deleted record is a LockNotFoundError; a made-up version a LockConflictError', async () => {
    const lock = openLock(uniqueName(), 'a');
    const created = await lock.create(record('a'));
    await expect(lock.update(record('a'), 'not-the-version')).rejects.toBeInstanceOf(LockConflictError);
    await expect(lock.update(record('a'), '')).rejects.toBeInstanceOf(LockConflictError);
    await admin.del(lock.keys.record);
    await expect(lock.update(record('a'), created.version)).rejects.toBeInstanceOf(LockNotFoundError);
  });

  test('versions never repeat after a delete and re-create (no ABA)', async () => {
    const lock = openLock(uniqueName(), 'a');
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const created = await lock.create(record('a', { fencingToken: i + 1 }));
      expect(seen.has(created.version)).toBe(false);
      seen.add(created.version);
      await admin.del(lock.keys.record);
    }
  });

  test('a record that is not valid is rejected before anything is sent', async () => {
    const lock = openLock(uniqueName(), 'a');
    await expect(lock.create({ ...record('a'), leaseDurationMs: 0 })).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(lock.create({ ...record('a'), fencingToken: 1.5 })).rejects.toBeInstanceOf(InvalidRecordError);
    expect(await admin.exists(lock.keys.record)).toBe(0);
  });
});

describe('garbage in the key is an InvalidRecordError and is never overwritten', () => {
  const plants: Array<[string, (key: string) => Promise<unknown>, Record<string, string> | string]> = [
    ['a list', (key) => admin.rpush(key, 'x'), 'list'],
    ['a string', (key) => admin.set(key, '{"holderIdentity":"a"}'), 'string'],
    ['a set', (key) => admin.sadd(key, 'x'), 'set'],
    ['a foreign hash', (key) => admin.hset(key, 'owner', 'someone else'), 'the hash has no holderIdentity field'],
    [
      'a hash with a bad number',
      (key) =>
        admin.hset(key, { holderIdentity: 'a', leaseDurationMs: 'soon', acquireTime: '1', renewTime: '1', leaderTransitions: '0', fencingToken: '1', version: 'v1' }),
      'leaseDurationMs must be a positive integer, got "soon"',
    ],
    [
      'a hash without a version',
      (key) => admin.hset(key, { holderIdentity: 'a', leaseDurationMs: '1', acquireTime: '1', renewTime: '1', leaderTransitions: '0', fencingToken: '1' }),
      'no version field',
    ],
  ];
  for (const [what, plant, detail] of plants) {
    test(what, async () => {
      const lock = openLock(uniqueName(), 'a');
      await plant(lock.keys.record);
      const dump = await admin.dump(lock.keys.record);
      const error = await lock.get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRecordError);
      expect((error as Error).message).toContain(typeof detail === 'string' ? detail : '');
      await expect(lock.create(record('a'))).rejects.toBeInstanceOf(what.includes('hash') ? LockConflictError : InvalidRecordError);
      await expect(lock.update(record('a'), 'v1')).rejects.toBeInstanceOf(InvalidRecordError);
      expect(await admin.dump(lock.keys.record)).toEqual(dump);
    });
  }
});

describe('watch', () => {
  test('onChange carries the new snapshot; onHealth goes false on a killed subscriber and true after resubscribing', async () => {
    const name = uniqueName();
    const writer = openLock(name, 'writer');
    const factory = new RedisLockFactory({ connection: { ...SHARED }, keyPrefix });
    cleanups.push(() => factory.close());
    const watcher = factory.lock(name, 'watcher');
    const health: boolean[] = [];
    const changes: Array<LockSnapshot | null | undefined> = [];
    const stop = watcher.watch({ onChange: (s) => changes.push(s), onHealth: (h) => health.push(h) });
    cleanups.push(stop);
    await waitFor(() => health.at(-1) === true, 5000, 'the watch to be healthy');

    const created = await writer.create(record('writer'));
    await waitFor(() => changes.length === 1, 1000, 'the create to arrive');
    expect(changes[0]).toEqual(created);

    // By address: a subscribed connection may send no CLIENT ID (ioredis 5 refuses it).
    const { localAddress, localPort } = (factory.subscriberClient as Redis).stream;
    await admin.client('KILL', `${localAddress}:${localPort}`);
    await waitFor(() => health.length >= 3 && health.at(-1) === true, 5000, 'the watch to drop and come back');
    expect(health).toEqual([true, false, true]);

    const updated = await writer.update(record('writer', { renewTime: 1_767_225_609_000 }), created.version);
    await waitFor(() => changes.length === 2, 1000, 'an update after resubscribing');
    expect(changes[1]).toEqual(updated);
  });

  test('odd identities and large values reach watchers exactly as stored', async () => {
    const name = uniqueName();
    const writer = openLock(name, 'writer');
    const watcher = openLock(name, 'watcher');
    const changes: Array<LockSnapshot | null | undefined> = [];
    let healthy = false;
    watcher.watch({ onChange: (s) => changes.push(s), onHealth: (h) => (healthy = h) });
    await waitFor(() => healthy, 5000, 'the watch');
    const identities = ['pod-ünïcødé-🚀', 'a "quoted" \'name\'\twith\nnewlines', 'slash/and\\backslash:{brace}', '\u0000nul', 'x'.repeat(10_000)];
    let version: string | undefined;
    for (const [i, identity] of identities.entries()) {
      const next = record(identity, { fencingToken: 2 ** 52 + i, acquireTime: 4_102_444_800_999, leaderTransitions: 2 ** 31 + i });
      const written = version === undefined ? await writer.create(next) : await writer.update(next, version);
      version = written.version;
      await waitFor(() => changes.length === i + 1, 1000, `change ${i}`);
      expect(changes[i]).toEqual(written);
      expect(written.record).toEqual(next);
    }
  });

  test('every watcher of a channel hears each change once; a stopped watcher hears nothing more', async () => {
    const name = uniqueName();
    const writer = openLock(name, 'writer');
    const factory = new RedisLockFactory({ connection: { ...SHARED }, keyPrefix });
    cleanups.push(() => factory.close());
    const heard = [0, 0, 0];
    const healthy = [false, false, false];
    const stops = [0, 1, 2].map((i) =>
      factory.lock(name, `w${i}`).watch({ onChange: () => heard[i]!++, onHealth: (h) => (healthy[i] = h) }),
    );
    await waitFor(() => healthy.every(Boolean), 5000, 'all watchers healthy');
    const first = await writer.create(record('writer'));
    await waitFor(() => heard.every((n) => n === 1), 1000, 'everyone to hear the create');
    stops[1]!();
    await writer.update(record('writer', { renewTime: 1_767_225_601_000 }), first.version);
    await waitFor(() => heard[0] === 2 && heard[2] === 2, 1000, 'the others to hear the update');
    expect(heard[1]).toBe(1);
    stops[0]!();
    stops[2]!();
  });

  test('1,000 watched locks in one factory share one command and one subscriber connection', async () => {
    const connectionName = `baton-many-${process.pid}`;
    const factory = new RedisLockFactory({ connection: { ...SHARED }, keyPrefix, connectionName });
    cleanups.push(() => factory.close());
    const locks = Array.from({ length: 1000 }, (_, i) => factory.lock(`many-${i}`, 'me'));
    let healthy = 0;
    const stops = locks.map((lock) => lock.watch({ onChange: () => {}, onHealth: (h) => (healthy += h ? 1 : -1) }));
    await waitFor(() => healthy === 1000, 10_000, 'all 1,000 watches healthy');
    await Promise.all(locks.slice(0, 50).map((lock) => lock.get()));
    const clients = (await admin.client('LIST')) as string;
    const ours = clients.split('\n').filter((line) => line.includes(` name=${connectionName}`));
    expect(ours).toHaveLength(2); // commands + subscriber
    for (const stop of stops) stop();
  });

  test('a follower takes a released lease through pub/sub within milliseconds', async () => {
    const name = uniqueName();
    const leader = runCandidate(openLock(name, 'leader'), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    const candidates: Candidate[] = [leader];
    cleanups.push(() => stopAll(candidates));
    await waitFor(() => leader.elector.isLeader(), 5000, 'a leader');
    const follower = runCandidate(openLock(name, 'follower'), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    candidates.push(follower);
    await waitFor(() => follower.elector.getLeader() === 'leader', 5000, 'the follower to see the leader');
    const samples: number[] = [];
    // Hand the lease back and forth a few times; each time the other side must take it at once.
    let [from, to] = [leader, follower];
    for (let i = 0; i < 6; i++) {
      const released = performance.now();
      from.stop.abort();
      await from.done;
      await waitFor(() => to.elector.isLeader(), 2000, 'the follower to take over');
      samples.push(to.started.at(-1)!.at - released);
      const next = runCandidate(openLock(name, `${from.identity.split('#')[0]}#${i}`), {
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      });
      candidates.push(next);
      await waitFor(() => next.elector.getLeader() === to.identity, 5000, 'the new follower to see the leader');
      [from, to] = [to, next];
    }
    samples.sort((a, b) => a - b);
    // The retry period is 2 s: anything far below it came through pub/sub, not polling.
    expect(samples.at(-1)!).toBeLessThan(500);
    measured['handover after release (stop → follower leads), lease 15s / retry 2s'] =
      `median ${samples[samples.length >> 1]!.toFixed(1)} ms, max ${samples.at(-1)!.toFixed(1)} ms over ${samples.length} handovers`;
  });
});

describe('connections', () => {
  test('an unreachable server fails fast with BackendUnavailableError', async () => {
    const lock = openLock(uniqueName(), 'a', { connection: { host: '127.0.0.1', port: 1 } });
    const started = performance.now();
    const error = await lock.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    // While reconnecting, calls fail at once rather than queue.
    await expect(lock.create(record('a'))).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(performance.now() - started).toBeLessThan(500);
  });

  test('a call settles as soon as its signal aborts, even when the server never answers', async () => {
    const server = await RedisServerProcess.start();
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => server.stop(), () => proxy.close());
    const lock = openLock(uniqueName(), 'a', { connection: { host: '127.0.0.1', port: proxy.port } });
    expect(await lock.get()).toBeNull();
    proxy.hang();
    const controller = new AbortController();
    const pending = lock.get({ signal: controller.signal });
    const abortedAt = performance.now();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - abortedAt).toBeLessThan(50);
    // Without a signal the operation timeout bounds the call.
    const timed = openLock(uniqueName(), 'b', { connection: { host: '127.0.0.1', port: proxy.port }, operationTimeout: 300 });
    const started = performance.now();
    await expect(timed.get()).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(performance.now() - started).toBeLessThan(1000);
    proxy.heal();
  });

  test('a database index the server does not have is a permanent BackendSetupError, and nothing lands in database 0', async () => {
    const lock = openLock(uniqueName(), 'a', { connection: { ...SHARED, db: 99 } });
    const error = await lock.create(record('a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendSetupError);
    expect((error as Error).message).toMatch(/^Redis has no database 99 \(.*DB index is out of range/);
    expect(isPermanentError(error)).toBe(true);
    await expect(lock.get()).rejects.toBeInstanceOf(BackendSetupError);
    expect(await admin.exists(lock.keys.record)).toBe(0);
  });

  test('ACL: missing key rights are a PermissionDeniedError; wrong credentials an AuthenticationError; both permanent', async () => {
    const server = await RedisServerProcess.start();
    cleanups.push(() => server.stop());
    const setup = adminClient(server.port);
    cleanups.push(() => void setup.disconnect());
    await setup.acl('SETUSER', 'elsewhere', 'on', '>secret', '~other:*', '&*', '+@all');
    await setup.acl('SETUSER', 'baton', 'on', '>secret', `~${keyPrefix}*`, '&*', '+@all');
    const connection = { host: '127.0.0.1', port: server.port, username: 'elsewhere', password: 'secret' };
    const denied = openLock(uniqueName(), 'a', { connection });
    await expect(denied.get()).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(denied.create(record('a'))).rejects.toBeInstanceOf(PermissionDeniedError);
    const wrong = openLock(uniqueName(), 'a', { connection: { ...connection, password: 'wrong' } });
    const error = await wrong.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toMatch(/Redis rejected the credentials: WRONGPASS/);
    expect(isPermanentError(error)).toBe(true);
    expect(isPermanentError(await denied.get().catch((e: unknown) => e))).toBe(true);
    const allowed = openLock(uniqueName(), 'a', { connection: { ...connection, username: 'baton' } });
    expect((await allowed.create(record('a'))).record.fencingToken).toBe(1);
    // Key rights but no channel rights: the script's PUBLISH is refused before it writes anything.
    await setup.acl('SETUSER', 'mute', 'on', '>secret', `~${keyPrefix}*`, 'resetchannels', '+@all');
    const mute = openLock(uniqueName(), 'a', { connection: { ...connection, username: 'mute' } });
    await expect(mute.create(record('a'))).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(await setup.exists(mute.keys.record)).toBe(0);
    // ... and its SUBSCRIBE is refused: the watch stays unhealthy (electors poll), without a reconnect storm.
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_: object, message: string) => void warnings.push(message) };
    const muteFactory = new RedisLockFactory({ connection: { ...connection, username: 'mute' }, keyPrefix, logger });
    cleanups.push(() => muteFactory.close());
    const health: boolean[] = [];
    muteFactory.lock(uniqueName(), 'a').watch({ onChange: () => {}, onHealth: (h) => health.push(h) });
    await waitFor(() => warnings.some((w) => w.includes('SUBSCRIBE refused')), 5000, 'the refusal to be logged');
    const subscriber = muteFactory.subscriberClient!;
    const subscriberId = await subscriber.client('ID');
    const until = performance.now() + 300;
    await waitFor(() => {
      expect(muteFactory.subscriberClient).toBe(subscriber);
      expect(subscriber.status).toBe('ready');
      return performance.now() > until;
    }, 1000, '300 ms on the same connection');
    expect(await subscriber.client('ID')).toBe(subscriberId);
    expect(health).toEqual([]);
  });

  test('a client passed in is used as is and left open; only the subscriber baton opened is closed', async () => {
    const client = new Redis({ ...SHARED, lazyConnect: true });
    cleanups.push(() => void client.disconnect());
    const factory = new RedisLockFactory({ client, keyPrefix });
    const lock = factory.lock(uniqueName(), 'a');
    expect(factory.client).toBe(client);
    // lazyConnect: the first call connects.
    expect(await lock.get()).toBeNull();
    const healthy = deferred();
    lock.watch({ onChange: () => {}, onHealth: (h) => h && healthy.resolve() });
    await within(healthy.promise, 5000, 'the watch');
    const subscriber = factory.subscriberClient!;
    expect(subscriber).not.toBe(client);
    await factory.close();
    expect(subscriber.status).toBe('end');
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    // The lock of a closed factory fails cleanly.
    await expect(lock.get()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  test('a URL is accepted as connection options', async () => {
    const lock = openLock(uniqueName(), 'a', { connection: `redis://${SHARED.host}:${SHARED.port}/0` });
    expect(await lock.get()).toBeNull();
  });
});

describe('options', () => {
  test.each([
    ['neither client nor connection', 'connection', { keyPrefix }],
    ['both client and connection', 'client', { connection: {}, client: { evalsha: () => {} } }],
    ['a client that is not ioredis', 'client', { client: {} }],
    ['a prefix with a brace', 'keyPrefix', { connection: {}, keyPrefix: 'a{b}:' }],
    ['an expiry factor below 2', 'expiryFactor', { connection: {}, expiryFactor: 1 }],
    ['a bad duration', 'operationTimeout', { connection: {}, operationTimeout: 'soon' }],
    ['a negative duration', 'socketTimeout', { connection: {}, socketTimeout: -5 }],
    ['a cluster without nodes', 'connection.cluster', { connection: { cluster: [] } }],
    ['a connection name with a space', 'connectionName', { connection: {}, connectionName: 'has space' }],
  ])('%s is a ConfigError naming %s', (_, field, options) => {
    const error = (() => {
      try {
        new RedisLockFactory(options as never);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });

  test('lock names and identities are checked', () => {
    const factory = new RedisLockFactory({ connection: { ...SHARED, lazyConnect: true }, keyPrefix });
    cleanups.push(() => factory.close());
    expect(() => factory.lock('', 'a')).toThrow(ConfigError);
    expect(() => factory.lock('a{b}', 'a')).toThrow(/hash tag/);
    expect(() => factory.lock('a', '')).toThrow(ConfigError);
  });
});
