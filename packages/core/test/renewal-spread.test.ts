import { afterEach, expect, test } from '@jest/globals';
import { DistributedLocks, RENEW_SPREAD } from '../src/index.ts';
import type { ResourceLock } from '../src/index.ts';
import { setup } from './harness.ts';

const RETRY = 2_000;

let env = setup();
afterEach(async () => {
  await env.teardown();
  expect(env.clock.pendingTimers).toBe(0);
  env = setup();
});

/** `lock`, with the fake-clock instant of every renewal (an update by the holder) recorded. */
function recordingRenewals(lock: ResourceLock, at: number[], now: () => number): ResourceLock {
  return new Proxy(lock, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key !== 'update' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        at.push(now());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A source of [0, 1) that walks through `values` in turn. */
const cycle = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

test('leases taken in the same instant renew apart: each waits retryPeriod plus a random share of a tenth, never less', async () => {
  const { clock, store, start } = env;
  const renewals: number[][] = [[], []];
  const randoms = [cycle([0.9, 0.1, 0.5]), cycle([0.3, 0.6, 0.7])];
  for (const i of [0, 1]) start(recordingRenewals(store.lock(`job-${i}`, `p${i}`), renewals[i]!, () => clock.now()), { random: randoms[i] });
  await clock.advance(5 * RETRY);
  for (const at of renewals) {
    expect(at.length).toBeGreaterThanOrEqual(3);
    const gaps = at.map((t, k) => t - (k === 0 ? 0 : at[k - 1]!));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(RETRY);
      expect(gap).toBeLessThan(RETRY * (1 + RENEW_SPREAD));
    }
  }
  // Both started at 0 and neither renews in step with the other.
  expect(renewals[0]!.slice(0, 3)).not.toEqual(renewals[1]!.slice(0, 3));
  const together = renewals[0]!.filter((t) => renewals[1]!.includes(t));
  expect(together).toEqual([]);
});

test('a held lock (DistributedLocks) spreads its renewals the same way', async () => {
  const { clock, store } = env;
  const at: number[] = [];
  const locks = new DistributedLocks({
    lockFor: (name, id) => recordingRenewals(store.lock(name, id), at, () => clock.now()),
    identity: 'w',
    clock,
    random: () => 0.5,
  });
  const acquiring = locks.get('report').acquire();
  await clock.advance(0);
  const held = await acquiring;
  await clock.advance(3 * RETRY * (1 + RENEW_SPREAD));
  expect(at).toEqual([RETRY * 1.05, 2 * RETRY * 1.05, 3 * RETRY * 1.05]);
  await held.release();
  locks.close();
});
