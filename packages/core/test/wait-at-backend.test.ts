// A mutex waiter on a lock that can wait at the backend (`acquireWhenFree`): it waits there
// instead of sleeping for the watch, attempts afresh after a wait that ran out, and sleeps as
// before when the backend cannot wait.
import { expect, test } from '@jest/globals';
import { DistributedLocks } from '../src/index.ts';
import type { AcquireWhenFreeOptions, AcquireWhenFreeResult, FakeClock, LeaderElectionRecord, MemoryLock, ResourceLock } from '../src/index.ts';
import { setup } from './harness.ts';

const RETRY = 2_000;

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

type Env = ReturnType<typeof setup>;

function locksFor(env: Env, identity: string, counter: { waits: number }, able = true): DistributedLocks {
  const { store, clock } = env;
  return new DistributedLocks({ identity, clock, random: () => 0, lockFor: (name, id) => waitingLock(store.lock(name, id), clock, counter, able) });
}

/**
 * `a` holds `job` while `b` waits for `heldForMs`; then `a` releases and `afterReleaseMs` pass.
 * @returns b's waits at the backend while held and in all, whether b held it before the
 * release, and the step of the fencing token from a's term to b's.
 */
async function handover(able: boolean, heldForMs: number, afterReleaseMs: number) {
  const env = setup();
  const counter = { waits: 0 };
  const a = locksFor(env, 'a', { waits: 0 });
  const b = locksFor(env, 'b', counter, able);
  const held = await a.get('job').acquire();
  let early = false;
  const waiting = b.get('job').acquire().then((h) => {
    early = !held.signal.aborted;
    return h;
  });
  await env.clock.advance(heldForMs);
  const waitsWhileHeld = counter.waits;
  await held.release();
  await env.clock.advance(afterReleaseMs);
  const taken = await waiting;
  await taken.release();
  a.close();
  b.close();
  await env.teardown();
  expect(env.clock.pendingTimers).toBe(0);
  return { waitsWhileHeld, waits: counter.waits, early, tokenStep: taken.fencingToken - held.fencingToken };
}

test('a waiter that finds the lock held waits at the backend and holds it right after the release', async () => {
  // One wait, which itself takes the lock (within its 10 ms check): no watch-driven attempt.
  expect(await handover(true, 100, 10)).toEqual({ waitsWhileHeld: 1, waits: 1, early: false, tokenStep: 1 });
});

test('a wait that runs out (one retry period) is followed by a fresh attempt and another wait', async () => {
  // Waits sent at 0, 2 s and 4 s: each ran out and was followed by an attempt (still held).
  expect(await handover(true, 2.5 * RETRY, 10)).toEqual({ waitsWhileHeld: 3, waits: 3, early: false, tokenStep: 1 });
});

test('a backend that cannot wait now leaves the waiter to the watch, as before', async () => {
  // Asked once, then again only when the watch pushed one of the holder's 3 renewals; the
  // pushed release wakes it.
  expect(await handover(false, 3 * RETRY, 0)).toEqual({ waitsWhileHeld: 4, waits: 4, early: false, tokenStep: 1 });
});
