import { afterEach, describe, expect, test } from '@jest/globals';
import {
  AbortedError,
  BackendUnavailableError,
  ConfigError,
  DistributedLocks,
  FakeClock,
  InvalidRecordError,
  LockLostError,
  LockTimeoutError,
  MemoryLockStore,
} from '../src/index.ts';
import type { MemoryLock } from '../src/index.ts';

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

let clock = new FakeClock();
let store = new MemoryLockStore();
const instances: DistributedLocks[] = [];
/** Every lock handed out, to cut one holder off from the store. */
let issued: MemoryLock[] = [];

/** One DistributedLocks per simulated process, all on the same store. */
function locksFor(identity: string): DistributedLocks {
  const locks = new DistributedLocks({
    identity,
    clock,
    random: () => 0,
    lockFor: (name, id) => {
      const lock = store.lock(name, id);
      issued.push(lock);
      return lock;
    },
  });
  instances.push(locks);
  return locks;
}

afterEach(() => {
  for (const locks of instances.splice(0)) locks.close();
  clock = new FakeClock();
  store = new MemoryLockStore();
  issued = [];
});

describe('DistributedLocks', () => {
  test('validates its options', () => {
    expect(() => new DistributedLocks({ lockFor: undefined as never })).toThrow(ConfigError);
    expect(() => new DistributedLocks({ lockFor: () => store.lock('x', 'y'), retryPeriod: '9s' })).toThrow('renewDeadline');
    expect(() => locksFor('a').get('')).toThrow(ConfigError);
  });

  test('acquire, hold across renewals, release; the next holder gets a larger token at once', async () => {
    const a = locksFor('a');
    const b = locksFor('b');
    const held = await a.get('job').acquire();
    expect(held.fencingToken).toBe(1);
    const waiting = b.get('job').acquire();
    let bHolds = false;
    void waiting.then(() => (bHolds = true));
    await clock.advance(5 * LEASE); // renewed all along
    expect(bHolds).toBe(false);
    expect(held.signal.aborted).toBe(false);
    await held.release();
    await clock.advance(0);
    expect(bHolds).toBe(true);
    const next = await waiting;
    expect(next.fencingToken).toBe(2);
    expect(held.signal.reason).toBeInstanceOf(AbortedError);
    await next.release();
  });

  test('tryAcquire returns null while the lock is held elsewhere', async () => {
    const held = await locksFor('a').get('job').acquire();
    expect(await locksFor('b').get('job').tryAcquire()).toBeNull();
    await held.release();
    const mine = await locksFor('c').get('job').tryAcquire();
    expect(mine?.fencingToken).toBe(2);
    await mine!.release();
  });

  test('a waiter gives up with LockTimeoutError or AbortedError', async () => {
    const held = await locksFor('a').get('job').acquire();
    const b = locksFor('b').get('job');
    const timedOut = b.acquire({ timeout: '3s' });
    const rejection = expect(timedOut).rejects.toBeInstanceOf(LockTimeoutError);
    await clock.advance(3000);
    await rejection;

    const stop = new AbortController();
    const aborted = b.acquire({ signal: stop.signal });
    stop.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    await held.release();
  });

  test('a holder cut off from the backend: signal aborts at renewDeadline, release reports the loss', async () => {
    const held = await locksFor('a').get('job').acquire();
    const waiter = locksFor('b').get('job').acquire();
    issued[0]!.setFault('hang');
    await clock.advance(RENEW - 1);
    expect(held.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LockLostError);
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
    // The waiter takes over once the lease it observed expires.
    await clock.advance(LEASE - RENEW);
    const next = await waiter;
    expect(next.fencingToken).toBe(2);
    await next.release();
  });

  test('waiters in one process are served in arrival order', async () => {
    const locks = locksFor('a');
    const order: number[] = [];
    const first = await locks.get('job').acquire();
    const waits = [1, 2, 3].map((n) =>
      locks.withLock('job', async () => {
        order.push(n);
        await clock.advance(0);
      }),
    );
    await clock.advance(0);
    await first.release();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  test('withLock releases after the function, and rethrows what it throws', async () => {
    const locks = locksFor('a');
    await expect(locks.withLock('job', (held) => held.fencingToken)).resolves.toBe(1);
    await expect(
      locks.withLock('job', () => {
        throw new Error('job failed');
      }),
    ).rejects.toThrow('job failed');
    expect((await store.lock('job', 'r').get())!.record.holderIdentity).toBe('');
  });

  test('await using releases the lock at the end of the scope', async () => {
    const locks = locksFor('a');
    {
      await using held = await locks.get('job').acquire();
      expect(held.fencingToken).toBe(1);
    }
    expect((await store.lock('job', 'r').get())!.record.holderIdentity).toBe('');
  });

  test('a corrupt record fails the acquisition at once and is left as it is', async () => {
    store.plant('job', 'not a record');
    await expect(locksFor('a').get('job').acquire()).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(store.lock('job', 'r').get()).rejects.toBeInstanceOf(InvalidRecordError);
  });

  test('a backend that stays down fails the waiter after renewDeadline with BackendUnavailableError', async () => {
    store.setFault('unavailable');
    const waiting = locksFor('a').get('job').acquire();
    const rejection = expect(waiting).rejects.toBeInstanceOf(BackendUnavailableError);
    await clock.advance(RENEW + 2 * RETRY);
    await rejection;
  });
});
