import { afterEach, describe, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { BackendUnavailableError, DistributedLocks } from '@baton/core';
import type { Redis } from 'ioredis';
import { TcpProxy } from '@baton/testkit';
import { RedisLock, RedisLockFactory } from '../src/index.ts';
import { dedicatedServer, testPrefix } from './support/env.ts';

// The distributed locks' hot path on Redis: what an uncontended acquire+release sends (one
// script each way, nothing else), when the watch exists (only while someone waits), and the
// command connection's dead-socket check that replaced ioredis' per-command timer. Each test
// has a redis-server of its own, so the server's command counts are this test's alone.

const keyPrefix = testPrefix();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ownServer(): Promise<{ port: number; admin: Redis }> {
  const { server, admin } = await dedicatedServer(cleanups);
  return { port: server.port, admin };
}

/** Calls per command since the last CONFIG RESETSTAT (admin's own INFO and RESETSTAT left out). */
async function commandCounts(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const counts: Record<string, number> = {};
  for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts[name!] = Number(calls);
  delete counts.info;
  delete counts['config|resetstat'];
  return counts;
}

function locksOn(port: number, identity: string, timings = {}): { locks: DistributedLocks; factory: RedisLockFactory } {
  const factory = new RedisLockFactory({ connection: { host: '127.0.0.1', port }, keyPrefix });
  const locks = new DistributedLocks({ factory, identity, ...timings });
  cleanups.push(() => factory.close());
  cleanups.push(() => locks.close());
  return { locks, factory };
}

describe('the uncontended hot path', () => {
  test('acquire+release is one script call each way; nothing is subscribed, read or pinged', async () => {
    const { port, admin } = await ownServer();
    const { locks, factory } = locksOn(port, 'solo');
    await (await locks.get('warm-up').acquire()).release(); // connects and loads the scripts
    await admin.config('RESETSTAT');
    const cycles = 20;
    let last = 0;
    for (let i = 0; i < cycles; i++) {
      const held = await locks.get(i % 2 === 0 ? 'a' : 'b').acquire();
      expect(held.fencingToken).toBeGreaterThan(i < 2 ? 0 : last - 1);
      last = held.fencingToken;
      await held.release();
    }
    const counts = await commandCounts(admin);
    // The first use of each script on a connection sends its body (EVAL), then its SHA.
    expect((counts.evalsha ?? 0) + (counts.eval ?? 0)).toBe(2 * cycles);
    // commandstats also counts what the scripts run; nothing else came from the clients.
    for (const other of ['subscribe', 'psubscribe', 'ping', 'hgetall', 'get', 'type', 'client|setname']) expect(counts[other]).toBeUndefined();
    expect(counts.incr).toBe(cycles); // the fencing counter, once per acquisition (acquire.lua)
    // Each release is a patch on top of the acquisition's write (patch.lua): it reads only the
    // version and leaves the key's expiry; acquire.lua reads the record and sets the expiry.
    expect(counts.hget).toBe(cycles);
    expect(counts.hmget).toBe(cycles);
    expect(counts.pexpire).toBe(cycles);
    expect(factory.subscriberClient).toBeUndefined();
  });
});

describe('writes on the command connection', () => {
  test('a call with nothing else in flight is written at once; calls issued together are held to the end of the tick', async () => {
    const { port } = await ownServer();
    const factory = new RedisLockFactory({ connection: { host: '127.0.0.1', port }, keyPrefix });
    cleanups.push(() => factory.close());
    const [a, b, c] = ['a', 'b', 'c'].map((name) => factory.lock(name, 'me'));
    expect(await a!.get()).toBeNull(); // connected
    const stream = (factory.client as Redis).stream as { writableCorked: number; writableLength: number };
    const alone = a!.get();
    expect(stream.writableCorked).toBe(0);
    await alone;
    const together = [a!.get(), b!.get(), c!.get()];
    // The first went out at once; the two after it wait for the end of the tick, in one write.
    expect(stream.writableCorked).toBe(1);
    expect(stream.writableLength).toBeGreaterThan(0);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(stream.writableCorked).toBe(0);
    expect(await Promise.all(together)).toEqual([null, null, null]);
  });
});

describe('the watch', () => {
  test('a waiter subscribes while it waits, is woken by the release, and the watch goes a lease duration later', async () => {
    const { port } = await ownServer();
    const timings = { leaseDuration: 2_000, renewDeadline: 1_500, retryPeriod: 1_000 };
    const holder = locksOn(port, 'holder', timings);
    const waiter = locksOn(port, 'waiter', timings);
    const held = await holder.locks.get('job').acquire();
    const waiting = waiter.locks.get('job').acquire({ timeout: 5_000 });
    await waitFor(() => waiter.factory.subscriber?.channelCount === 1, 2_000, 'the waiter to subscribe');
    const releasedAt = performance.now();
    await held.release();
    const next = await waiting;
    // Pushed, not found by polling (the retry period is 1 s; the observed lease 2 s).
    expect(performance.now() - releasedAt).toBeLessThan(500);
    expect(next.fencingToken).toBe(held.fencingToken + 1);
    await next.release();
    expect(waiter.factory.subscriber?.channelCount).toBe(1);
    await waitFor(() => waiter.factory.subscriber?.channelCount === 0, 4_000, 'the watch to go');
    expect(holder.factory.subscriberClient).toBeUndefined();
  });
});

describe('socketTimeout on the command connection', () => {
  test('a connection that owes a reply and hears nothing for socketTimeout is dropped and reopened', async () => {
    const { port } = await ownServer();
    const proxy = await TcpProxy.start(port);
    cleanups.push(() => proxy.close());
    const lock = new RedisLock({ connection: { host: '127.0.0.1', port: proxy.port }, keyPrefix, name: 'silent', identity: 'a', socketTimeout: 300, operationTimeout: 10_000 });
    cleanups.push(() => lock.close());
    expect(await lock.get()).toBeNull();
    const client = lock.client as Redis;
    let closedAt: number | undefined;
    client.once('close', () => (closedAt = performance.now()));
    proxy.hang();
    const hungAt = performance.now();
    const pending = lock.get();
    await expect(pending).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(closedAt).toBeDefined();
    expect(closedAt! - hungAt).toBeGreaterThanOrEqual(290);
    proxy.heal();
    await waitFor(() => client.status === 'ready', 5_000, 'the connection to be reopened');
    expect(await lock.get()).toBeNull();
  });
});
