import { InvalidRecordError } from './errors.ts';

/**
 * What a lock stores: who leads and since when. The field set is client-go's
 * `LeaderElectionRecord`, plus a fencing token.
 *
 * Times are wall-clock epoch milliseconds and only informational: no elector decides
 * expiry by comparing them with its own clock (see {@link LeaderElector}).
 */
export interface LeaderElectionRecord {
  /** Identity of the holder; the empty string means released (nobody holds it). */
  holderIdentity: string;
  /** How long the holder's claim lasts after each renewal, in milliseconds. */
  leaseDurationMs: number;
  /** When the current holder acquired the lock (epoch ms). */
  acquireTime: number;
  /** When the holder last renewed (epoch ms). */
  renewTime: number;
  /** How many times the holder changed hands. */
  leaderTransitions: number;
  /**
   * Token of the current term. Every acquisition, including re-acquisition by the same
   * identity, writes a strictly larger token, so downstream systems can reject a stale leader.
   */
  fencingToken: number;
}

/** The numeric fields of a record, and whether each must be positive. */
const COUNTS: ReadonlyArray<readonly [keyof LeaderElectionRecord, boolean]> = [
  ['leaseDurationMs', true],
  ['acquireTime', false],
  ['renewTime', false],
  ['leaderTransitions', false],
  ['fencingToken', false],
];

/**
 * Checks a record decoded by a backend, so corrupt data becomes a typed error at the edge
 * instead of a wrong decision in the elector.
 * @param lock - the lock's `describe()`, named in the error.
 * @throws InvalidRecordError naming the first bad field.
 */
export function validateRecord(value: unknown, lock: string): LeaderElectionRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRecordError(lock, 'not an object');
  }
  const r = value as Record<string, unknown>;
  if (typeof r.holderIdentity !== 'string') throw new InvalidRecordError(lock, 'holderIdentity is not a string');
  for (const [field, positive] of COUNTS) {
    const v = r[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || (positive && v === 0)) {
      throw new InvalidRecordError(lock, `${field} must be a ${positive ? 'positive' : 'non-negative'} integer, got ${JSON.stringify(v)}`);
    }
  }
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationMs: r.leaseDurationMs as number,
    acquireTime: r.acquireTime as number,
    renewTime: r.renewTime as number,
    leaderTransitions: r.leaderTransitions as number,
    fencingToken: r.fencingToken as number,
  };
}

/** True when both records say the same thing, field by field. */
export function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationMs === b.leaseDurationMs &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaderTransitions === b.leaderTransitions &&
    a.fencingToken === b.fencingToken
  );
}

/**
 * The record a contender writes to take a lock: a new term with a fencing token above any it
 * has seen, a transition counted when the holder changes (client-go's rule).
 * @param highestTokenSeen - guards against a backend whose record was deleted and recreated.
 */
export function nextTermRecord(
  previous: LeaderElectionRecord | null,
  identity: string,
  leaseDurationMs: number,
  wallNow: number,
  highestTokenSeen = 0,
): LeaderElectionRecord {
  return {
    holderIdentity: identity,
    leaseDurationMs,
    acquireTime: wallNow,
    renewTime: wallNow,
    leaderTransitions:
      previous === null ? 0 : previous.holderIdentity === identity ? previous.leaderTransitions : previous.leaderTransitions + 1,
    fencingToken: Math.max(previous?.fencingToken ?? 0, highestTokenSeen) + 1,
  };
}

/**
 * What a backend's `acquireIfFree` stores when it replaces a released record: the requested
 * term, with a fencing token above the released one and the change of holder counted, so the
 * fast path keeps {@link nextTermRecord}'s rules without the contender having read first.
 */
export function newTermOver(released: LeaderElectionRecord, requested: LeaderElectionRecord): LeaderElectionRecord {
  return {
    ...requested,
    leaderTransitions: released.leaderTransitions + 1,
    fencingToken: Math.max(requested.fencingToken, released.fencingToken + 1),
  };
}
