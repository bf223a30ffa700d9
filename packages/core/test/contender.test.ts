import { describe, expect, test } from '@jest/globals';
import {
  BackendUnavailableError,
  Contender,
  FakeClock,
  InvalidRecordError,
  LockConflictError,
  MemoryLock,
  MemoryLockStore,
} from '../src/index.ts';
import type { LeaderElectionRecord, LockCallOptions, LockSnapshot } from '../src/index.ts';

const LEASE = 15_000;
const RETRY = 2_000;

function setup(options: { fastPath?: boolean; random?: number } = {}) {
  const clock = new FakeClock();
  const store = new MemoryLockStore({ fastPath: options.fastPath ?? true });
  const contender = new Contender({ clock, leaseDurationMs: LEASE, retryPeriodMs: RETRY, random: () => options.random ?? 0 });
  return { clock, store, contender };
}

const foreign = (overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
  holderIdentity: 'other',
  leaseDurationMs: LEASE,
  acquireTime: 0,
  renewTime: 0,
  leaderTransitions: 3,
  fencingToken: 7,
  ...overrides,
});

const read = async (store: MemoryLockStore): Promise<LockSnapshot | null> => store.lock('job', 'reader').get();

describe('Contender: the fast path', () => {
  test('a lock nobody has been seen to hold is acquired in one backend call', async () => {
    const { store, contender } = setup();
    const lock = store.lock('job', 'me');
    const attempt = await contender.attempt(lock);
    expect(attempt.acquired).toBe(true);
    expect(lock.calls).toEqual({ get: 0, create: 0, update: 0, acquireIfFree: 1 });
    expect((await read(store))!.record).toMatchObject({ holderIdentity: 'me', fencingToken: 1, leaderTransitions: 0 });
  });

  test('without the fast path the same attempt is a read and a create', async () => {
    const { store, contender } = setup({ fastPath: false });
    const lock = store.lock('job', 'me');
    expect(lock.acquireIfFree).toBeUndefined();
    expect((await contender.attempt(lock)).acquired).toBe(true);
    expect(lock.calls).toEqual({ get: 1, create: 1, update: 0, acquireIfFree: 0 });
  });

  test('over a released record it writes a new term: a larger token and the transition counted', async () => {
    const { store, contender } = setup();
    store.plant('job', foreign({ holderIdentity: '' }));
    const lock = store.lock('job', 'me');
    const attempt = await contender.attempt(lock);
    expect(attempt.acquired).toBe(true);
    expect(lock.calls.acquireIfFree).toBe(1);
    expect((await read(store))!.record).toMatchObject({ holderIdentity: 'me', fencingToken: 8, leaderTransitions: 4 });
  });

  test('a held record it finds is judged like a read: nothing written, expiry counted from that moment', async () => {
    const { clock, store, contender } = setup();
    store.plant('job', foreign({ renewTime: 1 }));
    const before = await read(store);
    await clock.advance(5000);
    const lock = store.lock('job', 'me');
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'held' });
    expect(await read(store)).toEqual(before);
    expect(contender.expiresAt()).toBe(clock.now() + LEASE);
  });

  test('a lease observed expired is taken by a read and a compare-and-swap, never by the fast path', async () => {
    const { clock, store, contender } = setup();
    store.plant('job', foreign());
    const lock = store.lock('job', 'me');
    await contender.attempt(lock); // observed held
    await clock.advance(LEASE);
    const attempt = await contender.attempt(lock);
    expect(attempt.acquired).toBe(true);
    expect(lock.calls).toEqual({ get: 1, create: 0, update: 1, acquireIfFree: 1 });
    expect((await read(store))!.record).toMatchObject({ holderIdentity: 'me', fencingToken: 8, leaderTransitions: 4 });
  });

  test('a lease renewed while observed is not taken at its old expiry', async () => {
    const { clock, store, contender } = setup();
    store.plant('job', foreign());
    const lock = store.lock('job', 'me');
    await contender.attempt(lock);
    await clock.advance(LEASE - 1);
    const holder = store.lock('job', 'other');
    const current = (await holder.get())!;
    await holder.update({ ...current.record, renewTime: clock.wallNow() }, current.version);
    await clock.advance(1);
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'held' });
    expect((await read(store))!.record.holderIdentity).toBe('other');
    expect(contender.expiresAt()).toBe(clock.now() + LEASE);
  });

  test('a lease held by its own identity (re-acquisition after a loss) goes through read and compare-and-swap', async () => {
    const { store, contender } = setup();
    store.plant('job', foreign({ holderIdentity: 'me' }));
    const lock = store.lock('job', 'me');
    await contender.attempt(lock); // the fast path finds it held (by me): judged, then swapped
    expect((await read(store))!.record).toMatchObject({ holderIdentity: 'me', fencingToken: 8, leaderTransitions: 3 });
    expect(lock.calls).toEqual({ get: 0, create: 0, update: 1, acquireIfFree: 1 });
  });

  test('of two contenders on a free lock exactly one acquires; the other learns who holds it', async () => {
    const { clock, store } = setup();
    const contenders = ['a', 'b'].map(() => new Contender({ clock, leaseDurationMs: LEASE, retryPeriodMs: RETRY, random: () => 0 }));
    const results = await Promise.all(contenders.map((c, i) => c.attempt(store.lock('job', `c${i}`))));
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    const loser = contenders[results.findIndex((r) => !r.acquired)]!;
    expect(loser.snapshot!.record.holderIdentity).toBe((await read(store))!.record.holderIdentity);
  });

  test('the highest-token guard: a record deleted and recreated does not restart the tokens', async () => {
    const { store, contender } = setup();
    store.plant('job', foreign({ fencingToken: 41 }));
    const lock = store.lock('job', 'me');
    await contender.attempt(lock);
    store.delete('job');
    contender.offer(null); // the watch reports the deletion: nothing left to read a token from
    expect((await contender.attempt(lock)).acquired).toBe(true);
    expect((await read(store))!.record.fencingToken).toBe(42);
  });

  test('a corrupt record is an InvalidRecordError and is left as it is', async () => {
    const { store, contender } = setup();
    store.plant('job', { holderIdentity: '', junk: true });
    await expect(contender.attempt(store.lock('job', 'me'))).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(read(store)).rejects.toBeInstanceOf(InvalidRecordError);
  });

  test('injected faults reach the fast path: unavailable fails at once, a hang at the retry-period deadline', async () => {
    const { clock, store, contender } = setup();
    const lock = store.lock('job', 'me');
    lock.setFault('unavailable');
    await expect(contender.attempt(lock)).rejects.toBeInstanceOf(BackendUnavailableError);
    lock.setFault('hang');
    const hanging = contender.attempt(lock);
    const rejection = expect(hanging).rejects.toBeInstanceOf(BackendUnavailableError);
    await clock.advance(RETRY - 1);
    let settled = false;
    void hanging.catch(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    await rejection;
    expect(lock.calls.acquireIfFree).toBe(2);
    expect(await read(store)).toBeNull();
  });

  test('an attempt settles at once when its cancel signal aborts', async () => {
    const { store, contender } = setup();
    store.setFault('hang');
    const cancel = new AbortController();
    const attempt = contender.attempt(store.lock('job', 'me'), cancel.signal);
    cancel.abort(new Error('stopping'));
    await expect(attempt).rejects.toThrow('stopping');
  });
});

