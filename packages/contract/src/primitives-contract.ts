import { describe, expect, test } from '@jest/globals';
import { InvalidRecordError, LockConflictError } from '@baton/core';
import type { LockSnapshot } from '@baton/core';
import { describeFastPathContract } from './fast-path-contract.ts';
import type { Suite } from './suite.ts';
import { describeWatchContract } from './watch-contract.ts';
import { waitFor } from './wait.ts';

/** Identities no backend may mangle: non-ASCII, quotes, separators, and a long one. */
const ODD_IDENTITIES = ['pod-ünïcødé-🚀', 'a "quoted" \'name\' with spaces', 'slash/and\\backslash:colon;semi', 'x'.repeat(1000)];

/** The lock's own operations: get, create, update, their conflicts, exact round trips, watch, the fast path, corrupt data. */
export function describePrimitivesContract(suite: Suite): void {
  const { target, uniqueName, open, record, candidate, electionBound } = suite;
  describe('lock primitives', () => {
    test('get on a missing lock returns null', async () => {
      const lock = await open(uniqueName(), 'a');
      expect(await lock.get()).toBeNull();
    });

    test('create stores the record and returns it with a version', async () => {
      const lock = await open(uniqueName(), 'a');
      const created = await lock.create(record('a'));
      expect(created.record).toEqual(record('a'));
      expect(typeof created.version).toBe('string');
      const read = await lock.get();
      expect(read?.record).toEqual(record('a'));
      expect(read?.version).toBe(created.version);
    });

    test('create on an existing lock is a LockConflictError and changes nothing', async () => {
      const name = uniqueName();
      const a = await open(name, 'a');
      const b = await open(name, 'b');
      const created = await a.create(record('a'));
      await expect(b.create(record('b', { fencingToken: 2 }))).rejects.toBeInstanceOf(LockConflictError);
      const read = await a.get();
      expect(read?.record.holderIdentity).toBe('a');
      expect(read?.version).toBe(created.version);
    });

    test('update with the current version swaps the record and the version', async () => {
      const lock = await open(uniqueName(), 'a');
      const created = await lock.create(record('a'));
      const renewed = record('a', { renewTime: created.record.renewTime + 2000 });
      const updated = await lock.update(renewed, created.version);
      expect(updated.record).toEqual(renewed);
      expect(updated.version).not.toBe(created.version);
      expect((await lock.get())?.record).toEqual(renewed);
    });

    test('update with a stale version is a LockConflictError and changes nothing', async () => {
      const name = uniqueName();
      const a = await open(name, 'a');
      const b = await open(name, 'b');
      const created = await a.create(record('a'));
      const renewed = await a.update(record('a', { renewTime: created.record.renewTime + 1000 }), created.version);
      const steal = record('b', { leaderTransitions: 1, fencingToken: 2 });
      await expect(b.update(steal, created.version)).rejects.toBeInstanceOf(LockConflictError);
      const read = await b.get();
      expect(read?.record).toEqual(renewed.record);
      expect(read?.version).toBe(renewed.version);
    });

    test('of N concurrent creates exactly one wins, the others get LockConflictError, and the winner is stored', async () => {
      const name = uniqueName();
      const contenders = await Promise.all(Array.from({ length: 8 }, (_, i) => open(name, `c${i}`)));
      const results = await Promise.allSettled(contenders.map((lock, i) => lock.create(record(`c${i}`, { fencingToken: i + 1 }))));
      const winners = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<LockSnapshot>[];
      const losers = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(7);
      for (const loser of losers) expect(loser.reason).toBeInstanceOf(LockConflictError);
      const read = await contenders[0]!.get();
      expect(read?.record).toEqual(winners[0]!.value.record);
      expect(read?.version).toBe(winners[0]!.value.version);
    });

    test('of N concurrent updates from the same version exactly one wins', async () => {
      const name = uniqueName();
      const first = await open(name, 'seed');
      const created = await first.create(record('', { fencingToken: 1 }));
      const contenders = await Promise.all(Array.from({ length: 8 }, (_, i) => open(name, `c${i}`)));
      const results = await Promise.allSettled(
        contenders.map((lock, i) => lock.update(record(`c${i}`, { leaderTransitions: 1, fencingToken: 2 }), created.version)),
      );
      const winners = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<LockSnapshot>[];
      const losers = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(winners).toHaveLength(1);
      for (const loser of losers) expect(loser.reason).toBeInstanceOf(LockConflictError);
      const read = await first.get();
      expect(read?.record.holderIdentity).toBe(winners[0]!.value.record.holderIdentity);
    });

    test('records round-trip exactly: odd identities, large values, a released holder', async () => {
      for (const identity of ODD_IDENTITIES) {
        const lock = await open(uniqueName(), identity);
        const big = record(identity, {
          leaseDurationMs: 3_600_000,
          acquireTime: 4_102_444_800_999,
          renewTime: 4_102_444_801_001,
          leaderTransitions: 2_147_483_000,
          fencingToken: 2 ** 40,
        });
        const created = await lock.create(big);
        expect(created.record).toEqual(big);
        expect((await lock.get())?.record).toEqual(big);
        const released = { ...big, holderIdentity: '' };
        await lock.update(released, created.version);
        expect((await lock.get())?.record).toEqual(released);
      }
    });

    describeWatchContract(suite);

    describeFastPathContract({ target, uniqueName, open, record });

    test('a corrupt record is an InvalidRecordError, and is never overwritten', async () => {
      const name = uniqueName();
      await target.plantCorruptRecord(name);
      const lock = await open(name, 'a');
      await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
      // Something is stored (garbage): create must refuse, with a conflict (the object exists)
      // or an InvalidRecordError (what exists is not a record) — never overwrite it.
      const refused = await lock.create(record('a')).then(
        () => 'created',
        (error: unknown) => error,
      );
      expect(refused instanceof LockConflictError || refused instanceof InvalidRecordError ? 'refused with a typed error' : refused).toBe('refused with a typed error');

      const c = await candidate(name, 'elector');
      await waitFor(() => c.errors.some((e) => e instanceof InvalidRecordError), electionBound, 'the elector to report the corrupt record');
      expect(c.elector.isLeader()).toBe(false);
      expect(c.started).toHaveLength(0);
      await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
    });
  });
}
