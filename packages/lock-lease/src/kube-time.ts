// Reading the record fields that Kubernetes' client libraries write, in every unambiguous
// form they write them: Go (client-go), Python (kubernetes-client/python) and Java
// (kubernetes-client/java). Errors name the field as it is written in the object.
import { InvalidRecordError } from '@baton/core';
import type { LeaderElectionRecord } from '@baton/core';

/** RFC 3339 with milliseconds: Go's time.Parse accepts the fraction even in a seconds layout. */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** A Lease's MicroTime: RFC 3339 with exactly six fraction digits, as the API server writes it. */
export function toMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/**
 * RFC 3339 with any fraction and `Z` or an offset (Go, Java, the API server), with whole
 * seconds (Go's `metav1.Time`), and the Python client's `str(datetime)`:
 * `2026-12-02 00:51:30.307450` — no zone, read as UTC. Times are informational to baton
 * (expiry is judged on the reader's own monotonic clock), so a zone guessed wrong shifts
 * nothing but what `baton status` shows.
 */
const TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?$/;

/**
 * Epoch milliseconds of a Kubernetes timestamp; `undefined` when absent (missing, null, "");
 * `NaN` when unreadable. Kubernetes' client libraries may hand over a Date or a string.
 */
export function fromKubeTime(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return Number.NaN;
  const m = TIME.exec(value.trim());
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, fraction, , sign, offH, offM] = m;
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM)) * 60_000 : 0;
  return utc - offsetMs;
}

/**
 * A time field of a record: epoch ms, 0 when absent.
 * @throws InvalidRecordError naming `field` when it is present but unreadable.
 */
export function readTime(value: unknown, field: string, describe: string): number {
  const ms = fromKubeTime(value);
  if (ms === undefined) return 0;
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidRecordError(describe, `${field} is not a time: ${JSON.stringify(value)}`);
  return ms;
}

/** An integer written as a JSON number or as a string of digits (the Python client's durations). */
function integerOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

/**
 * A count (`leaderTransitions`, a fencing token): 0 when absent.
 * @throws InvalidRecordError naming `field` when it is not a non-negative integer.
 */
export function readCount(value: unknown, field: string, describe: string): number {
  if (value === undefined || value === null) return 0;
  const n = integerOf(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidRecordError(describe, `${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * `leaseDurationSeconds` (as a number or a numeric string).
 * @throws InvalidRecordError naming `field` when it is not a positive integer.
 */
export function readDurationSeconds(value: unknown, field: string, describe: string): number {
  const n = integerOf(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidRecordError(describe, `${field} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Kubernetes records durations in whole seconds; baton keeps milliseconds beside them. The
 * milliseconds count only when they were written for this very term (`ownTerm`: the caller
 * checked that baton's mark names the current holder and transition count) and agree with
 * the seconds; otherwise the seconds rule, as for every other client.
 */
export function durationMs(seconds: number, millis: unknown, ownTerm = true): number {
  if (!ownTerm) return seconds * 1000;
  const ms = integerOf(millis);
  return Number.isSafeInteger(ms) && ms > 0 && Math.ceil(ms / 1000) === seconds ? ms : seconds * 1000;
}

/** Whole seconds for Kubernetes, rounded up so readers in seconds never wait less than asked. */
export function durationSeconds(record: LeaderElectionRecord): number {
  return Math.ceil(record.leaseDurationMs / 1000);
}

/** baton's mark of the term its annotations belong to: `<transitions>/<holder>`. */
export function termMark(holderIdentity: string, leaderTransitions: number): string {
  return `${leaderTransitions}/${holderIdentity}`;
}