describe('Contender: offered snapshots', () => {
  test('a snapshot offered by a watch (or our own release) is written on without a read', async () => {
    const { store, contender } = setup();
    const writer = store.lock('job', 'writer');
    const released = await writer.create(foreign({ holderIdentity: '' }));
    contender.offer(released);
    const lock = store.lock('job', 'me');
    expect((await contender.attempt(lock)).acquired).toBe(true);
    expect(lock.calls).toEqual({ get: 0, create: 0, update: 1, acquireIfFree: 0 });
  });

  test('a stale offered snapshot costs a lost race, after which the lock is read again', async () => {
    const { store, contender } = setup({ fastPath: false });
    const writer = store.lock('job', 'writer');
    const released = await writer.create(foreign({ holderIdentity: '' }));
    contender.offer(released);
    await writer.update(foreign({ holderIdentity: 'writer', fencingToken: 8 }), released.version);
    const lock = store.lock('job', 'me');
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'conflict' });
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'held' });
    expect(lock.calls).toEqual({ get: 1, create: 0, update: 1, acquireIfFree: 0 });
    expect((await read(store))!.record.holderIdentity).toBe('writer');
  });

  test('"read again" (undefined) drops an offered snapshot: the next attempt reads', async () => {
    const { store, contender } = setup({ fastPath: false });
    const released = await store.lock('job', 'writer').create(foreign({ holderIdentity: '' }));
    const lock = store.lock('job', 'me');
    contender.offer(released);
    contender.offer(undefined);
    expect((await contender.attempt(lock)).acquired).toBe(true);
    expect(lock.calls).toEqual({ get: 1, create: 0, update: 1, acquireIfFree: 0 });
  });

  test('a broken watch drops an offered snapshot: changes may have been missed', async () => {
    const { store, contender } = setup({ fastPath: false });
    const released = await store.lock('job', 'writer').create(foreign({ holderIdentity: '' }));
    const lock = store.lock('job', 'me');
    contender.offer(released);
    contender.setWatchHealthy(false);
    expect((await contender.attempt(lock)).acquired).toBe(true);
    expect(lock.calls).toEqual({ get: 1, create: 0, update: 1, acquireIfFree: 0 });
  });
});

