import { InvalidRecordError, validateRecord } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot } from '@baton/core';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

/**
 * The fields of the record hash, named as in {@link LeaderElectionRecord}; the hash also holds
 * `version`. Numbers are stored as decimal strings. Other fields in the hash are kept as is.
 */
export const RECORD_FIELDS = ['holderIdentity', 'leaseDurationMs', 'acquireTime', 'renewTime', 'leaderTransitions', 'fencingToken'] as const;

const INTEGER = /^(0|[1-9][0-9]*)$/;

/** Random per process, so versions from different processes never collide. */
const VERSION_PREFIX = randomBytes(9).toString('base64url');
let versionCounter = 0;

/**
 * A fresh, unique version for a write: the compare-and-swap token (opaque to callers). A
 * process-random prefix and a counter: never repeated, without a random draw per write.
 */
export function newVersion(): string {
  return `${VERSION_PREFIX}.${(versionCounter++).toString(36)}`;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * `holder` as a JSON string, for the change message a script builds by concatenation (no JSON
 * encoder runs on the server). A lone surrogate is sent to Redis as U+FFFD (UTF-8 cannot carry
 * it), so the message names the holder exactly as the hash stores it.
 */
export function jsonString(holder: string): string {
  if (holder === '') return '""';
  return JSON.stringify(SURROGATE.test(holder) ? Buffer.from(holder, 'utf8').toString('utf8') : holder);
}

/**
 * The change message for `record` stored under `version`, as the scripts build it (numbers
 * as decimal strings); `holderJson` is the holder as {@link jsonString} makes it.
 */
export function changeMessage(record: LeaderElectionRecord, version: string, holderJson: string): string {
  return `{"holderIdentity":${holderJson},"leaseDurationMs":"${record.leaseDurationMs}","acquireTime":"${record.acquireTime}","renewTime":"${record.renewTime}","leaderTransitions":"${record.leaderTransitions}","fencingToken":"${record.fencingToken}","version":${JSON.stringify(version)}}`;
}

/**
 * Decodes the stored hash (from HGETALL) or a change message (the same fields as JSON) into
 * a snapshot. `null` when there are no fields (the key does not exist).
 * @throws InvalidRecordError when the data is not a baton record.
 */
export function decodeSnapshot(fields: Record<string, unknown>, lock: string): LockSnapshot | null {
  if (Object.keys(fields).length === 0) return null;
  const raw: Record<string, unknown> = {};
  for (const field of RECORD_FIELDS) {
    const value = fields[field];
    if (value === undefined) throw new InvalidRecordError(lock, `the hash has no ${field} field`);
    // Numbers are canonical decimal strings; anything else reaches validateRecord as is, so
    // its error names the field and the value.
    raw[field] = field !== 'holderIdentity' && typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
  }
  const version = fields.version;
  if (typeof version !== 'string' || version === '') throw new InvalidRecordError(lock, 'the hash has no version field');
  return { record: validateRecord(raw, lock), version };
}

/**
 * Decodes a message published by a script.
 * @throws InvalidRecordError when it is not a record (never expected from baton's scripts).
 */
export function decodeMessage(message: string, lock: string): LockSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch (error) {
    throw new InvalidRecordError(lock, 'change message is not JSON', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRecordError(lock, 'change message is not an object');
  }
  const snapshot = decodeSnapshot(parsed as Record<string, unknown>, lock);
  if (snapshot === null) throw new InvalidRecordError(lock, 'change message is empty');
  return snapshot;
}
