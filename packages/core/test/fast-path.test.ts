import { describe, expect, test } from '@jest/globals';
import { ConfigError, DistributedLocks, MemoryLockStore } from '../src/index.ts';
import type { MemoryLock, ResourceLockFactory } from '../src/index.ts';
import { setupEachTest } from './harness.ts';

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

const env = setupEachTest();

describe('the elector on a lock with acquireIfFree', () => {
  test('a lone candidate leads after one backend call', async () => {
    const { clock, store, start } = env();
    const lock = store.lock('job', 'a');
    const a = start(lock, { watch: false });
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(lock.calls).toEqual({ get: 0, create: 0, update: 0, acquireIfFree: 1 });
  });

  test('a lease that expired while observed is taken by compare-and-swap, never by the fast path', async () => {
    const { clock, store, start } = env();
    const leaderLock = store.lock('job', 'a');
    const a = start(leaderLock);
    await clock.advance(0);
    const followerLock = store.lock('job', 'b');
    const b = start(followerLock);
    await clock.advance(2 * RETRY);
    const fastPathCalls = followerLock.calls.acquireIfFree;
    leaderLock.setFault('hang');
    await clock.advance(RENEW);
    expect(a.elector.isLeader()).toBe(false);
    await clock.advanceUntil(() => b.elector.isLeader(), LEASE);
    expect(followerLock.calls.acquireIfFree).toBe(fastPathCalls);
    expect(followerLock.calls.update).toBe(1);
    expect(b.terms[0]!.fencingToken).toBe(2);
  });
});

describe('distributed locks on a lock with acquireIfFree', () => {
  /** Every lock handed out, per DistributedLocks. */
  const issued = new Map<string, MemoryLock[]>();
  const locksFor = (identity: string, store: MemoryLockStore = env().store): DistributedLocks => {
    const mine: MemoryLock[] = [];
    issued.set(identity, mine);
    return new DistributedLocks({
      identity,
      clock: env().clock,
      random: () => 0,
      lockFor: (name, id) => {
        const lock = store.lock(name, id);
        mine.push(lock);
        const watch = lock.watch.bind(lock);
        lock.watch = (handlers) => {
          watching.set(name, (watching.get(name) ?? 0) + 1);
          const stop = watch(handlers);
          return () => {
            watching.set(name, watching.get(name)! - 1);
            stop();
          };
        };
        return lock;
      },
    });
  };
  /** Watches open per lock name, over every DistributedLocks of the test. */
  const watching = new Map<string, number>();
  const watcherCount = (name: string): number => watching.get(name) ?? 0;
  const callsOf = (identity: string) => {
    const sum = { get: 0, create: 0, update: 0, acquireIfFree: 0 };
    for (const lock of issued.get(identity) ?? []) for (const key of Object.keys(sum) as Array<keyof typeof sum>) sum[key] += lock.calls[key];
    return sum;
  };

  test('uncontended: acquire is one call and release one, every time, and nothing is watched', async () => {
    const locks = locksFor('a');
    const first = await locks.get('job').acquire();
    expect(callsOf('a')).toEqual({ get: 0, create: 0, update: 0, acquireIfFree: 1 });
    await first.release();
    expect(callsOf('a')).toEqual({ get: 0, create: 0, update: 1, acquireIfFree: 1 });
    const second = await locks.get('job').acquire();
    await second.release();
    expect(callsOf('a')).toEqual({ get: 0, create: 0, update: 2, acquireIfFree: 2 });
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    expect(watcherCount('job')).toBe(0);
    locks.close();
  });

  test('a waiter watches while it waits and stops a lease duration after the last wait', async () => {
    const holder = locksFor('a');
    const waiter = locksFor('b');
    const held = await holder.get('job').acquire();
    const waiting = waiter.get('job').acquire();
    await env().clock.advance(0);
    expect(watcherCount('job')).toBe(1);
    await held.release();
    const next = await waiting;
    await next.release();
    await env().clock.advance(LEASE - 1);
    expect(watcherCount('job')).toBe(1);
    await env().clock.advance(1);
    expect(watcherCount('job')).toBe(0);
    holder.close();
    waiter.close();
  });

  test('an idle mutex is forgotten, and the next one on its name keeps its tokens growing', async () => {
    const locks = locksFor('a');
    const mutex = locks.get('job');
    const held = await mutex.acquire();
    expect(locks.get('job')).toBe(mutex);
    await held.release();
    const again = locks.get('job');
    expect(again).not.toBe(mutex);
    // The record vanishes (an expiry, an operator): the token still grows past what was seen.
    env().store.delete('job');
    const next = await again.acquire();
    expect(next.fencingToken).toBe(held.fencingToken + 1);
    // The old object still works: it hands its calls to the current one.
    const waiting = mutex.acquire();
    await next.release();
    const third = await waiting;
    expect(third.fencingToken).toBe(next.fencingToken + 1);
    expect(locks.get('job')).toBe(again);
    await third.release();
    locks.close();
  });

  test('without the fast path the first acquire is a read and a create', async () => {
    const locks = locksFor('a', new MemoryLockStore({ fastPath: false }));
    const held = await locks.get('job').acquire();
    await held.release();
    expect(callsOf('a')).toEqual({ get: 1, create: 1, update: 1, acquireIfFree: 0 });
    locks.close();
  });

  test('a waiter in another process takes the pushed release with one write', async () => {
    const holder = locksFor('a');
    const waiter = locksFor('b');
    const held = await holder.get('job').acquire();
    const waiting = waiter.get('job').acquire();
    await env().clock.advance(3 * RETRY);
    const before = callsOf('b');
    await held.release();
    const next = await waiting;
    expect(callsOf('b')).toEqual({ ...before, update: before.update + 1 });
    expect(next.fencingToken).toBe(held.fencingToken + 1);
    await next.release();
    holder.close();
    waiter.close();
  });
});

describe('DistributedLocks from a ResourceLockFactory', () => {
  test('takes the factory directly and leaves it open on close', async () => {
    let closed = 0;
    const store = env().store;
    const factory: ResourceLockFactory = {
      lock: (name, identity) => store.lock(name, identity),
      close: async () => {
        closed++;
      },
    };
    const locks = new DistributedLocks({ factory, identity: 'a', clock: env().clock, random: () => 0 });
    const held = await locks.get('job').acquire();
    expect((await store.lock('job', 'reader').get())!.record.holderIdentity).toBe('a/1');
    await held.release();
    locks.close();
    expect(closed).toBe(0);
  });

  test('wants exactly one of factory and lockFor', () => {
    const store = env().store;
    expect(() => new DistributedLocks({ factory: store, lockFor: (n, i) => store.lock(n, i) })).toThrow(ConfigError);
    expect(() => new DistributedLocks({})).toThrow(ConfigError);
    expect(() => new DistributedLocks({ factory: {} as ResourceLockFactory })).toThrow(/factory/);
  });

  test('MemoryLockStore is a ResourceLockFactory that checks names and identities', async () => {
    const store: ResourceLockFactory = new MemoryLockStore();
    expect(() => store.lock('', 'a')).toThrow(ConfigError);
    expect(() => store.lock('job', '')).toThrow(ConfigError);
    await expect(store.close()).resolves.toBeUndefined();
  });
});
