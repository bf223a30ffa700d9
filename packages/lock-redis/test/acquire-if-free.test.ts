import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { InvalidRecordError, PermissionDeniedError } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot } from '@baton/core';
import { RedisLock, RedisLockFactory } from '../src/index.ts';
import { SHARED, adminClient, deleteKeys, testPrefix, record as heldBy } from './support/env.ts';
import { RedisServerProcess } from '@baton/testkit';

// The fast path (acquire.lua): one script call that takes an absent or released lock and
// never writes over a holder or over data that is not a baton record. Shared server on 6379.

const keyPrefix = testPrefix();
const admin = adminClient();
const factory = new RedisLockFactory({ connection: { ...SHARED }, keyPrefix });
const cleanups: Array<() => Promise<void> | void> = [];
let counter = 0;
const uniqueName = (): string => `fast-${++counter}`;

const record = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => heldBy(holderIdentity, { leaseDurationMs: 15_000, ...overrides });

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await factory.close();
  await deleteKeys(admin, keyPrefix);
  await admin.quit();
});

/** What a test needs to prove that nothing was written: the key's bytes and the counter. */
async function stored(lock: RedisLock): Promise<{ dump: Buffer | null; fence: string | null }> {
  return { dump: await admin.dumpBuffer(lock.keys.record), fence: await admin.get(lock.keys.fence) };
}

describe('acquireIfFree takes a free lock in one call', () => {
  test('absent: stores the record as a new term (token from the counter), publishes it and sets the backstop expiry', async () => {
    const name = uniqueName();
    const lock = factory.lock(name, 'a');
    const watcher = factory.lock(name, 'watcher');
    const changes: Array<LockSnapshot | null | undefined> = [];
    let healthy = false;
    cleanups.push(watcher.watch({ onChange: (s) => changes.push(s), onHealth: (h) => (healthy = h) }));
    await waitFor(() => healthy, 5000, 'the watch');

    const result = await lock.acquireIfFree(record('a', { leaderTransitions: 4 }));
    expect(result.acquired).toBe(true);
    expect(result.snapshot.record).toEqual(record('a', { leaderTransitions: 4, fencingToken: 1 }));
    expect(await lock.get()).toEqual(result.snapshot);
    expect(await admin.get(lock.keys.fence)).toBe('1');
    const ttl = await admin.pttl(lock.keys.record);
    expect(ttl).toBeGreaterThan(15_000 * 9);
    expect(ttl).toBeLessThanOrEqual(15_000 * 10);
    await waitFor(() => changes.length === 1, 2000, 'the change message');
    expect(changes[0]).toEqual(result.snapshot);
  });

  test('released: a new term over it — transition counted, token above the released one and the counter', async () => {
    const lock = factory.lock(uniqueName(), 'b');
    const first = await lock.create(record('a', { fencingToken: 7, leaderTransitions: 2 }));
    const released = await lock.update({ ...first.record, holderIdentity: '' }, first.version);
    const result = await lock.acquireIfFree(record('b', { fencingToken: 1, leaderTransitions: 0, acquireTime: 1_767_225_700_000, renewTime: 1_767_225_700_000 }));
    expect(result.acquired).toBe(true);
    expect(result.snapshot.record).toEqual({
      holderIdentity: 'b',
      leaseDurationMs: 15_000,
      acquireTime: 1_767_225_700_000,
      renewTime: 1_767_225_700_000,
      leaderTransitions: 3,
      fencingToken: 8,
    });
    expect(result.snapshot.version).not.toBe(released.version);
    expect(await lock.get()).toEqual(result.snapshot);
    expect(await admin.get(lock.keys.fence)).toBe('8');
    // A larger requested token wins over the counter, and moves the counter up.
    const again = await lock.update({ ...result.snapshot.record, holderIdentity: '' }, result.snapshot.version);
    const jump = await lock.acquireIfFree(record('c', { fencingToken: 100 }));
    expect(jump.acquired && jump.snapshot.record.fencingToken).toBe(100);
    expect(jump.snapshot.record.leaderTransitions).toBe(again.record.leaderTransitions + 1);
    expect(await admin.get(lock.keys.fence)).toBe('100');
  });

  test('fencing tokens keep growing after the record key is deleted', async () => {
    const lock = factory.lock(uniqueName(), 'a');
    const tokens: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await lock.acquireIfFree(record(`holder-${i}`, { fencingToken: 1 }));
      expect(result.acquired).toBe(true);
      tokens.push(result.snapshot.record.fencingToken);
      await admin.del(lock.keys.record);
    }
    expect(tokens).toEqual([1, 2, 3, 4]);
  });

  test('of N concurrent calls on a free lock exactly one acquires; the others are told who holds it', async () => {
    const name = uniqueName();
    const locks = Array.from({ length: 8 }, (_, i) => factory.lock(name, `c${i}`));
    const results = await Promise.all(locks.map((lock) => lock.acquireIfFree(record(lock.identity))));
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    for (const r of results) expect(r.snapshot).toEqual(winners[0]!.snapshot);
  });
});

