import { describe, expect, test } from '@jest/globals';
import { LockLostError } from '@baton/core';
import type { LockHandle, ResourceLock } from '@baton/core';
import { cuttableLocks, lookSpy } from './partitionable-lock.ts';
import type { Suite } from './suite.ts';
import { exclusionTimings, WAKE_TIMINGS, wakeBoundMs } from './suite.ts';
import { cutAndAwaitTakeover } from './takeover.ts';
import { stallMeter, within } from './wait.ts';

/** What the semaphore and reader-writer cases borrow from the main suite. */
export type PrimitiveSuite = Pick<Suite, 'target' | 'timings' | 'uniqueName' | 'locksFor'> & {
  /** The backend's native primitives: `locksFor`'s wrap then sees only granted holds, not a waiter's reads. */
  native?: boolean;
};

/** One grant as the test saw it: when it was asked for, when it came, its token. */
export interface Grant {
  askedAt: number;
  grantedAt: number;
  token: number;
}

/** Tokens strictly increase in grant order: a grant asked for after another was granted carries a larger token. */
export function expectIncreasingTokens(grants: readonly Grant[]): void {
  for (const a of grants) {
    for (const b of grants) {
      if (b.askedAt > a.grantedAt) expect(b.token).toBeGreaterThan(a.token);
    }
  }
  expect(new Set(grants.map((g) => g.token)).size).toBe(grants.length);
}

/** Gives every process a turn of the event loop while holding, so overlaps would show. */
const yieldTurns = async (turns: number): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * Counting semaphores (`DistributedLocks.semaphore`) built on the target's locks: the bound
 * on holders, strictly increasing tokens, takeover only after a lost holder's lease, and a
 * waiter woken by a release.
 */
export function describeSemaphoreContract({ target, timings, uniqueName, locksFor, native }: PrimitiveSuite): void {
  const electionBound = timings.leaseDurationMs + 4 * timings.retryPeriodMs + 2000;

  describe('semaphores on the lock', () => {
    test('never more than N permit holders at once; tokens strictly increase in grant order', async () => {
      const name = uniqueName();
      const permits = 2;
      let inside = 0;
      let maxInside = 0;
      const grants: Grant[] = [];
      await Promise.all(
        Array.from({ length: 5 }, async (_, w) => {
          const semaphore = locksFor(`worker-${w}`, undefined, exclusionTimings(timings)).semaphore(name, { permits });
          for (let round = 0; round < 4; round++) {
            const askedAt = performance.now();
            await semaphore.withPermit(async (permit) => {
              grants.push({ askedAt, grantedAt: performance.now(), token: permit.fencingToken });
              inside++;
              maxInside = Math.max(maxInside, inside);
              expect(inside).toBeLessThanOrEqual(permits);
              await yieldTurns(5);
              inside--;
            }, { timeout: 30_000 });
          }
        }),
      );
      expect(grants).toHaveLength(20);
      expect(maxInside).toBeLessThanOrEqual(permits);
      expectIncreasingTokens(grants);
    }, 60_000);

    // Every party on WAKE_TIMINGS (retry 3 s, lease 10 s): a waiter that polled, or slept until
    // the holder's lease might run out, would wake seconds late.
    (target.watch ? test : test.skip)('a waiter is woken by the release’s notification, well within a retry period', async () => {
      const name = uniqueName();
      const spy = lookSpy('holder');
      const semaphoreFor = (identity: string, wrap?: (lock: ResourceLock) => ResourceLock) =>
        locksFor(identity, wrap, WAKE_TIMINGS).semaphore(name, { permits: 1 });
      const held = await semaphoreFor('holder').acquire();
      const waiting = semaphoreFor('waiter', spy.wrap).acquire({ timeout: 3 * WAKE_TIMINGS.leaseDurationMs });
      // The waiter has looked at the held slot and waits (native: a probe's round trip gives it time).
      if (!native) await within(spy.looked, 10_000, 'the waiter to read the held slot');
      await expect(semaphoreFor('probe').tryAcquire()).resolves.toBeUndefined();
      const releasedAt = performance.now();
      const stalls = stallMeter();
      await held.release();
      const next = await waiting;
      const waitedMs = performance.now() - releasedAt;
      const stalledMs = stalls.stop();
      expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
      expect(waitedMs).toBeLessThan(wakeBoundMs(stalledMs));
      await next.release();
    }, 40_000);

    test('a cut-off permit holder’s slot is taken only after its lease, its signal aborted first', async () => {
      const name = uniqueName();
      const cut = cuttableLocks();
      const holder = locksFor('holder', cut.wrap);
      const other = await locksFor('other').semaphore(name, { permits: 2 }).acquire();
      const held: LockHandle = await holder.semaphore(name, { permits: 2 }).acquire();
      // Not before the lease ran out (or the target's own takeover bound, for a backend that
      // frees a silent holder's session sooner), less the renewal interval the cut may have landed in.
      const bound = target.takeoverBoundMs ?? timings.leaseDurationMs;
      const waiter = locksFor('waiter').semaphore(name, { permits: 2 });
      const next = await cutAndAwaitTakeover(held, cut.locks, () => waiter.acquire({ timeout: electionBound + timings.leaseDurationMs }), bound - timings.retryPeriodMs);
      expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
      expect(other.isHeld()).toBe(true);
      await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
      await next.release();
      await other.release();
    }, 30_000);
  });
}
