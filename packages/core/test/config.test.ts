import { describe, expect, test } from '@jest/globals';
import { ConfigError, LeaderElector, MemoryLockStore, parseDuration, resolveElectorConfig } from '../src/index.ts';
import type { LeaderElectorConfig } from '../src/index.ts';

const lock = new MemoryLockStore().lock('cfg', 'me');
const base: LeaderElectorConfig = { lock, callbacks: { onStartedLeading: () => {} } };

function fieldOf(config: unknown): string {
  try {
    new LeaderElector(config as LeaderElectorConfig);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

describe('elector config', () => {
  test('defaults are client-go\'s and pass validation', () => {
    const resolved = resolveElectorConfig(base);
    expect([resolved.leaseDurationMs, resolved.renewDeadlineMs, resolved.retryPeriodMs]).toEqual([15_000, 10_000, 2_000]);
    expect(resolved.releaseOnCancel).toBe(true);
    expect(resolved.shutdownGracePeriodMs).toBe(10_000);
    expect(resolved.name).toBe('memory cfg');
  });

  test.each([
    [{ leaseDuration: '10s', renewDeadline: '10s' }, 'leaseDuration'],
    [{ leaseDuration: 5000, renewDeadline: 6000 }, 'leaseDuration'],
    [{ renewDeadline: 2400, retryPeriod: 2000 }, 'renewDeadline'],
    [{ retryPeriod: 0 }, 'retryPeriod'],
    [{ retryPeriod: -5 }, 'retryPeriod'],
    [{ leaseDuration: 'soon' }, 'leaseDuration'],
    [{ renewDeadline: Number.NaN }, 'renewDeadline'],
    [{ shutdownGracePeriod: '0s' }, 'shutdownGracePeriod'],
    [{ releaseOnCancel: 'yes' }, 'releaseOnCancel'],
    [{ lock: undefined }, 'lock'],
    [{ lock: { identity: 'x' } }, 'lock'],
    [{ lock: { ...lock, identity: '', get: lock.get, create: lock.create, update: lock.update, describe: lock.describe } }, 'lock.identity'],
    [{ callbacks: undefined }, 'callbacks'],
    [{ callbacks: {} }, 'callbacks.onStartedLeading'],
    [{ callbacks: { onStartedLeading: () => {}, onNewLeader: 'x' } }, 'callbacks.onNewLeader'],
  ])('%j is rejected naming %s', (override, field) => {
    expect(fieldOf({ ...base, ...override })).toBe(field);
  });

  test('the error message names the field and the values', () => {
    expect(() => new LeaderElector({ ...base, leaseDuration: '5s', renewDeadline: '6s' })).toThrow(
      'leaseDuration: must be greater than renewDeadline (5000 ms <= 6000 ms)',
    );
  });
});

describe('parseDuration', () => {
  test.each([
    [1500, 1500],
    ['15s', 15_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['2h', 7_200_000],
    [' 3s ', 3000],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input, 'x')).toBe(ms);
  });

  test.each(['', '15', '15 s', 's', '-1s', '1d', '1s2', null, {}, Infinity, 0])('%j is a ConfigError', (input) => {
    expect(() => parseDuration(input, 'timeout')).toThrow(ConfigError);
  });
});
