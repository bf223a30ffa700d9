import { waitFor } from '@baton/contract';
import type { FakeClock } from '@baton/core';

/**
 * Moves a fake clock forward while real I/O (to a real Redis) keeps its own pace: one step of
 * `stepMs`, then a wait (in real time, bounded) until `settled()` says the I/O that step
 * started has finished, until `done()` holds or `limitMs` of fake time have passed.
 * @returns the fake time it took.
 */
export async function driveUntil(
  clock: FakeClock,
  done: () => boolean | Promise<boolean>,
  options: { limitMs: number; stepMs?: number; settled?: () => boolean; what: string },
): Promise<number> {
  const { limitMs, stepMs = 10, settled = () => true, what } = options;
  const start = clock.now();
  while (!(await done())) {
    if (clock.now() - start >= limitMs) throw new Error(`${what}: not within ${limitMs} ms of fake time`);
    await clock.advance(stepMs);
    await waitFor(settled, 5000, `I/O to settle (${what})`, 1);
  }
  return clock.now() - start;
}

/** Moves a fake clock forward by `ms` in steps, letting real I/O settle after each (see {@link driveUntil}). */
export async function driveFor(clock: FakeClock, ms: number, options: { stepMs?: number; settled?: () => boolean; what: string }): Promise<void> {
  const until = clock.now() + ms;
  await driveUntil(clock, () => clock.now() >= until, { ...options, limitMs: ms + (options.stepMs ?? 10) });
}
