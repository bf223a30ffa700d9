import type { LeaderElectionRecord } from '@baton/core';

/** RFC 3339 with milliseconds: Go's time.Parse accepts the fraction even in a seconds layout. */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Epoch milliseconds of a Kubernetes timestamp (MicroTime or RFC 3339, any fraction);
 * `undefined` when absent, `NaN` when unparseable. Kubernetes' client libraries may hand
 * over a Date or a string.
 */
export function fromKubeTime(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return Number.NaN;
  return Date.parse(value);
}

/**
 * Kubernetes records durations in whole seconds; baton keeps milliseconds beside them.
 * The milliseconds count only when they agree with the seconds, so a value left over from
 * before a client-go elector rewrote the seconds is ignored.
 */
export function durationMs(seconds: unknown, millis: unknown): number {
  if (typeof seconds !== 'number') return Number.NaN;
  const ms = typeof millis === 'number' ? millis : Number(millis);
  return Number.isSafeInteger(ms) && ms > 0 && Math.ceil(ms / 1000) === seconds ? ms : seconds * 1000;
}

/** Whole seconds for Kubernetes, rounded up so readers in seconds never wait less than asked. */
export function durationSeconds(record: LeaderElectionRecord): number {
  return Math.ceil(record.leaseDurationMs / 1000);
}
