import { describe, expect, test } from '@jest/globals';
import { BatonError, InvalidRecordError, LockLostError, MemoryLock } from '../src/index.ts';
import type { LeaderElectionRecord, LockCallOptions, LockSnapshot, WatchHandlers } from '../src/index.ts';
import { setupEachTest } from './harness.ts';

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

const env = setupEachTest();

const foreignRecord = (overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
  holderIdentity: 'other',
  leaseDurationMs: LEASE,
  acquireTime: 0,
  renewTime: 0,
  leaderTransitions: 3,
  fencingToken: 7,
  ...overrides,
});

describe('acquiring', () => {
  test('a lone candidate leads at once, reports itself as leader, and gets token 1', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.getLeader()).toBe('a');
    expect(a.newLeaders).toEqual(['a']);
    expect(a.terms[0]!.fencingToken).toBe(1);
    expect(a.terms[0]!.signal.aborted).toBe(false);
  });

  test('a follower waits out the lease from when it observed it, whatever the record\'s timestamps say', async () => {
    const { clock, store, start } = env();
    // Stamped far in the past by another machine's clock: must not count as expired.
    store.plant('job', foreignRecord({ renewTime: 1, acquireTime: 1 }));
    const b = start(store.lock('job', 'b'));
    await clock.advance(LEASE - 1);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('other');
    await clock.advance(1);
    expect(b.elector.isLeader()).toBe(true);
    const stored = (await store.lock('job', 'reader').get())!.record;
    expect(stored).toMatchObject({ holderIdentity: 'b', leaderTransitions: 4, fencingToken: 8 });
  });

  test('a candidate with a shorter leaseDuration does not steal a lease written with a longer one', async () => {
    const { clock, store, start } = env();
    store.plant('job', foreignRecord({ leaseDurationMs: 60_000 }));
    const b = start(store.lock('job', 'b'), { leaseDuration: 3000, renewDeadline: 2500, retryPeriod: 1000 });
    await clock.advance(59_999);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(1);
    expect(b.elector.isLeader()).toBe(true);
  });

  test('with a healthy watch a follower polls nothing and tries exactly when the lease expires', async () => {
    const { clock, store, start } = env();
    const leaderLock = store.lock('job', 'a');
    const a = start(leaderLock);
    await clock.advance(0);
    const followerLock = store.lock('job', 'b');
    const b = start(followerLock);
    await clock.advance(0);
    const callsAfterJoining = { ...followerLock.calls };
    // Ten renewals: the follower learns of each through the watch, reading nothing.
    await clock.advance(10 * RETRY);
    expect(followerLock.calls).toEqual({ ...callsAfterJoining, create: 0, update: 0 });
    expect(leaderLock.calls.update).toBe(10);

    leaderLock.setFault('hang');
    const lastRenewal = clock.now();
    await clock.advance(RENEW);
    expect(a.elector.isLeader()).toBe(false);
    await clock.advance(LEASE - RENEW - 1);
    expect(b.elector.isLeader()).toBe(false);
    expect(followerLock.calls).toEqual(callsAfterJoining);
    await clock.advance(1);
    expect(clock.now() - lastRenewal).toBe(LEASE);
    expect(b.elector.isLeader()).toBe(true);
  });

  test('without watch (client-go polling) a follower reads every jittered retry period', async () => {
    const { clock, store, start } = env();
    start(store.lock('job', 'a'));
    await clock.advance(0);
    const followerLock = store.lock('job', 'b');
    start(followerLock, { watch: false, random: () => 0.5 });
    // A read, or (on a lock with the fast path) an acquireIfFree that finds the lock held.
    const reads = (): number => followerLock.calls.get + followerLock.calls.acquireIfFree;
    await clock.advance(0);
    expect(reads()).toBe(1);
    const period = RETRY * (1 + 1.2 * 0.5);
    await clock.advance(period * 5);
    expect(reads()).toBe(6);
    expect(followerLock.calls).toMatchObject({ create: 0, update: 0 });
  });

  test('a corrupt record is reported and never overwritten', async () => {
    const { clock, store, start } = env();
    const garbage = { holderIdentity: 'x', leaseDurationMs: -1 };
    store.plant('job', garbage);
    const b = start(store.lock('job', 'b'));
    await clock.advance(5 * LEASE);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.errors.length).toBeGreaterThan(0);
    expect(b.errors.every((e) => e instanceof InvalidRecordError)).toBe(true);
    await expect(store.lock('job', 'reader').get()).rejects.toThrow(/leaseDurationMs must be a positive integer/);
  });

  test('a backend that is down is retried on the jittered period and never crashes the elector', async () => {
    const { clock, store, start } = env();
    store.setFault('unavailable');
    const a = start(store.lock('job', 'a'), { watch: false });
    await clock.advance(3 * RETRY);
    expect(a.errors).toHaveLength(4);
    store.setFault(undefined);
    await clock.advance(RETRY);
    expect(a.elector.isLeader()).toBe(true);
  });
});

