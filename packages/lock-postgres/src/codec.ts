import { validateRecord } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot } from '@baton/core';

/** A record row as `pg` returns it: `bigint` columns arrive as strings. */
export interface RecordRow {
  holder_identity: unknown;
  lease_duration_ms: unknown;
  acquire_time_ms: unknown;
  renew_time_ms: unknown;
  leader_transitions: unknown;
  fencing_token: unknown;
  version: string | null;
}

/**
 * A decimal integer string becomes a number; anything else (null, `"abc"`, a non-number type
 * after an ALTER) is passed on unchanged for `validateRecord` to reject. Integers beyond
 * 2^53 become unsafe numbers, which it rejects too.
 */
function integer(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d{1,20}$/.test(value) ? Number(value) : value;
}

/**
 * Decodes and validates a row.
 * @throws InvalidRecordError naming the first bad field.
 */
export function decodeRow(row: RecordRow, lock: string): LeaderElectionRecord {
  return validateRecord(
    {
      holderIdentity: row.holder_identity,
      leaseDurationMs: integer(row.lease_duration_ms),
      acquireTime: integer(row.acquire_time_ms),
      renewTime: integer(row.renew_time_ms),
      leaderTransitions: integer(row.leader_transitions),
      fencingToken: integer(row.fencing_token),
    },
    lock,
  );
}

/** A stored row as a snapshot: its record, decoded and validated, and its version. */
export function rowSnapshot(row: RecordRow, lock: string): LockSnapshot {
  return { record: decodeRow(row, lock), version: String(row.version) };
}

/** A NOTIFY payload: the written row, or `{}` when it was too large to send. */
export interface ChangeNotice {
  name: string;
  version: string;
  /** The record, or undefined when the payload did not hold a valid one (listeners re-read). */
  record: LeaderElectionRecord | undefined;
}

/** Parses a NOTIFY payload; `undefined` when it names no lock (too large, or foreign). */
export function decodeNotice(payload: string | undefined): ChangeNotice | undefined {
  if (payload === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || typeof v.version !== 'string') return undefined;
  let record: LeaderElectionRecord | undefined;
  try {
    record = validateRecord(v, 'notification');
  } catch {
    record = undefined;
  }
  return { name: v.name, version: v.version, record };
}
