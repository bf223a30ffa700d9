import { describe, expect, test } from '@jest/globals';
import { BackendUnavailableError } from '@baton/core';
import type { PrimitiveSuite, Grant } from './semaphore-contract.ts';
import { expectIncreasingTokens } from './semaphore-contract.ts';
import { stallMeter, waitFor } from './wait.ts';

const yieldTurns = async (turns: number): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * Reader-writer locks (`DistributedLocks.readWrite`) built on the target's locks: never a
 * writer beside anyone, write tokens strictly increasing, writer preference, and readers
 * woken by a writer's release.
 */
export function describeReadWriteContract({ target, timings, uniqueName, locksFor }: PrimitiveSuite): void {
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
          const rw = locksFor(`worker-${w}`).readWrite(name, { maxReaders: 3 });
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
  });
}
