import { describe, expect, test } from '@jest/globals';
import { BatonError, ConfigError, InvalidRecordError, LeaderElector } from '../src/index.ts';
import { setupEachTest } from './harness.ts';

const env = setupEachTest();

describe('giving up on permanent errors (giveUpAfter)', () => {
  test('a record that stays foreign: not ready at once, gives up after the window, run() resolves', async () => {
    const { clock, store, start } = env();
    store.plant('job', { somebody: 'else' });
    const a = start(store.lock('job', 'a'), { giveUpAfter: '10s' });
    await clock.advance(0);
    expect(a.elector.checkReady()).toEqual({ healthy: false, reason: expect.stringMatching(/^failing with a permanent error: .*invalid leader election record/) });
    await clock.advance(9_999);
    expect(a.elector.getState()).toBe('candidate');
    expect(a.elector.gaveUp).toBeUndefined();
    await clock.advanceUntil(() => a.elector.getState() === 'stopped', 5_000);
    await a.done;
    const gaveUp = a.elector.gaveUp!;
    expect(gaveUp).toBeInstanceOf(BatonError);
    expect(gaveUp).toMatchObject({ code: 'GAVE_UP', permanent: true });
    expect(gaveUp.cause).toBeInstanceOf(InvalidRecordError);
    expect(a.errors.at(-1)).toBe(gaveUp);
    // Nothing was overwritten.
    await expect(store.lock('job', 'reader').get()).rejects.toBeInstanceOf(InvalidRecordError);
  });

  test('transient failures never give up, however long they last', async () => {
    const { clock, store, start } = env();
    store.setFault('unavailable');
    const a = start(store.lock('job', 'a'), { giveUpAfter: '10s' });
    await clock.advance(60_000);
    expect(a.elector.getState()).toBe('candidate');
    expect(a.elector.checkReady()).toEqual({ healthy: true });
    store.setFault(undefined);
    await clock.advanceUntil(() => a.terms.length === 1, 5_000);
  });

  test('a run of permanent failures is ended by any other outcome: the window starts again', async () => {
    const { clock, store, start } = env();
    store.plant('job', { somebody: 'else' });
    const a = start(store.lock('job', 'a'), { giveUpAfter: '10s' });
    await clock.advance(8_000);
    store.setFault('unavailable'); // a transient error in between
    await clock.advance(2_000);
    store.setFault(undefined);
    await clock.advance(9_000); // 19 s of failures in all, but only 9 s of them permanent in a row
    expect(a.elector.getState()).toBe('candidate');
    await clock.advanceUntil(() => a.elector.getState() === 'stopped', 5_000);
    expect(a.elector.gaveUp?.code).toBe('GAVE_UP');
  });

  test('without giveUpAfter the elector keeps trying (a fix may come) but is not ready meanwhile', async () => {
    const { clock, store, start } = env();
    store.plant('job', { somebody: 'else' });
    const a = start(store.lock('job', 'a'));
    await clock.advance(120_000);
    expect(a.elector.getState()).toBe('candidate');
    expect(a.elector.checkReady().healthy).toBe(false);
    store.delete('job');
    await clock.advanceUntil(() => a.terms.length === 1, 5_000);
    expect(a.elector.checkReady()).toEqual({ healthy: true });
  });

  test('giveUpAfter is validated up front', () => {
    const make = (giveUpAfter: unknown) => new LeaderElector({ lock: env().store.lock('job', 'a'), callbacks: { onStartedLeading: () => {} }, giveUpAfter: giveUpAfter as string });
    expect(() => make('soon')).toThrow(ConfigError);
    expect(() => make(-1)).toThrow(/giveUpAfter/);
  });
});
