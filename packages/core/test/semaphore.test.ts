import { afterEach, describe, expect, test } from '@jest/globals';
import {
  AbortedError,
  ConfigError,
  DistributedLocks,
  FakeClock,
  LockLostError,
  LockTimeoutError,
  MemoryLockStore,
} from '../src/index.ts';
import type { LockHandle, MemoryLock } from '../src/index.ts';

const LEASE = 15_000;
const RENEW = 10_000;

let clock = new FakeClock();
let store = new MemoryLockStore();
const instances: DistributedLocks[] = [];
let issued: Array<{ identity: string; lock: MemoryLock }> = [];

/** One DistributedLocks per simulated process, all on the same store. */
function locksFor(identity: string, fastPath = true): DistributedLocks {
  const locks = new DistributedLocks({
    identity,
    clock,
    random: () => 0,
    lockFor: (name, id) => {
      const lock = (fastPath ? store : slowStore).lock(name, id);
      issued.push({ identity: id, lock });
      return lock;
    },
  });
  instances.push(locks);
  return locks;
}
let slowStore = store;

afterEach(() => {
  for (const locks of instances.splice(0)) locks.close();
  clock = new FakeClock();
  store = new MemoryLockStore();
  slowStore = store;
  issued = [];
});

/** Settles pending promise chains on the fake clock. */
const settle = () => clock.advance(0);

describe('DistributedSemaphore', () => {
  test('validates permits with a typed error', () => {
    const locks = locksFor('a');
    expect(() => locks.semaphore('s', { permits: 0 })).toThrow(ConfigError);
    expect(() => locks.semaphore('s', { permits: 1.5 })).toThrow(ConfigError);
    expect(() => locks.semaphore('s', undefined as never)).toThrow(ConfigError);
    expect(() => locks.semaphore('', { permits: 1 })).toThrow(ConfigError);
    expect(locks.semaphore('s', { permits: 2 })).toBe(locks.semaphore('s', { permits: 2 }));
    expect(() => locks.semaphore('s', { permits: 3 })).toThrow(ConfigError);
  });

  test('at most N permits at once across processes; tokens strictly increase; a release wakes a waiter at once', async () => {
    const sems = ['a', 'b', 'c', 'd'].map((id) => locksFor(id).semaphore('pool', { permits: 3 }));
    const held = [await sems[0]!.acquire(), await sems[1]!.acquire(), await sems[2]!.acquire()];
    expect(held.map((h) => h.fencingToken)).toEqual([1, 2, 3]);
    expect(await sems[3]!.tryAcquire()).toBeUndefined();
    let fourth: LockHandle | undefined;
    void sems[3]!.acquire().then((h) => (fourth = h));
    await clock.advance(5 * LEASE); // all renewed all along: still three
    expect(fourth).toBeUndefined();
    for (const h of held) expect(h.isHeld()).toBe(true);
    await held[1]!.release();
    await settle();
    // Larger than every permit granted before (a first try that found no free slot may have skipped one).
    expect(fourth!.fencingToken).toBeGreaterThan(3);
    await fourth!.release();
    await held[0]!.release();
    await held[2]!.release();
  });

  test('one process can hold several permits; withPermit and await using release them', async () => {
    const sem = locksFor('a').semaphore('pool', { permits: 2 });
    const first = await sem.acquire();
    const result = await sem.withPermit(async (permit) => {
      expect(permit.fencingToken).toBe(2);
      expect(await sem.tryAcquire()).toBeUndefined();
      return 'done';
    });
    expect(result).toBe('done');
    {
      await using second = await sem.acquire();
      expect(second.fencingToken).toBe(3);
    }
    expect((await sem.tryAcquire())?.fencingToken).toBe(4);
    await first.release();
    await first.release(); // idempotent
  });

  test('a crashed holder’s slot is taken only after its lease has expired, with a larger token', async () => {
    const a = locksFor('a').semaphore('pool', { permits: 1 });
    const held = await a.acquire();
    // a's process is cut off from the store (its renewals fail), then never comes back.
    for (const { identity, lock } of issued) if (identity.startsWith('a/')) lock.setFault('unavailable');
    const b = locksFor('b').semaphore('pool', { permits: 1 });
    let taken: LockHandle | undefined;
    let takenAt = 0;
    const start = clock.now();
    void b.acquire().then((h) => {
      taken = h;
      takenAt = clock.now();
    });
    let lostAt = 0;
    held.signal.addEventListener('abort', () => (lostAt = clock.now()));
    await clock.advanceUntil(() => taken !== undefined, 3 * LEASE, 100);
    expect(held.signal.reason).toBeInstanceOf(LockLostError);
    expect(lostAt - start).toBeLessThanOrEqual(RENEW);
    expect(takenAt - start).toBeGreaterThanOrEqual(LEASE);
    expect(lostAt).toBeLessThan(takenAt);
    expect(taken!.fencingToken).toBeGreaterThan(held.fencingToken);
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
    await taken!.release();
  });

  test('waiters give up with LockTimeoutError or AbortedError', async () => {
    const a = locksFor('a').semaphore('pool', { permits: 1 });
    const held = await a.acquire();
    const b = locksFor('b').semaphore('pool', { permits: 1 });
    const timedOut = expect(b.acquire({ timeout: '5s' })).rejects.toBeInstanceOf(LockTimeoutError);
    await clock.advance(5_000);
    await timedOut;
    const stop = new AbortController();
    const aborted = expect(b.acquire({ signal: stop.signal })).rejects.toBeInstanceOf(AbortedError);
    stop.abort();
    await aborted;
    await held.release();
  });

  test('processes disagreeing on the permit count: the second fails with ConfigError', async () => {
    const held = await locksFor('a').semaphore('pool', { permits: 1 }).acquire();
    await expect(locksFor('b').semaphore('pool', { permits: 2 }).acquire()).rejects.toBeInstanceOf(ConfigError);
    await held.release();
  });

  test('without a fast path (read, then compare-and-swap), permits are still bounded and handed over', async () => {
    slowStore = new MemoryLockStore({ fastPath: false });
    const sems = ['a', 'b', 'c'].map((id) => locksFor(id, false).semaphore('pool', { permits: 2 }));
    const held = [await sems[0]!.acquire(), await sems[1]!.acquire()];
    let third: LockHandle | undefined;
    void sems[2]!.acquire().then((h) => (third = h));
    await clock.advance(LEASE);
    expect(third).toBeUndefined();
    await held[0]!.release();
    await clock.advanceUntil(() => third !== undefined, 3_000);
    expect(third!.fencingToken).toBeGreaterThan(2);
    await third!.release();
    await held[1]!.release();
  });

  test('a counter record deleted behind its back never makes a process repeat a token', async () => {
    const sem = locksFor('a').semaphore('pool', { permits: 1 });
    const tokens: number[] = [];
    for (let i = 0; i < 3; i++) await sem.withPermit((p) => tokens.push(p.fencingToken));
    store.delete('pool.tokens');
    await sem.withPermit((p) => tokens.push(p.fencingToken));
    expect(tokens).toEqual([1, 2, 3, 4]);
  });
});
