import { describe, expect, test } from '@jest/globals';
import { AbortedError, BatonError, DistributedLocks, LeaseExpiredError, LockLostError } from '../src/index.ts';
import type { LeaderTerm } from '../src/index.ts';
import { setupEachTest } from './harness.ts';

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

const env = setupEachTest();

/** Lets promise callbacks run without moving the fake clock or firing its timers. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What `fn` throws, or undefined. */
function thrown(fn: () => void): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('validForMs: the term\'s remaining validity, for a process outside this event loop', () => {
  test('counts down from renewDeadline at each successful renewal, and is 0 once lapsed or ended', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const term = a.terms[0]!;
    expect(term.validForMs()).toBe(RENEW);
    await clock.advance(RETRY - 1);
    expect(term.validForMs()).toBe(RENEW - RETRY + 1);
    await clock.advance(1); // the renewal at 2 s starts the count again
    expect(term.validForMs()).toBe(RENEW);
    clock.jump(RENEW - 1);
    expect(term.validForMs()).toBe(1);
    clock.jump(1);
    expect(term.validForMs()).toBe(0);
    expect(term.isLeading()).toBe(false);
    await clock.advance(0);
    expect(term.validForMs()).toBe(0);
  });

  test('counts from the lock\'s silentHolderTimeoutMs when the backend frees a silent holder sooner than renewDeadline', async () => {
    const { clock, store, start } = env();
    const SILENT = 6_000; // e.g. 2/3 of a 9 s etcd session TTL
    const a = start(Object.assign(store.lock('job', 'a'), { silentHolderTimeoutMs: SILENT }));
    await clock.advance(0);
    const term = a.terms[0]!;
    expect(term.validForMs()).toBe(SILENT);
    clock.jump(SILENT - 1); // paused: no renewal ran
    expect(() => term.assertLeading()).not.toThrow();
    clock.jump(1);
    expect(term.validForMs()).toBe(0);
    const error = thrown(() => term.assertLeading());
    expect(error).toBeInstanceOf(LeaseExpiredError);
    expect((error as Error).message).toMatch(/silent-holder timeout \(6000 ms, below renewDeadline\)/);
    await clock.advance(0);
  });

  test('a lock handle reports the same, and 0 once released', async () => {
    const { clock, store } = env();
    const locks = new DistributedLocks({ factory: store, identity: 'me', clock, random: () => 0 });
    const handle = await locks.get('job').acquire();
    expect(handle.validForMs()).toBe(RENEW);
    await clock.advance(500);
    expect(handle.validForMs()).toBe(RENEW - 500);
    await handle.release();
    expect(handle.validForMs()).toBe(0);
    locks.close();
  });
});