describe('acquireIfFree never writes over a holder', () => {
  const holders: Array<[string, (lock: RedisLock) => Promise<LockSnapshot>]> = [
    ['held by another identity', (lock) => lock.create(record('other'))],
    ['held by the caller’s own identity', (lock) => lock.create(record(lock.identity))],
    ['held with a renewTime long past (expiry is the caller’s judgement, not the server’s)', (lock) => lock.create(record('other', { renewTime: 1, acquireTime: 1 }))],
  ];
  for (const [what, hold] of holders) {
    test(what, async () => {
      const lock = factory.lock(uniqueName(), 'me');
      const held = await hold(lock);
      const before = await stored(lock);
      const result = await lock.acquireIfFree(record('me', { fencingToken: 50 }));
      expect(result).toEqual({ acquired: false, snapshot: held });
      expect(await stored(lock)).toEqual(before);
    });
  }
});

describe('data that is not a baton record is an InvalidRecordError and is left untouched', () => {
  const base = { leaseDurationMs: '1', acquireTime: '1', renewTime: '1', leaderTransitions: '0', fencingToken: '1', version: 'v1' };
  const plants: Array<[string, (key: string) => Promise<unknown>, string]> = [
    ['a list', (key) => admin.rpush(key, 'x'), 'holds a list'],
    ['a string', (key) => admin.set(key, 'x'), 'holds a string'],
    ['a foreign hash', (key) => admin.hset(key, 'owner', 'someone else'), 'no version field'],
    ['a hash without a holder', (key) => admin.hset(key, { ...base }), 'no holderIdentity field'],
    ['a released record with a bad number', (key) => admin.hset(key, { ...base, holderIdentity: '', fencingToken: 'x' }), 'fencingToken'],
    ['a released record with a missing field', (key) => admin.hset(key, { ...base, holderIdentity: '', leaderTransitions: undefined as never }).then(() => admin.hdel(key, 'leaderTransitions')), 'leaderTransitions'],
    ['a held record with a bad number', (key) => admin.hset(key, { ...base, holderIdentity: 'x', leaseDurationMs: 'soon' }), 'leaseDurationMs'],
  ];
  for (const [what, plant, detail] of plants) {
    test(what, async () => {
      const lock = factory.lock(uniqueName(), 'me');
      await plant(lock.keys.record);
      const before = await stored(lock);
      const error = await lock.acquireIfFree(record('me')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRecordError);
      expect((error as Error).message).toContain(detail);
      expect(await stored(lock)).toEqual(before);
    });
  }

  test('a record that names no holder, or is not valid, is refused before anything is sent', async () => {
    const lock = factory.lock(uniqueName(), 'me');
    await expect(lock.acquireIfFree(record(''))).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(lock.acquireIfFree(record('me', { fencingToken: -1 }))).rejects.toBeInstanceOf(InvalidRecordError);
    expect(await stored(lock)).toEqual({ dump: null, fence: null });
  });
});

test('ACL: without channel rights the call is refused before the record is written; without key rights too', async () => {
  const server = await RedisServerProcess.start();
  cleanups.push(() => server.stop());
  const setup = adminClient(server.port);
  cleanups.push(() => void setup.disconnect());
  await setup.acl('SETUSER', 'mute', 'on', '>secret', `~${keyPrefix}*`, 'resetchannels', '+@all');
  await setup.acl('SETUSER', 'elsewhere', 'on', '>secret', '~other:*', '&*', '+@all');
  for (const username of ['mute', 'elsewhere']) {
    const lock = new RedisLock({ connection: { host: '127.0.0.1', port: server.port, username, password: 'secret' }, keyPrefix, name: uniqueName(), identity: 'a' });
    cleanups.push(() => lock.close());
    await expect(lock.acquireIfFree(record('a'))).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(await setup.exists(lock.keys.record)).toBe(0);
  }
});
