import { describe, expect, test } from '@jest/globals';
import { BackendUnavailableError, FakeClock } from '../src/index.ts';
import { withinDeadline } from '../src/deadline.ts';

describe('withinDeadline', () => {
  test('a lock that bounds its own calls gets no signal; the caller stops waiting at the deadline', async () => {
    const clock = new FakeClock();
    const seen: Array<AbortSignal | undefined> = [];
    const outcome = withinDeadline(clock, 100, (signal) => {
      seen.push(signal);
      return new Promise<string>(() => {}); // never answers
    }, { boundsOwnCalls: true }).catch((error: unknown) => error);
    await clock.advance(99);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1);
    expect(await outcome).toBeInstanceOf(BackendUnavailableError);
    expect(seen).toEqual([undefined]);
    expect(clock.pendingTimers).toBe(0);
  });

  test('an answer in time is the result, and its timer is gone', async () => {
    const clock = new FakeClock();
    await expect(withinDeadline(clock, 100, async () => 'ok', { boundsOwnCalls: true })).resolves.toBe('ok');
    expect(clock.pendingTimers).toBe(0);
  });

  test('with something to cancel with, or a lock that does not bound its calls, the call gets a signal that aborts', async () => {
    const clock = new FakeClock();
    const signals: Array<AbortSignal | undefined> = [];
    const hang = (signal: AbortSignal | undefined): Promise<never> => {
      signals.push(signal);
      return new Promise<never>(() => {});
    };
    const cancel = new AbortController();
    const cancelled = withinDeadline(clock, 100, hang, { boundsOwnCalls: true }, cancel.signal).catch((error: unknown) => error);
    const unbounded = withinDeadline(clock, 100, hang, {}).catch((error: unknown) => error);
    cancel.abort(new Error('stop'));
    expect(((await cancelled) as Error).message).toBe('stop');
    await clock.advance(100);
    expect(await unbounded).toBeInstanceOf(BackendUnavailableError);
    expect(signals.map((s) => s?.aborted)).toEqual([true, true]);
  });
});
