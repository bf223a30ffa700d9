import { describe, expect, test } from '@jest/globals';
import { FakeClock, systemClock } from '../src/index.ts';
import { SharedTimerClock } from '../src/shared-timer-clock.ts';

describe('SharedTimerClock', () => {
  test('fires its timers in order of due time, each once, on one timer of the clock underneath', async () => {
    const base = new FakeClock();
    const clock = new SharedTimerClock(base);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c@30'), 30);
    clock.setTimeout(() => fired.push('a@10'), 10);
    const cleared = clock.setTimeout(() => fired.push('never'), 20);
    clock.setTimeout(() => fired.push('b@20'), 20);
    expect(base.pendingTimers).toBe(1);
    clock.clearTimeout(cleared);
    clock.clearTimeout(cleared); // twice is harmless
    await base.advance(10);
    expect(fired).toEqual(['a@10']);
    // A callback may set a timer due before the others.
    clock.setTimeout(() => {
      fired.push('d@15');
      clock.setTimeout(() => fired.push('e@16'), 1);
    }, 5);
    await base.advance(20);
    expect(fired).toEqual(['a@10', 'd@15', 'e@16', 'b@20', 'c@30']);
    expect(base.pendingTimers).toBe(0);
  });

  test('on a fake clock, clearing the last timer clears the one underneath', () => {
    const base = new FakeClock();
    const clock = new SharedTimerClock(base);
    const a = clock.setTimeout(() => {}, 100);
    const b = clock.setTimeout(() => {}, 50);
    clock.clearTimeout(a);
    expect(base.pendingTimers).toBe(1);
    clock.clearTimeout(b);
    expect(base.pendingTimers).toBe(0);
  });

  test('on the system clock, a timer cleared early does not delay a later one', async () => {
    const clock = new SharedTimerClock(systemClock);
    const early = clock.setTimeout(() => {}, 5);
    clock.clearTimeout(early);
    const started = performance.now();
    const firedAfter = await new Promise<number>((resolve) => clock.setTimeout(() => resolve(performance.now() - started), 30));
    expect(firedAfter).toBeGreaterThanOrEqual(29);
    expect(firedAfter).toBeLessThan(1_000);
  });
});
