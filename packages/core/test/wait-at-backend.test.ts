// A mutex waiter on a lock that can wait at the backend (`acquireWhenFree`): it waits there
// instead of sleeping for the watch, attempts afresh after a wait that ran out, and sleeps as
// before when the backend cannot wait.
import { afterEach, expect, test } from '@jest/globals';
import { DistributedLocks } from '../src/index.ts';
import type { AcquireWhenFreeOptions, AcquireWhenFreeResult, FakeClock, LeaderElectionRecord, MemoryLock, ResourceLock } from '../src/index.ts';
import { setup } from './harness.ts';

const RETRY = 2_000;

let env = setup();
afterEach(async () => {
  await env.teardown();
  expect(env.clock.pendingTimers).toBe(0);
  env = setup();
});

/**
 * The memory lock plus a backend wait: every 10 ms of the fake clock it tries the fast path,
 * for at most `maxWaitMs` (`able: false`: it cannot wait). `waits` counts the calls.
 */
function waitingLock(lock: MemoryLock, clock: FakeClock, counter: { waits: number }, able: boolean): ResourceLock {
  const acquireWhenFree = async (record: LeaderElectionRecord, options: AcquireWhenFreeOptions): Promise<AcquireWhenFreeResult> => {
    counter.waits++;
    if (!able) return { acquired: false, waited: false };
    const deadline = clock.now() + options.maxWaitMs;
    for (;;) {
      const result = await lock.acquireIfFree!(record);
      if (result.acquired) return result;
      if (clock.now() >= deadline) return { acquired: false, waited: true };
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
    }
  };
  return new Proxy(lock, { get: (target, key) => (key === 'acquireWhenFree' ? acquireWhenFree : Reflect.get(target, key, target)) });
}

function locksFor(identity: string, counter: { waits: number }, able = true): DistributedLocks {
  const { store, clock } = env;
  return new DistributedLocks({ identity, clock, random: () => 0, lockFor: (name, id) => waitingLock(store.lock(name, id), clock, counter, able) });
}

test('a waiter that finds the lock held waits at the backend and holds it right after the release', async () => {
  const a = locksFor('a', { waits: 0 });
  const counter = { waits: 0 };
  const b = locksFor('b', counter);
  const held = await a.get('job').acquire();
  const waiting = b.get('job').acquire();
  await env.clock.advance(100);
  expect(counter.waits).toBe(1);
  await held.release();
  // The wait itself takes it (within its 10 ms check), no watch-driven attempt needed.
  await env.clock.advance(10);
  const taken = await waiting;
  expect(taken.fencingToken).toBe(held.fencingToken + 1);
  expect(counter.waits).toBe(1);
  await taken.release();
  a.close();
  b.close();
});

test('a wait that runs out (one retry period) is followed by a fresh attempt and another wait', async () => {
  const a = locksFor('a', { waits: 0 });
  const counter = { waits: 0 };
  const b = locksFor('b', counter);
  const held = await a.get('job').acquire();
  let done = false;
  const waiting = b.get('job').acquire().then((h) => {
    done = true;
    return h;
  });
  await env.clock.advance(2.5 * RETRY);
  // Waits sent at 0, 2 s and 4 s: each ran out and was followed by an attempt (still held).
  expect(counter.waits).toBe(3);
  expect(done).toBe(false);
  await held.release();
  await env.clock.advance(10);
  const taken = await waiting;
  expect(taken.fencingToken).toBe(held.fencingToken + 1);
  await taken.release();
  a.close();
  b.close();
});

test('a backend that cannot wait now leaves the waiter to the watch, as before', async () => {
  const a = locksFor('a', { waits: 0 });
  const counter = { waits: 0 };
  const b = locksFor('b', counter, false);
  const held = await a.get('job').acquire();
  const waiting = b.get('job').acquire();
  await env.clock.advance(3 * RETRY);
  // Asked once, then again only when the watch pushed one of the holder's 3 renewals.
  expect(counter.waits).toBe(4);
  await held.release();
  await env.clock.advance(0);
  const taken = await waiting;
  expect(taken.fencingToken).toBe(held.fencingToken + 1);
  expect(counter.waits).toBe(4);
  await taken.release();
  a.close();
  b.close();
});