describe('leading', () => {
  test('a leader that cannot renew steps down at renewDeadline and not later', async () => {
    const { clock, store, start } = env();
    const lock = store.lock('job', 'a');
    const a = start(lock);
    await clock.advance(0);
    await clock.advance(3 * RETRY); // three renewals; the last began at 6 s
    const lastRenewalStart = clock.now();
    lock.setFault('hang');
    await clock.advance(RENEW - 1);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.terms[0]!.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(clock.now() - lastRenewalStart).toBe(RENEW);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.terms[0]!.signal.aborted).toBe(true);
    expect(a.terms[0]!.signal.reason).toBeInstanceOf(LockLostError);
    expect(a.stoppedAt).toEqual([clock.now()]);
  });

  test('renewals failing fast also end the term at renewDeadline, after retries', async () => {
    const { clock, store, start } = env();
    const lock = store.lock('job', 'a');
    const a = start(lock);
    await clock.advance(RETRY); // renewed at 2 s
    lock.setFault('unavailable');
    await clock.advance(RENEW - 1);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.errors.length).toBeGreaterThanOrEqual(4);
    await clock.advance(1);
    expect(a.elector.isLeader()).toBe(false);
  });

  test('re-acquiring after a loss, by the same identity, yields a larger token and no transition', async () => {
    const { clock, store, start } = env();
    const lock = store.lock('job', 'a');
    const a = start(lock);
    await clock.advance(0);
    lock.setFault('hang');
    await clock.advance(RENEW);
    expect(a.elector.isLeader()).toBe(false);
    lock.setFault(undefined);
    await clock.advanceUntil(() => a.elector.isLeader(), 3 * RETRY);
    expect(a.terms.map((t) => t.fencingToken)).toEqual([1, 2]);
    expect((await lock.get())!.record.leaderTransitions).toBe(0);
  });

  test('a leader steps down at once when the watch shows the lock taken by someone else', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const intruder = store.lock('job', 'intruder');
    const current = (await intruder.get())!;
    await intruder.update({ ...current.record, holderIdentity: 'intruder', fencingToken: 99 }, current.version);
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.terms[0]!.signal.aborted).toBe(true);
    expect(a.elector.getLeader()).toBe('intruder');
  });

  test('a leader whose watch comes back checks its term at once, catching a takeover it missed', async () => {
    const { clock, store, start } = env();
    let handlers: WatchHandlers | undefined;
    let deaf = false;
    class FlakyWatchLock extends MemoryLock {
      override watch(h: WatchHandlers): () => void {
        handlers = h;
        return super.watch({ onChange: (s) => !deaf && h.onChange(s), onHealth: (ok) => h.onHealth?.(ok) });
      }
    }
    const a = start(new FlakyWatchLock(store, 'job', 'a'));
    await clock.advance(0);
    deaf = true;
    handlers!.onHealth!(false);
    const intruder = store.lock('job', 'intruder');
    const current = (await intruder.get())!;
    await intruder.update({ ...current.record, holderIdentity: 'intruder', fencingToken: 99 }, current.version);
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true); // missed it
    deaf = false;
    handlers!.onHealth!(true);
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.elector.getLeader()).toBe('intruder');
  });

  test('a leader whose object was touched without changing the holder keeps its term', async () => {
    const { clock, store, start } = env();
    const lock = store.lock('job', 'a');
    const a = start(lock);
    await clock.advance(0);
    const other = store.lock('job', 'toucher');
    const current = (await other.get())!;
    await other.update(current.record, current.version); // new version, same record (a label change)
    await clock.advance(5 * RETRY);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.terms).toHaveLength(1);
  });

  test('session loss ends the term at once', async () => {
    const { clock, store, start } = env();
    const lost = new Set<(reason: Error) => void>();
    class SessionLock extends MemoryLock {
      onSessionLost(listener: (reason: Error) => void): () => void {
        lost.add(listener);
        return () => lost.delete(listener);
      }
    }
    const a = start(new SessionLock(store, 'job', 'a'));
    await clock.advance(0);
    for (const listener of lost) listener(new Error('connection closed'));
    expect(a.elector.isLeader()).toBe(false);
    expect((a.terms[0]!.signal.reason as Error).message).toMatch(/session lost: connection closed/);
  });

  test('onNewLeader fires once per change of holder, not per renewal', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const b = start(store.lock('job', 'b'));
    await clock.advance(10 * RETRY);
    expect(b.newLeaders).toEqual(['a']);
    a.stop.abort();
    await clock.advance(0);
    expect(b.newLeaders).toEqual(['a', 'b']);
  });

  test('the health check fails only when a leader\'s lease has been expired beyond the tolerance', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    const b = start(store.lock('job', 'b'));
    await clock.advance(0);
    expect(a.elector.checkHealth()).toEqual({ healthy: true });
    clock.jump(LEASE + 1000); // suspended: no timer ran, not even the renew deadline
    expect(a.elector.checkHealth(2000)).toEqual({ healthy: true });
    const status = a.elector.checkHealth(500);
    expect(status.healthy).toBe(false);
    expect(b.elector.checkHealth(0)).toEqual({ healthy: true });
  });
});

