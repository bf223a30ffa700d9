import { describe, expect, test } from '@jest/globals';
import { LockLostError } from '@baton/core';
import { cuttableLocks } from './partitionable-lock.ts';
import { exclusionTimings, type Suite } from './suite.ts';
import { cutAndAwaitTakeover } from './takeover.ts';
import { stallMeter } from './wait.ts';

/** DistributedLocks (the mutex) on the lock: exclusion, prompt wake-ups, loss before anyone else takes it. */
export function describeDistributedLocksContract(suite: Suite): void {
  const { target, uniqueName, locksFor, electionBound, timings } = suite;
  describe('distributed locks on the lock', () => {
    test('N workers, each with its own client, increment a shared counter without atomics, exactly', async () => {
      const name = uniqueName();
      const workers = 4;
      const rounds = 8;
      let counter = 0;
      let inside = 0;
      let maxInside = 0;
      const tokens: number[] = [];
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          const locks = locksFor(`worker-${w}`, undefined, exclusionTimings(timings));
          for (let r = 0; r < rounds; r++) {
            await locks.withLock(name, async (held) => {
              inside++;
              maxInside = Math.max(maxInside, inside);
              tokens.push(held.fencingToken);
              const read = counter;
              await new Promise((resolve) => setImmediate(resolve));
              counter = read + 1;
              inside--;
            }, { timeout: 30_000 });
          }
        }),
      );
      expect(counter).toBe(workers * rounds);
      expect(maxInside).toBe(1);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
    }, 60_000);

    test('a waiter in another process is woken promptly when the holder releases', async () => {
      const name = uniqueName();
      const held = await locksFor('holder').get(name).acquire();
      const waiter = locksFor('waiter').get(name);
      const acquired = waiter.acquire({ timeout: electionBound });
      // Let the waiter read the lock and start waiting before the release.
      await expect(locksFor('probe').get(name).tryAcquire()).resolves.toBeNull();
      const releasedAt = performance.now();
      const stalls = stallMeter();
      await held.release();
      const next = await acquired;
      const waitedMs = performance.now() - releasedAt;
      const stalledMs = stalls.stop();
      expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
      // With a watch: pushed; without: the fallback re-check, well before the lease would expire.
      expect(waitedMs).toBeLessThan((target.watch ? 500 : 2.2 * timings.retryPeriodMs + 500) + stalledMs);
      await next.release();
    });

    test('a holder cut off from the backend sees its signal aborted before anyone else takes the lock', async () => {
      const name = uniqueName();
      const cut = cuttableLocks();
      const holder = locksFor('holder', cut.wrap);
      const held = await holder.get(name).acquire();
      const next = await cutAndAwaitTakeover(held, cut.locks, () => locksFor('waiter').get(name).acquire({ timeout: electionBound + timings.leaseDurationMs }));
      await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
      expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
      await next.release();
    });
  });
}
