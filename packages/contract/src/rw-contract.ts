import { describe, expect, test } from '@jest/globals';
import { BackendUnavailableError, LockLostError } from '@baton/core';
import type { LockHandle, ReadHandle, ResourceLock } from '@baton/core';
import { cuttableLocks, lookSpy } from './partitionable-lock.ts';
import type { PrimitiveSuite, Grant } from './semaphore-contract.ts';
import { expectIncreasingTokens } from './semaphore-contract.ts';
import { exclusionTimings, WAKE_TIMINGS, wakeBoundMs } from './suite.ts';
import { cutAndAwaitTakeover } from './takeover.ts';
import { stallMeter, waitFor, within } from './wait.ts';

const yieldTurns = async (turns: number): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * Reader-writer locks (`DistributedLocks.readWrite`) built on the target's locks: never a
 * writer beside anyone, write tokens strictly increasing, writer preference, a writer and
 * readers woken by the other side's release (by notification: see {@link WAKE_TIMINGS}), and a
 * cut-off reader or writer taken over only after its lease, its signal aborted first.
 */
export function describeReadWriteContract({ target, timings, uniqueName, locksFor, native }: PrimitiveSuite): void {
  const electionBound = timings.leaseDurationMs + 4 * timings.retryPeriodMs + 2000;

  describe('reader-writer locks on the lock', () => {
    test('never a writer beside anyone; write tokens strictly increase; reads run together', async () => {
      const name = uniqueName();
      let readers = 0;
      let writers = 0;
      let maxReaders = 0;
      const violations: string[] = [];
      const writes: Grant[] = [];
      let wrote = 0;
      await Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          const rw = locksFor(`worker-${w}`, undefined, exclusionTimings(timings)).readWrite(name, { maxReaders: 3 });
          for (let round = 0; round < 5; round++) {
            const askedAt = performance.now();
            if ((w + round) % 3 === 0) {
              await rw.withWrite(async (held) => {
                writes.push({ askedAt, grantedAt: performance.now(), token: held.fencingToken });
                writers++;
                if (writers > 1 || readers > 0) violations.push(`write beside ${writers - 1} writers, ${readers} readers`);
                const read = wrote;
                await yieldTurns(5);
                wrote = read + 1;
                writers--;
              }, { timeout: 30_000 });
            } else {
              await rw.withRead(async (held) => {
                readers++;
                maxReaders = Math.max(maxReaders, readers);
                if (writers > 0) violations.push('read beside a writer');
                expect(held.writeEpoch).toBe(held.fencingToken);
                await yieldTurns(5);
                readers--;
              }, { timeout: 30_000 });
            }
          }
        }),
      );
      expect(violations).toEqual([]);
      expect(maxReaders).toBeLessThanOrEqual(3);
      expect(wrote).toBe(writes.length);
      expect(writes.length).toBeGreaterThan(3);
      expectIncreasingTokens(writes);
    }, 60_000);

    test('writer preference: a waiting writer holds off new readers, runs when the reads end', async () => {
      const name = uniqueName();
      const reader = locksFor('reader').readWrite(name);
      const read = await reader.acquireRead();
      const writer = locksFor('writer').readWrite(name);
      let writeToken = 0;
      const writing = writer.acquireWrite({ timeout: electionBound }).then((held) => {
        writeToken = held.fencingToken;
        return held;
      });
      const late = locksFor('late').readWrite(name);
      // The writer has taken the writer record: a new reader is refused (no read is granted).
      await waitFor(async () => {
        // A one-shot try reports a slow backend as it is; that only means "look again".
        const attempt = await late.tryAcquireRead().catch((error: unknown) => {
          if (error instanceof BackendUnavailableError) return null;
          throw error;
        });
        if (attempt) await attempt.release();
        return attempt === undefined;
      }, electionBound, 'the writer to announce itself');
      expect(writeToken).toBe(0);
      const lateRead = late.acquireRead({ timeout: 2 * electionBound });
      const releasedAt = performance.now();
      const stalls = stallMeter();
      await read.release();
      const write = await writing;
      const stalledMs = stalls.stop();
      expect(performance.now() - releasedAt).toBeLessThan((target.watch ? 1000 : 2.2 * timings.retryPeriodMs + 1000) + stalledMs);
      let lateGranted = false;
      void lateRead.then(() => (lateGranted = true));
      await yieldTurns(10);
      expect(lateGranted).toBe(false);
      await write.release();
      const next = await lateRead;
      expect(next.writeEpoch).toBe(write.fencingToken);
      await next.release();
    }, 30_000);

    // Every party on WAKE_TIMINGS (retry 3 s, lease 10 s): only a change notification wakes
    // the waiter within the bound; a poll, or a sleep until the holder's lease may run out,
    // comes seconds late.
    const wakeTest = target.watch ? test : test.skip;
    const rwFor = (identity: string, name: string, wrap?: (lock: ResourceLock) => ResourceLock) => locksFor(identity, wrap, WAKE_TIMINGS).readWrite(name);

    wakeTest('a writer waiting on a read is woken by the read’s release, well within a retry period', async () => {
      const name = uniqueName();
      const spy = lookSpy('reader');
      const read = await rwFor('reader', name).acquireRead();
      const writing = rwFor('writer', name, spy.wrap).acquireWrite({ timeout: 3 * WAKE_TIMINGS.leaseDurationMs });
      const probe = rwFor('probe', name);
      // The writer holds the writer record (a new read is refused): it waits for our read now.
      await waitFor(async () => {
        const attempt = await probe.tryAcquireRead().catch((error: unknown) => {
          if (error instanceof BackendUnavailableError) return null;
          throw error;
        });
        if (attempt) await attempt.release();
        return attempt === undefined;
      }, 10_000, 'the writer to announce itself');
      // …and has read our held reader slot (native: it had the probes' round trips).
      if (!native) await within(spy.looked, 10_000, 'the writer to read the held reader slot');
      const releasedAt = performance.now();
      const stalls = stallMeter();
      await read.release();
      const write = await writing;
      const waitedMs = performance.now() - releasedAt;
      expect(waitedMs).toBeLessThan(wakeBoundMs(stalls.stop()));
      expect(write.fencingToken).toBeGreaterThan(read.writeEpoch);
      await write.release();
    }, 40_000);

    wakeTest('a reader waiting on a write is woken by the write’s release, well within a retry period', async () => {
      const name = uniqueName();
      const spy = lookSpy('writer');
      const write = await rwFor('writer', name).acquireWrite();
      const reading = rwFor('reader', name, spy.wrap).acquireRead({ timeout: 3 * WAKE_TIMINGS.leaseDurationMs });
      // The reader has read the held writer record and waits (native: a probe's round trip gives it time).
      if (!native) await within(spy.looked, 10_000, 'the reader to read the held writer record');
      await expect(rwFor('probe', name).tryAcquireRead()).resolves.toBeUndefined();
      const releasedAt = performance.now();
      const stalls = stallMeter();
      await write.release();
      const read = await reading;
      const waitedMs = performance.now() - releasedAt;
      expect(waitedMs).toBeLessThan(wakeBoundMs(stalls.stop()));
      expect(read.writeEpoch).toBe(write.fencingToken);
      await read.release();
    }, 40_000);

    for (const kind of ['write', 'read'] as const) {
      test(`a cut-off ${kind === 'write' ? 'writer' : 'reader'} is taken over only after its lease, its signal aborted first`, async () => {
        const name = uniqueName();
        const cut = cuttableLocks();
        const holder = locksFor('holder', cut.wrap).readWrite(name);
        const held: LockHandle = kind === 'write' ? await holder.acquireWrite() : await holder.acquireRead();
        // A read's token is the write epoch it read under; the next write's must exceed either.
        const heldToken = kind === 'read' ? (held as ReadHandle).writeEpoch : held.fencingToken;
        // A writer waits for both: for the writer record after a cut writer, for the reader slot after a cut reader.
        // Not before the lease ran out (or the target's own takeover bound), less the renewal interval the cut may have landed in.
        const bound = target.takeoverBoundMs ?? timings.leaseDurationMs;
        const waiter = locksFor('waiter').readWrite(name);
        const next = await cutAndAwaitTakeover(held, cut.locks, () => waiter.acquireWrite({ timeout: electionBound + timings.leaseDurationMs }), bound - timings.retryPeriodMs);
        expect(next.fencingToken).toBeGreaterThan(heldToken);
        await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
        await next.release();
      }, 30_000);
    }
  });
}