describe('stopping', () => {
  test('status flips to not-leader, the signal aborts and onStoppedLeading runs before the release write', async () => {
    const { clock, store, start } = env();
    // onStoppedLeading before the write: a backend may hand the lock to a waiter within the
    // release call (PostgreSQL's direct handover), whose term then starts before it returns.
    let seenAtRelease: { leader: boolean; aborted: boolean; stopped: number } | undefined;
    const probeRef: { current?: ReturnType<typeof start> } = {};
    class SpyLock extends MemoryLock {
      override update(record: LeaderElectionRecord, version: string, options?: LockCallOptions): Promise<LockSnapshot> {
        if (record.holderIdentity === '') {
          const probe = probeRef.current!;
          seenAtRelease = { leader: probe.elector.isLeader(), aborted: probe.terms[0]!.signal.aborted, stopped: probe.stoppedAt.length };
        }
        return super.update(record, version, options);
      }
    }
    probeRef.current = start(new SpyLock(store, 'job', 'a'));
    await clock.advance(0);
    probeRef.current.stop.abort();
    await probeRef.current.done;
    expect(seenAtRelease).toEqual({ leader: false, aborted: true, stopped: 1 });
    expect(probeRef.current.stoppedAt).toHaveLength(1);
    expect((await store.lock('job', 'r').get())!.record.holderIdentity).toBe('');
  });

  test('a follower takes over a released lease in the same instant', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const b = start(store.lock('job', 'b'));
    await clock.advance(3 * RETRY);
    const releasedAt = clock.now();
    a.stop.abort();
    await clock.advance(0);
    expect(b.elector.isLeader()).toBe(true);
    expect(clock.now()).toBe(releasedAt);
    expect(b.terms[0]!.fencingToken).toBe(2);
    expect((await store.lock('job', 'r').get())!.record.leaderTransitions).toBe(1);
  });

  test('a release pushed by the watch is taken with one write and no read', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'));
    await clock.advance(0);
    const followerLock = store.lock('job', 'b');
    const b = start(followerLock);
    await clock.advance(3 * RETRY);
    const before = { ...followerLock.calls };
    a.stop.abort();
    await clock.advance(0);
    expect(b.elector.isLeader()).toBe(true);
    expect(followerLock.calls).toEqual({ ...before, create: 0, update: before.update + 1 });
  });

  test('a graceful stop waits for the leader\'s work to settle, renewing meanwhile, then releases', async () => {
    const { clock, store, start } = env();
    let finishWork!: () => void;
    const a = start(store.lock('job', 'a'), {
      shutdownGracePeriod: LEASE * 4,
      callbacks: {
        onStartedLeading: (term) =>
          new Promise<void>((resolve) => {
            term.signal.addEventListener('abort', () => {
              finishWork = resolve;
            });
          }),
      },
    });
    await clock.advance(0);
    const b = start(store.lock('job', 'b'));
    await clock.advance(0);
    a.stop.abort();
    await clock.advance(LEASE * 2); // longer than a lease: still held, because a keeps renewing while draining
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(false);
    expect(a.elector.getState()).toBe('stopping');
    finishWork();
    await a.done;
    await clock.advance(0);
    expect(b.elector.isLeader()).toBe(true);
  });

  test('work that outlives shutdownGracePeriod means no release: the lease expires instead', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'), { shutdownGracePeriod: 3000, callbacks: { onStartedLeading: () => new Promise(() => {}) } });
    await clock.advance(0);
    a.stop.abort();
    await clock.advance(3000);
    await a.done;
    expect((await store.lock('job', 'r').get())!.record.holderIdentity).toBe('a');
  });

  test('releaseOnCancel: false leaves the holder in place', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'), { releaseOnCancel: false });
    await clock.advance(0);
    a.stop.abort();
    await a.done;
    expect((await store.lock('job', 'r').get())!.record.holderIdentity).toBe('a');
  });

  test('stopping a candidate settles at once, even with a hanging backend', async () => {
    const { clock, store, start } = env();
    store.setFault('hang');
    const a = start(store.lock('job', 'a'));
    await clock.advance(100);
    a.stop.abort();
    await a.done;
    expect(a.elector.getState()).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
  });

  test('callbacks that throw are reported, not fatal; run never rejects and runs once', async () => {
    const { clock, store, start } = env();
    const a = start(store.lock('job', 'a'), {
      callbacks: {
        onStartedLeading: () => {
          throw new Error('boom');
        },
        onNewLeader: () => {
          throw new Error('bang');
        },
      },
    });
    await clock.advance(RETRY * 3);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.errors.map((e) => (e as Error).message).sort()).toEqual(['bang', 'boom']);
    await expect(a.elector.run()).rejects.toBeInstanceOf(BatonError);
  });
});