describe('Contender: when to try next', () => {
  test('a held lease: exactly at the observed expiry with a healthy watch, no later than the jittered retry without', async () => {
    const { clock, store, contender } = setup({ random: 0.5 });
    store.plant('job', foreign());
    await contender.attempt(store.lock('job', 'me'));
    await clock.advance(1000);
    expect(contender.delayAfter('held')).toBe(RETRY * (1 + 1.2 * 0.5));
    contender.setWatchHealthy(true);
    expect(contender.delayAfter('held')).toBe(LEASE - 1000);
    await clock.advance(LEASE);
    expect(contender.delayAfter('held')).toBe(1);
  });

  test('lost races are retried at once three times in a row, then after the jittered retry period', async () => {
    const { store, contender } = setup({ fastPath: false });
    class AlwaysLosing extends MemoryLock {
      override update(_record: LeaderElectionRecord, _version: string, _options?: LockCallOptions): Promise<LockSnapshot> {
        return Promise.reject(new LockConflictError('someone else wrote first'));
      }
    }
    store.plant('job', foreign({ holderIdentity: '' }));
    const lock = new AlwaysLosing(store, 'job', 'me');
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'conflict' });
      delays.push(contender.delayAfter('conflict'));
    }
    expect(delays).toEqual([0, 0, 0, RETRY, RETRY]);
    // Any other outcome starts the count again.
    await store.lock('job', 'writer').update(foreign(), (await read(store))!.version);
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'held' });
    store.plant('job', foreign({ holderIdentity: '' }));
    await contender.attempt(lock);
    expect(contender.delayAfter('conflict')).toBe(0);
  });

  test('a failure waits the jittered retry period', () => {
    const { contender } = setup({ random: 0.25 });
    expect(contender.delayAfter('error')).toBe(RETRY * (1 + 1.2 * 0.25));
    expect(contender.retryDelay()).toBe(RETRY * (1 + 1.2 * 0.25));
  });
});

describe('Contender: a snapshot pushed while a call is in flight', () => {
  /** The lock's fast-path answers wait for `open()`: a read overtaken by a pushed release. */
  function gated(lock: ReturnType<MemoryLockStore['lock']>) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const acquireIfFree = lock.acquireIfFree!.bind(lock);
    const slow = Object.assign(Object.create(lock) as typeof lock, {
      async acquireIfFree(record: LeaderElectionRecord, options?: LockCallOptions) {
        const answer = await acquireIfFree(record, options);
        await gate;
        return answer;
      },
    });
    return { slow, open };
  }

  test('a held answer overtaken by a pushed release does not make the contender wait out the lease', async () => {
    const { store, contender } = setup();
    const holder = store.lock('job', 'other');
    const held = await holder.create(foreign());
    const { slow, open } = gated(store.lock('job', 'me'));
    const attempt = contender.attempt(slow);
    // The holder releases while the held answer is on its way; the watch pushes the release.
    const released = await holder.update({ ...held.record, holderIdentity: '' }, held.version);
    contender.offer(released);
    open();
    const result = await attempt;
    expect(result.acquired).toBe(true);
    expect((await read(store))!.record).toMatchObject({ holderIdentity: 'me', fencingToken: 8 });
  });

  test('a stale read observed after a pushed release: the next attempt judges by the release', async () => {
    const { store, contender } = setup({ fastPath: false });
    const holder = store.lock('job', 'other');
    const held = await holder.create(foreign());
    const lock = store.lock('job', 'me');
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'held' });
    const released = await holder.update({ ...held.record, holderIdentity: '' }, held.version);
    contender.offer(released);
    contender.observe(held); // a late, stale read observed after the push
    expect((await contender.attempt(lock)).acquired).toBe(true);
  });
});

describe('Contender: mustRead', () => {
  test('"read again" and a watch going up or down make the observed state stale until the next attempt reads', async () => {
    const { store, contender } = setup();
    const holder = store.lock('job', 'other');
    const held = await holder.create(foreign());
    const lock = store.lock('job', 'me');
    expect(await contender.attempt(lock)).toEqual({ acquired: false, outcome: 'held' });
    expect(contender.mustRead).toBe(false);
    // The release is announced without a snapshot: still observed held, but not to be trusted.
    await holder.update({ ...held.record, holderIdentity: '' }, held.version);
    contender.offer(undefined);
    expect(contender.heldByOther('me')).toBe(true);
    expect(contender.mustRead).toBe(true);
    expect((await contender.attempt(lock)).acquired).toBe(true);
    expect(contender.mustRead).toBe(false);
    contender.setWatchHealthy(true);
    expect(contender.mustRead).toBe(true);
  });
});