describe('LeaderTerm.assertLeading', () => {
  test('passes while the leader renews, and fails the instant renewDeadline has passed by the clock, before any timer runs', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const term = a.terms[0]!;
    await clock.advance(3 * RETRY); // renewed at 2, 4 and 6 s
    expect(() => term.assertLeading()).not.toThrow();
    clock.jump(RENEW - 1); // suspended: 15.999 s, last renewal began at 6 s
    expect(term.isLeading()).toBe(true);
    clock.jump(1);
    const error = thrown(() => term.assertLeading());
    expect(error).toBeInstanceOf(LeaseExpiredError);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LeaseExpiredError).overdueMs).toBe(0);
    expect(term.isLeading()).toBe(false);
    expect(a.elector.isLeader()).toBe(false);
    // The timers have not run: the signal is still up, which is why the check exists.
    expect(term.signal.aborted).toBe(false);
    await clock.advance(0);
    expect(term.signal.aborted).toBe(true);
    const afterwards = thrown(() => term.assertLeading());
    expect(afterwards).toBeInstanceOf(LockLostError);
    expect(afterwards).not.toBeInstanceOf(LeaseExpiredError);
    expect((afterwards as LockLostError).cause).toBe(term.signal.reason);
  });

  test('after a pause the first unit of work it guards throws, before the term\'s timers run', async () => {
    const { clock, store, start } = env();
    let next!: () => void;
    const units: number[] = [];
    let stoppedBy: unknown;
    const a = start(store.lock('job', 'a'), {
      callbacks: {
        onStartedLeading: async (term: LeaderTerm) => {
          try {
            for (;;) {
              await new Promise<void>((resolve) => (next = resolve)); // e.g. a message arrives
              term.assertLeading();
              units.push(clock.now());
            }
          } catch (error) {
            stoppedBy = error;
          }
        },
      },
    });
    await clock.advance(0);
    for (let i = 0; i < 3; i++) {
      next();
      await clock.advance(RETRY);
    }
    expect(units).toEqual([0, RETRY, 2 * RETRY]);
    clock.jump(LEASE); // SIGSTOP … SIGCONT: the process slept through its renew deadline
    next(); // the first event after resuming runs before the overdue timers
    await flush();
    expect(stoppedBy).toBeInstanceOf(LeaseExpiredError);
    expect(units).toHaveLength(3);
    await clock.advance(0);
    expect(a.elector.getState()).toBe('candidate');
  });

  test('a graceful stop ends the term for the check at once, while the lease still renews during the drain', async () => {
    const { clock, store, start } = env();
    let term!: LeaderTerm;
    let finishWork!: () => void;
    const lock = store.lock('job', 'a');
    const a = start(lock, {
      shutdownGracePeriod: LEASE,
      callbacks: {
        onStartedLeading: (t: LeaderTerm) =>
          new Promise<void>((resolve) => {
            term = t;
            finishWork = resolve;
          }),
      },
    });
    await clock.advance(0);
    term.assertLeading();
    const renewals = lock.calls.update;
    a.stop.abort();
    await clock.advance(RETRY);
    expect(lock.calls.update).toBe(renewals + 1); // still renewing while the work drains
    const error = thrown(() => term.assertLeading());
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toBeInstanceOf(BatonError);
    expect(((error as LockLostError).cause as BatonError).code).toBe('ELECTOR_STOPPED');
    expect(term.isLeading()).toBe(false);
    finishWork();
    await a.done;
  });

  test('a term lost to a foreign write fails the check with the loss as its cause', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const intruder = store.lock('job', 'intruder');
    const current = (await intruder.get())!;
    await intruder.update({ ...current.record, holderIdentity: 'intruder', fencingToken: 99 }, current.version);
    await clock.advance(0);
    const error = thrown(() => a.terms[0]!.assertLeading()) as LockLostError;
    expect(error).toBeInstanceOf(LockLostError);
    expect((error.cause as Error).message).toMatch(/taken by "intruder"/);
  });
});

describe('LockHandle.assertHeld', () => {
  const locksOn = (identity: string): DistributedLocks =>
    new DistributedLocks({ factory: env().store, identity, clock: env().clock, random: () => 0 });

  test('fails the instant renewDeadline has passed since the last renewal began, before the handle\'s timers run', async () => {
    const { clock } = env();
    const locks = locksOn('a');
    const held = await locks.get('job').acquire();
    await clock.advance(RETRY); // renewed at 2 s
    held.assertHeld();
    clock.jump(RENEW - 1);
    expect(held.isHeld()).toBe(true);
    clock.jump(1);
    expect(thrown(() => held.assertHeld())).toBeInstanceOf(LeaseExpiredError);
    expect(held.isHeld()).toBe(false);
    expect(held.signal.aborted).toBe(false);
    await clock.advance(0);
    expect(held.signal.aborted).toBe(true);
    expect(thrown(() => held.assertHeld())).toBeInstanceOf(LockLostError);
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
    locks.close();
  });

  test('a released handle fails the check with the release as its cause', async () => {
    const locks = locksOn('a');
    const held = await locks.get('job').acquire();
    expect(held.isHeld()).toBe(true);
    await held.release();
    const error = thrown(() => held.assertHeld()) as LockLostError;
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).not.toBeInstanceOf(LeaseExpiredError);
    expect(error.cause).toBeInstanceOf(AbortedError);
    expect(held.isHeld()).toBe(false);
    locks.close();
  });
});
