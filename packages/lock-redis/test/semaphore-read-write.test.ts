import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { ConfigError, DistributedLocks } from '@baton/core';
import type { LockHandle } from '@baton/core';
import { RedisServerProcess, waitFor } from '@baton/testkit';
import type { Redis } from 'ioredis';
import { RedisLockFactory } from '../src/index.ts';
import { adminClient, testPrefix } from './support/env.ts';

// What the native semaphore and reader-writer lock add beyond the contract (which runs on them
// in contract.test.ts): shape checks across processes, keys apart from the mutex's, cheap
// releases, and a release waking one waiting process rather than all of them. On a server of
// this file's own, so the server's command counts are this file's.

const keyPrefix = testPrefix();
let server: RedisServerProcess;
let admin: Redis;
const factories: RedisLockFactory[] = [];
const lockSets: DistributedLocks[] = [];
let counter = 0;
const uniqueName = (): string => `prim-${++counter}`;

/** One process: its own factory (connections) and DistributedLocks. */
function processLocks(identity: string): { factory: RedisLockFactory; locks: DistributedLocks } {
  const factory = new RedisLockFactory({ connection: { host: '127.0.0.1', port: server.port }, keyPrefix });
  const locks = new DistributedLocks({ factory, identity, leaseDuration: 1500, renewDeadline: 1000, retryPeriod: 250 });
  factories.push(factory);
  lockSets.push(locks);
  return { factory, locks };
}

beforeAll(async () => {
  server = await RedisServerProcess.start();
  admin = adminClient(server.port);
});

afterEach(async () => {
  for (const locks of lockSets.splice(0)) locks.close();
  await Promise.all(factories.splice(0).map((factory) => factory.close()));
});

afterAll(async () => {
  await admin.quit();
  await server.stop();
});

test('a process asking for another permit count or reader count gets a ConfigError, and nothing is granted', async () => {
  const name = uniqueName();
  const held = await processLocks('a').locks.semaphore(name, { permits: 2 }).acquire();
  await expect(processLocks('b').locks.semaphore(name, { permits: 3 }).tryAcquire()).rejects.toBeInstanceOf(ConfigError);
  await expect(processLocks('c').locks.semaphore(name, { permits: 3 }).acquire({ timeout: 2000 })).rejects.toBeInstanceOf(ConfigError);
  await held.release();

  const read = await processLocks('a').locks.readWrite(name, { maxReaders: 2 }).acquireRead();
  await expect(processLocks('b').locks.readWrite(name, { maxReaders: 4 }).tryAcquireWrite()).rejects.toBeInstanceOf(ConfigError);
  await read.release();
});

test('a semaphore, a reader-writer lock and a mutex of the same name are apart', async () => {
  const name = uniqueName();
  const { locks } = processLocks('a');
  const mutex = await locks.get(name).acquire();
  const permit = await locks.semaphore(name, { permits: 1 }).acquire({ timeout: 2000 });
  const write = await locks.readWrite(name).acquireWrite({ timeout: 2000 });
  expect([mutex.isHeld(), permit.isHeld(), write.isHeld()]).toEqual([true, true, true]);
  await Promise.all([mutex.release(), permit.release(), write.release()]);
});

test('an uncontended permit costs one script and a plain ZREM; a release finds its permit gone at most once', async () => {
  const name = uniqueName();
  const { locks } = processLocks('a');
  const semaphore = locks.semaphore(name, { permits: 1 });
  await (await semaphore.acquire()).release(); // scripts loaded
  const before = await commandCalls();
  const permit = await semaphore.acquire();
  await permit.release();
  await permit.release(); // idempotent: no second write
  const after = await commandCalls();
  const sent = (command: string): number => (after[command] ?? 0) - (before[command] ?? 0);
  // One script (whose own commands the server counts too), then ZREM and EXISTS; no second release.
  expect([sent('evalsha'), sent('eval'), sent('exists'), sent('multi'), sent('publish')]).toEqual([1, 0, 1, 0, 0]);
  expect(sent('zrem')).toBe(2); // the script's ZREM of its (absent) waiter entry, the release's
  expect(await admin.zcard(`${keyPrefix}{${name}}:semaphore:holders`)).toBe(0);
});

test('a release wakes one waiting process at once, not every one', async () => {
  const name = uniqueName();
  const held = await processLocks('holder').locks.semaphore(name, { permits: 1 }).acquire();
  const granted: Array<Promise<LockHandle>> = [];
  const grants: Array<(handle: LockHandle) => void> = [];
  for (let i = 0; i < 3; i++) granted.push(new Promise((resolve) => grants.push(resolve)));
  let next = 0;
  for (const id of ['w1', 'w2', 'w3']) {
    void processLocks(id).locks.semaphore(name, { permits: 1 }).acquire({ timeout: 10_000 }).then((handle) => grants[next++]!(handle));
  }
  // Each waiter has tried, been refused and queued itself.
  const waitersKey = `${keyPrefix}{${name}}:semaphore:waiters`;
  const deadline = performance.now() + 5000;
  while ((await admin.zcard(waitersKey)) < 3) {
    if (performance.now() > deadline) throw new Error('the waiters never queued');
    await new Promise((resolve) => setImmediate(resolve));
  }
  const releasedAt = performance.now();
  await held.release();
  const first = await granted[0]!;
  expect(performance.now() - releasedAt).toBeLessThan(500);
  // The other two are still queued: they were not woken only to be refused. (A waiter's own
  // retry takes its entry out and puts it back in one script; wait out such a moment.)
  await waitFor(async () => (await admin.zcard(waitersKey)) === 2, 1_000, 'the other two waiters queued');
  expect(next).toBe(1);
  // Each release hands on to the next waiter (in grant order: the order is not promised).
  await first.release();
  await (await granted[1]!).release();
  await (await granted[2]!).release();
});

/** Calls per command on the server so far (INFO commandstats). */
async function commandCalls(): Promise<Record<string, number>> {
  const info = String(await admin.info('commandstats'));
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls[match[1]!] = Number(match[2]);
  return calls;
}
