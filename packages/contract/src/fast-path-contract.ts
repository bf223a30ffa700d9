import { describe, expect, test } from '@jest/globals';
import { InvalidRecordError, LockConflictError } from '@baton/core';
import type { AcquireIfFreeResult, LeaderElectionRecord, ResourceLock } from '@baton/core';
import type { ContractTarget } from './target.ts';

/** What the fast-path cases borrow from the main suite. */
export interface FastPathSuite {
  target: ContractTarget;
  uniqueName(): string;
  open(lockName: string, identity: string): Promise<ResourceLock>;
  record(holderIdentity: string, overrides?: Partial<LeaderElectionRecord>): LeaderElectionRecord;
}

/**
 * The rules of `ResourceLock.acquireIfFree` (see its documentation in `@baton/core`): one
 * operation that takes an absent or released lock and otherwise writes nothing. Registered
 * inside the main suite; the rule cases run when the target declares `fastPath: true`.
 */
export function describeFastPathContract({ target, uniqueName, open, record }: FastPathSuite): void {
  const fastPath = target.fastPath ?? false;

  /** Calls the lock's fast path, which this target declares it has. */
  const acquireIfFree = (lock: ResourceLock, next: LeaderElectionRecord): Promise<AcquireIfFreeResult> => lock.acquireIfFree!(next);

  describe('acquireIfFree (fast path)', () => {
    test(`the locks ${fastPath ? 'offer' : 'do not offer'} acquireIfFree, as the target declares`, async () => {
      const lock = await open(uniqueName(), 'a');
      expect(typeof lock.acquireIfFree).toBe(fastPath ? 'function' : 'undefined');
    });

    if (!fastPath) return;

    test('on a missing lock it creates the record and says so', async () => {
      const lock = await open(uniqueName(), 'a');
      const wanted = record('a', { fencingToken: 5 });
      const result = await acquireIfFree(lock, wanted);
      expect(result.acquired).toBe(true);
      expect({ ...result.snapshot.record, fencingToken: wanted.fencingToken }).toEqual(wanted);
      expect(result.snapshot.record.fencingToken).toBeGreaterThanOrEqual(wanted.fencingToken);
      const read = await lock.get();
      expect(read?.record).toEqual(result.snapshot.record);
      expect(read?.version).toBe(result.snapshot.version);
    });

    test('over a released record it writes a new term: a larger token, the transition counted, a new version', async () => {
      const name = uniqueName();
      const previous = await open(name, 'previous');
      const created = await previous.create(record('previous', { leaderTransitions: 4, fencingToken: 9 }));
      const released = await previous.update({ ...created.record, holderIdentity: '' }, created.version);
      const lock = await open(name, 'a');
      const wanted = record('a', { leaderTransitions: 0, fencingToken: 1 });
      const result = await acquireIfFree(lock, wanted);
      expect(result.acquired).toBe(true);
      expect(result.snapshot.record).toMatchObject({ holderIdentity: 'a', leaderTransitions: 5, leaseDurationMs: wanted.leaseDurationMs });
      expect(result.snapshot.record.fencingToken).toBeGreaterThan(released.record.fencingToken);
      expect(result.snapshot.version).not.toBe(released.version);
      expect((await lock.get())?.record).toEqual(result.snapshot.record);
    });

    test('a requested token above the stored one is kept: tokens never go back', async () => {
      const name = uniqueName();
      const previous = await open(name, 'previous');
      const created = await previous.create(record('previous', { fencingToken: 3 }));
      await previous.update({ ...created.record, holderIdentity: '' }, created.version);
      const result = await acquireIfFree(await open(name, 'a'), record('a', { fencingToken: 100 }));
      expect(result.acquired).toBe(true);
      expect(result.snapshot.record.fencingToken).toBeGreaterThanOrEqual(100);
    });

    test('on a held record it writes nothing and returns what is stored, whoever holds it and however old', async () => {
      const name = uniqueName();
      const holder = await open(name, 'holder');
      const held = await holder.create(record('holder', { renewTime: 1, acquireTime: 1 }));
      for (const identity of ['a', 'holder']) {
        const result = await acquireIfFree(await open(name, identity), record(identity, { fencingToken: 2 }));
        expect(result.acquired).toBe(false);
        expect(result.snapshot.record).toEqual(held.record);
        expect(result.snapshot.version).toBe(held.version);
      }
      const read = await holder.get();
      expect(read?.record).toEqual(held.record);
      expect(read?.version).toBe(held.version);
    });

    for (const start of ['missing', 'released'] as const) {
      test(`of 8 concurrent calls on a ${start} lock exactly one acquires, and the others see the winner`, async () => {
        const name = uniqueName();
        if (start === 'released') {
          const seed = await open(name, 'seed');
          const created = await seed.create(record('seed'));
          await seed.update({ ...created.record, holderIdentity: '' }, created.version);
        }
        const locks = await Promise.all(Array.from({ length: 8 }, (_, i) => open(name, `c${i}`)));
        const results = await Promise.allSettled(locks.map((lock, i) => acquireIfFree(lock, record(`c${i}`, { fencingToken: 2 }))));
        const answers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockConflictError);
        const winners = answers.filter((a) => a.acquired);
        expect(winners).toHaveLength(1);
        const winner = winners[0]!.snapshot.record.holderIdentity;
        for (const loser of answers.filter((a) => !a.acquired)) expect(loser.snapshot.record.holderIdentity).toBe(winner);
        expect((await locks[0]!.get())?.record.holderIdentity).toBe(winner);
      });
    }

    test('a corrupt record is an InvalidRecordError, and is never overwritten', async () => {
      const name = uniqueName();
      await target.plantCorruptRecord(name);
      const lock = await open(name, 'a');
      await expect(acquireIfFree(lock, record('a'))).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(lock.get()).rejects.toBeInstanceOf(InvalidRecordError);
    });
  });
}
