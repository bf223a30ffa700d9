import { afterEach, describe, expect, test } from '@jest/globals';
import { ConfigError, defaultIdentity, MemoryLockStore, MultiLock, UNKNOWN_LEADER } from '../src/index.ts';
import { setup } from './harness.ts';

let env = setup();
afterEach(async () => {
  await env.teardown();
  env = setup();
});

/** Two backends, as an Endpoints annotation lock (old) and a Lease (new) would be. */
const stores = () => ({ old: env.store, next: new MemoryLockStore() });

describe('MultiLock', () => {
  test('refuses locks with different identities', () => {
    const { old, next } = stores();
    expect(() => new MultiLock(old.lock('job', 'a'), next.lock('job', 'b'))).toThrow(ConfigError);
  });

  test('a leader on the multilock writes both records, with one fencing token', async () => {
    const { clock } = env;
    const { old, next } = stores();
    const a = env.start(new MultiLock(old.lock('job', 'a'), next.lock('job', 'a')));
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    const [o, n] = [(await old.lock('job', 'r').get())!, (await next.lock('job', 'r').get())!];
    expect(o.record.holderIdentity).toBe('a');
    expect(n.record).toEqual(o.record);
  });

  test('a fleet migrates old-only → multilock → new-only with never two leaders', async () => {
    const { clock, start } = env;
    const { old, next } = stores();
    const leadersNow = (ps: Array<ReturnType<typeof start>>) => ps.filter((p) => p.elector.isLeader()).length;

    // Step 1: the old fleet on the old lock alone, one replica already upgraded to the multilock.
    const legacy = start(old.lock('job', 'legacy'));
    await clock.advance(0);
    const upgraded = start(new MultiLock(old.lock('job', 'upgraded'), next.lock('job', 'upgraded')));
    const all = [legacy, upgraded];
    for (let t = 0; t < 20; t++) {
      await clock.advance(1000);
      expect(leadersNow(all)).toBe(1);
    }
    expect(legacy.elector.isLeader()).toBe(true);

    // The legacy replica goes away; the upgraded one takes over on both locks.
    legacy.stop.abort();
    await clock.advanceUntil(() => upgraded.elector.isLeader(), 5000);

    // Step 2: a replica on the new lock alone follows the multilock leader and never leads alongside it.
    const modern = start(next.lock('job', 'modern'));
    all.push(modern);
    for (let t = 0; t < 40; t++) {
      await clock.advance(1000);
      expect(leadersNow(all)).toBe(1);
    }
    expect(modern.elector.getLeader()).toBe('upgraded');
    upgraded.stop.abort();
    await clock.advanceUntil(() => modern.elector.isLeader(), 5000);
    expect(leadersNow(all)).toBe(1);
  });

  test('when the two records name different holders, the holder is unknown and must expire', async () => {
    const { old, next } = stores();
    const record = { holderIdentity: 'x', leaseDurationMs: 15_000, acquireTime: 0, renewTime: 0, leaderTransitions: 0, fencingToken: 1 };
    old.plant('job', record);
    next.plant('job', { ...record, holderIdentity: 'y' });
    const snapshot = await new MultiLock(old.lock('job', 'me'), next.lock('job', 'me')).get();
    expect(snapshot!.record.holderIdentity).toBe(UNKNOWN_LEADER);
  });

  test('a secondary created behind the multilock\'s back is a conflict, never overwritten', async () => {
    const { old, next } = stores();
    const multi = new MultiLock(old.lock('job', 'me'), next.lock('job', 'me'));
    const record = { holderIdentity: 'me', leaseDurationMs: 15_000, acquireTime: 0, renewTime: 0, leaderTransitions: 0, fencingToken: 1 };
    const seen = await multi.get();
    expect(seen).toBeNull();
    await next.lock('job', 'other').create({ ...record, holderIdentity: 'other' });
    await expect(multi.create(record)).rejects.toThrow(/already exists/);
    expect((await next.lock('job', 'r').get())!.record.holderIdentity).toBe('other');
  });
});

describe('defaultIdentity', () => {
  test('is the host name plus a random suffix, unique per call', () => {
    const ids = new Set(Array.from({ length: 100 }, () => defaultIdentity()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^.+_[0-9a-f]{8}$/);
  });
});
