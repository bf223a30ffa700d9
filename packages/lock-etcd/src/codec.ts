import { InvalidRecordError, validateRecord } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot } from '@baton/core';

/** The fields of the stored JSON object, in the order they are written. */
export const RECORD_FIELDS = ['holderIdentity', 'leaseDurationMs', 'acquireTime', 'renewTime', 'leaderTransitions', 'fencingToken'] as const;

/** A key-value pair as etcd3 returns it (longs as decimal strings). */
export interface StoredKeyValue {
  readonly value: Buffer;
  readonly mod_revision: string;
  readonly lease?: string;
}

/**
 * The record as stored: a JSON object with exactly the record's fields, so `etcdctl get`
 * shows it readably. Other fields a foreign writer added are neither required nor kept.
 */
export function encodeRecord(record: LeaderElectionRecord): Buffer {
  const ordered: Record<string, unknown> = {};
  for (const field of RECORD_FIELDS) ordered[field] = record[field];
  return Buffer.from(JSON.stringify(ordered));
}

/**
 * Decodes a stored record. Its version is the key's mod revision: every write to the key
 * changes it, and a compare on it pins the exact value that was read.
 * @throws InvalidRecordError when the value is not a baton record (never overwritten).
 */
export function decodeSnapshot(kv: StoredKeyValue, lock: string): LockSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(kv.value.toString('utf8'));
  } catch (error) {
    throw new InvalidRecordError(lock, `the value is not JSON (${kv.value.length} bytes)`, { cause: error });
  }
  return { record: validateRecord(parsed, lock), version: kv.mod_revision };
}

/** Width of the counter's decimal digits: every safe integer fits, and byte order is numeric order. */
const COUNTER_WIDTH = 16;
const COUNTER = /^[0-9]{16}$/;

/**
 * The counter as stored: zero-padded to a fixed width, so etcd's byte-wise `Less` compare on
 * the value is a numeric compare ("counter < requested token") inside a transaction.
 */
export function encodeCounter(token: number): Buffer {
  return Buffer.from(String(token).padStart(COUNTER_WIDTH, '0'));
}

/**
 * Decodes the fencing counter.
 * @throws InvalidRecordError when the key holds something else (never overwritten).
 */
export function decodeCounter(value: Buffer, lock: string): number {
  const text = value.toString('latin1');
  const token = COUNTER.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(token)) {
    throw new InvalidRecordError(lock, `the fencing counter holds ${JSON.stringify(text.slice(0, 40))}, not ${COUNTER_WIDTH} decimal digits`);
  }
  return token;
}
