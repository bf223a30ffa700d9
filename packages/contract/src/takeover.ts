import { expect } from '@jest/globals';
import { LockLostError } from '@baton/core';
import type { LockHandle } from '@baton/core';
import type { PartitionableLock } from './partitionable-lock.ts';
import { deferred, within } from './wait.ts';

/**
 * Cuts a holder off from the backend (every lock in `cuttable`) while another process waits
 * in `acquire`, and checks the order a takeover must keep: the holder's signal aborts with
 * `LockLostError` before the other is granted — and, given `notBeforeMs`, not sooner than
 * that after the cut. Resolves with the other's handle.
 */
export async function cutAndAwaitTakeover<T extends LockHandle>(
  held: LockHandle,
  cuttable: readonly PartitionableLock[],
  acquire: () => Promise<T>,
  notBeforeMs = 0,
): Promise<T> {
  const lostAt = deferred<number>();
  held.signal.addEventListener('abort', () => lostAt.resolve(performance.now()));
  const waiting = acquire();
  const cutAt = performance.now();
  for (const lock of cuttable) lock.cut = true;
  const next = await waiting;
  const takenAt = performance.now();
  expect(held.signal.reason).toBeInstanceOf(LockLostError);
  expect(await within(lostAt.promise, 1, 'the abort')).toBeLessThan(takenAt);
  expect(takenAt - cutAt).toBeGreaterThanOrEqual(notBeforeMs);
  return next;
}
