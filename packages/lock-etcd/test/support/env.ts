import { randomBytes } from 'node:crypto';
import type { EtcdLockFactoryOptions } from '../../src/index.ts';

/** Key prefixes of this test run's own, so runs and tests never share keys. */
export function testPrefixes(): Required<Pick<EtcdLockFactoryOptions, 'keyPrefix' | 'fencePrefix'>> {
  const run = randomBytes(5).toString('hex');
  return { keyPrefix: `baton-test/${run}/lock/`, fencePrefix: `baton-test/${run}/fence/` };
}

/** Elector timings for fault tests (ms). */
export const TIMINGS = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 250 } as const;

/** Measurements a test wants in the run's output (printed once per file). */
export const measured: Record<string, string> = {};
