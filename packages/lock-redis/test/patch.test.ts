import { afterAll, afterEach, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { InvalidRecordError, LockConflictError, LockNotFoundError } from '@baton/core';
import type { LockSnapshot } from '@baton/core';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisLock } from '../src/index.ts';
import { scriptSources } from '../src/scripts.ts';
import type { ScriptName } from '../src/scripts.ts';
import { SHARED, adminClient, deleteKeys, testPrefix, record } from './support/env.ts';

// An update on top of the lock's own last write that keeps its token and its holder (a
// renewal) or clears the holder (a release) is a patch (patch.lua): the version compared, only
// the changed fields set. Every other update is write.lua. Which script ran is read from the
// SHA each command names, on the lock's own client.

const keyPrefix = testPrefix();
const admin = adminClient();
const cleanups: Array<() => Promise<void> | void> = [];
let counter = 0;

const SHA_NAMES = new Map(Object.entries(scriptSources()).map(([name, lua]) => [createHash('sha1').update(lua).digest('hex'), name as ScriptName]));

/** A lock on the shared server, and the scripts its calls ran, in order. */
function openLock(identity: string, name = `patch-${++counter}`): { lock: RedisLock; scripts: ScriptName[] } {
  const lock = new RedisLock({ connection: { ...SHARED }, keyPrefix, name, identity });
  cleanups.push(() => lock.close());
  const scripts: ScriptName[] = [];
  const client = lock.client as Redis & { sendCommand(command: { name: string; args: unknown[] }): unknown };
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command) => {
    if (command.name === 'evalsha') scripts.push(SHA_NAMES.get(String(command.args[0]))!);
    if (command.name === 'eval') scripts.push([...SHA_NAMES.values()].find((n) => scriptSources()[n] === command.args[0])!);
    return send(command);
  };
  return { lock, scripts };
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await deleteKeys(admin, keyPrefix);
  await admin.quit();
});

test('a renewal and a release on top of the own last write are patches, stored and published as written', async () => {
  const { lock, scripts } = openLock('a');
  const watcher = openLock('watcher', lock.name).lock;
  const heard: Array<LockSnapshot | null | undefined> = [];
  let healthy = false;
  watcher.watch({ onChange: (s) => heard.push(s), onHealth: (h) => (healthy = h) });
  await waitFor(() => healthy, 5_000, 'the watch');
  const created = await lock.create(record('a', { fencingToken: 7 }));
  const renewed = await lock.update({ ...created.record, renewTime: created.record.renewTime + 1000 }, created.version);
  const released = await lock.update({ ...renewed.record, holderIdentity: '', renewTime: renewed.record.renewTime + 5 }, renewed.version);
  expect(scripts).toEqual(['batonLockWrite', 'batonLockPatch', 'batonLockPatch']);
  expect(released.record).toEqual({ ...created.record, holderIdentity: '', renewTime: created.record.renewTime + 1005 });
  expect(await lock.get()).toEqual(released);
  await waitFor(() => heard.length === 3, 5_000, 'three change messages');
  expect(heard).toEqual([created, renewed, released]);
  // The counter is not touched by a patch: the next term's token follows the stored one.
  const next = await lock.acquireIfFree!(record('a'));
  expect(next.snapshot.record.fencingToken).toBe(8);
});

test('a renewal refreshes the key expiry; a release leaves it as the holder’s last write set it', async () => {
  const { lock } = openLock('a');
  const key = lock.keys.record;
  const created = await lock.create(record('a', { leaseDurationMs: 10_000 }));
  await admin.pexpire(key, 5_000);
  const renewed = await lock.update({ ...created.record, renewTime: created.record.renewTime + 1 }, created.version);
  expect(await admin.pttl(key)).toBeGreaterThan(90_000); // 10 lease durations (expiryFactor)
  await admin.pexpire(key, 5_000);
  await lock.update({ ...renewed.record, holderIdentity: '' }, renewed.version);
  const ttl = await admin.pttl(key);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(5_000);
});

test('a patch whose version moved on, whose key is gone or is not a hash fails as update does, writing nothing', async () => {
  const a = openLock('a');
  const created = await a.lock.create(record('a'));
  await admin.hset(a.lock.keys.record, 'version', 'someone-else');
  await expect(a.lock.update({ ...created.record, holderIdentity: '' }, created.version)).rejects.toBeInstanceOf(LockConflictError);
  expect(await admin.hget(a.lock.keys.record, 'holderIdentity')).toBe('a');

  const b = openLock('b');
  const made = await b.lock.create(record('b'));
  await admin.del(b.lock.keys.record);
  await expect(b.lock.update({ ...made.record, renewTime: made.record.renewTime + 1 }, made.version)).rejects.toBeInstanceOf(LockNotFoundError);
  expect(await admin.exists(b.lock.keys.record)).toBe(0);

  const c = openLock('c');
  const first = await c.lock.create(record('c'));
  await admin.del(c.lock.keys.record);
  await admin.set(c.lock.keys.record, 'not a record');
  await expect(c.lock.update({ ...first.record, holderIdentity: '' }, first.version)).rejects.toBeInstanceOf(InvalidRecordError);
  expect(await admin.get(c.lock.keys.record)).toBe('not a record');

  const d = openLock('d');
  const mine = await d.lock.create(record('d'));
  await admin.hdel(d.lock.keys.record, 'version');
  await expect(d.lock.update({ ...mine.record, holderIdentity: '' }, mine.version)).rejects.toBeInstanceOf(InvalidRecordError);
  expect(await admin.hget(d.lock.keys.record, 'holderIdentity')).toBe('d');
  expect([a.scripts, b.scripts, c.scripts, d.scripts].map((s) => s.at(-1))).toEqual(Array(4).fill('batonLockPatch'));
});

test('an update that changes the holder or the token, or is not on the own last write, is a full write', async () => {
  const { lock, scripts } = openLock('a');
  const created = await lock.create(record('a', { fencingToken: 3 }));
  const handed = await lock.update({ ...created.record, holderIdentity: 'b' }, created.version);
  const other = openLock('b', lock.name);
  const again = await other.lock.update({ ...handed.record, renewTime: handed.record.renewTime + 1 }, handed.version);
  const bumped = await other.lock.update({ ...again.record, fencingToken: 50 }, again.version);
  expect(scripts).toEqual(['batonLockWrite', 'batonLockWrite']);
  expect(other.scripts).toEqual(['batonLockWrite', 'batonLockWrite']);
  expect(bumped.record.fencingToken).toBe(50);
  expect(await admin.get(lock.keys.fence)).toBe('50');
  expect((await lock.get())?.record).toEqual(bumped.record);
});
