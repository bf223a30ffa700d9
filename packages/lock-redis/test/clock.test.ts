import { afterEach, describe, expect, test } from '@jest/globals';
import { waitFor } from '@baton/contract';
import { BackendUnavailableError, FakeClock } from '@baton/core';
import type { Redis } from 'ioredis';
import { RedisLock, RedisLockFactory } from '../src/index.ts';
import type { RedisLockOptions } from '../src/index.ts';
import { dedicatedServer, testPrefix } from './support/env.ts';
import { RedisServerProcess, TcpProxy } from '@baton/testkit';

// Every timer of the adapter runs on its `clock` option: call timeouts, reconnect backoff and
// the subscriber's keep-alive are checked here on core's FakeClock, against real
// redis-server processes of this file's own (real I/O, fake time: no waiting on timers).

const keyPrefix = testPrefix();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const server = (): Promise<{ server: RedisServerProcess; admin: Redis }> => dedicatedServer(cleanups);

function lockOn(port: number, clock: FakeClock, extra: Partial<RedisLockOptions> = {}): RedisLock {
  const lock = new RedisLock({ connection: { host: '127.0.0.1', port }, keyPrefix, name: 'clocked', identity: 'a', clock, ...extra });
  cleanups.push(() => lock.close());
  return lock;
}

const record = { holderIdentity: 'a', leaseDurationMs: 15_000, acquireTime: 1, renewTime: 1, leaderTransitions: 0, fencingToken: 1 };

describe('call timeouts', () => {
  test('a call nobody answers fails after operationTimeout on the clock, not a moment earlier', async () => {
    const { server: s } = await server();
    const proxy = await TcpProxy.start(s.port);
    cleanups.push(() => proxy.close());
    const clock = new FakeClock();
    // ioredis' own dead-socket timer (real time) kept out of the way.
    const lock = lockOn(proxy.port, clock, { operationTimeout: 2_000, socketTimeout: 60_000 });
    expect(await lock.get()).toBeNull();
    proxy.hang();
    let outcome: unknown;
    const pending = lock.get().then(
      () => (outcome = 'answered'),
      (error: unknown) => (outcome = error),
    );
    await clock.advance(1_999);
    expect(outcome).toBeUndefined();
    expect(lock.diagnostics.callsInFlight).toBe(1);
    await clock.advance(1);
    await pending;
    expect(outcome).toBeInstanceOf(BackendUnavailableError);
    expect((outcome as Error).message).toMatch(/no answer from Redis within 2000 ms/);
    expect(lock.diagnostics.callsInFlight).toBe(0);
    proxy.reset();
  });
});

describe('reconnect backoff', () => {
  test('a connection that dropped is reopened after 50 ms, doubling to 1 s, on the clock; calls fail fast meanwhile', async () => {
    const { server: s } = await server();
    const clock = new FakeClock();
    const lock = lockOn(s.port, clock);
    expect(await lock.get()).toBeNull();
    const client = lock.client as Redis;
    const attempts: number[] = [];
    client.on('connecting', () => attempts.push(clock.now()));

    await s.kill();
    await waitFor(() => client.status === 'end', 5000, 'the connection to end');
    await expect(lock.get()).rejects.toBeInstanceOf(BackendUnavailableError);
    for (const [i, delay] of [50, 100, 200, 400, 800, 1000, 1000].entries()) {
      const endedAt = clock.now();
      await clock.advance(delay - 1);
      expect(attempts).toHaveLength(i); // nothing before the backoff has passed
      await clock.advance(1);
      expect(attempts).toHaveLength(i + 1);
      expect(attempts[i]! - endedAt).toBe(delay);
      // The server is still down: the attempt fails, and the next one is scheduled.
      await waitFor(() => client.status === 'end', 5000, `attempt ${i + 1} to fail`);
    }

    await s.spawn();
    await clock.advance(1000);
    await waitFor(() => client.status === 'ready', 5000, 'the connection to come back');
    expect(lock.diagnostics.reconnectAttempts).toBe(0);
    expect((await lock.create(record)).record.fencingToken).toBe(1);
  });

  test('a closed lock stops reconnecting', async () => {
    const { server: s } = await server();
    const clock = new FakeClock();
    const lock = lockOn(s.port, clock);
    expect(await lock.get()).toBeNull();
    await s.kill();
    await waitFor(() => lock.client.status === 'end', 5000, 'the connection to end');
    await lock.close();
    const attempts: number[] = [];
    lock.client.on('connecting', () => attempts.push(clock.now()));
    await clock.advance(10_000);
    expect(attempts).toEqual([]);
  });
});

describe('the subscriber connection', () => {
  test('sends one PING per watchKeepAlive of silence while something is watched, and none once nothing is', async () => {
    const { server: s, admin } = await server();
    const clock = new FakeClock();
    const factory = new RedisLockFactory({ connection: { host: '127.0.0.1', port: s.port }, keyPrefix, clock });
    cleanups.push(() => factory.close());
    const writer = lockOn(s.port, new FakeClock());
    const pings = async (): Promise<number> => Number(/cmdstat_ping:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    const changes: unknown[] = [];
    let healthy = false;
    const stop = factory.lock('clocked', 'watcher').watch({ onChange: (c) => changes.push(c), onHealth: (h) => (healthy = h) });
    await waitFor(() => healthy, 5000, 'the watch');
    const before = await pings();

    await clock.advance(29_999);
    expect(await pings()).toBe(before);
    await clock.advance(1);
    await waitFor(async () => (await pings()) === before + 1, 2000, 'one keep-alive after 30 s of silence');

    // A message proves the connection alive: the next PING comes 30 s after it, not before.
    await clock.advance(10_000);
    await writer.create(record);
    await waitFor(() => changes.length === 1, 2000, 'the change');
    await clock.advance(29_999);
    expect(await pings()).toBe(before + 1);
    await clock.advance(1);
    await waitFor(async () => (await pings()) === before + 2, 2000, 'the next keep-alive, 30 s after the message');

    stop();
    expect(factory.subscriber?.keepAliveArmed).toBe(false);
    await clock.advance(300_000);
    expect(await pings()).toBe(before + 2);
    expect(factory.subscriberClient?.status).toBe('ready');
  });

  test('a silently dead subscriber is noticed through the keep-alive, then replaced after the backoff', async () => {
    const { server: s } = await server();
    const proxy = await TcpProxy.start(s.port);
    cleanups.push(() => proxy.close());
    const clock = new FakeClock();
    // The PING that goes unanswered is dropped by ioredis' socketTimeout (real time, 400 ms).
    const lock = lockOn(proxy.port, clock, { socketTimeout: 400 });
    const health: boolean[] = [];
    cleanups.push(lock.watch({ onChange: () => {}, onHealth: (h) => health.push(h) }));
    await waitFor(() => health.at(-1) === true, 5000, 'the watch');

    proxy.hang();
    await clock.advance(29_999);
    expect(health).toEqual([true]);
    await clock.advance(1);
    await waitFor(() => health.at(-1) === false, 3000, 'the watch to report the dead connection');

    proxy.reset();
    proxy.heal();
    // Reopened on the clock's backoff: fake time moves on in small steps while the I/O runs.
    await waitFor(async () => {
      await clock.advance(50);
      return health.at(-1) === true;
    }, 10_000, 'the watch to come back');
    expect(health).toEqual([true, false, true]);
    await waitFor(async () => {
      await clock.advance(50);
      return lock.get().then(() => true, () => false);
    }, 10_000, 'the command connection to come back');
  });
});
