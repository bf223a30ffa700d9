import { LockConflictError, LockNotFoundError } from '@baton/core';
import type { LeaderElectionRecord, LockSnapshot } from '@baton/core';
import type { Etcd3, ICompare, IKeyValue, IRequestOp, ITxnResponse } from 'etcd3';
import { decodeCounter, decodeSnapshot, encodeCounter, encodeRecord } from './codec.ts';
import type { CallOptions } from './connection.ts';
import type { LockKeys } from './keys.ts';

/** What this process knows of the fencing counter: nothing, that it is absent, or its value. */
export type CounterState = { readonly kind: 'unknown' } | { readonly kind: 'absent' } | { readonly kind: 'value'; readonly value: number };

export const UNKNOWN_COUNTER: CounterState = { kind: 'unknown' };

/** A read of both keys in one round trip. */
export interface ReadResult {
  readonly snapshot: LockSnapshot | null;
  readonly counter: CounterState;
  /** The store revision the read saw (every change up to it is reflected). */
  readonly revision: string;
}

/** Reads the record and the counter in one read-only (linearizable) transaction. */
export async function readLock(client: Etcd3, keys: LockKeys, lock: string, call: CallOptions): Promise<ReadResult> {
  const reply = await client.kv.txn({ compare: [], success: [range(keys.record), range(keys.fence)], failure: [] }, call);
  const [recordKv, counterKv] = rangedValues(reply);
  return {
    snapshot: recordKv === undefined ? null : decodeSnapshot(recordKv, lock),
    counter: counterState(counterKv, lock),
    revision: reply.header.revision,
  };
}

/** One attempt at a write: what it compares and what it stores. */
export interface WritePlan {
  readonly record: LeaderElectionRecord;
  /** `undefined`: create, only if absent; otherwise the mod revision the record must still have. */
  readonly expectedVersion: string | undefined;
  /**
   * Whether this write starts a new term: then it stores a token above the counter and moves
   * the counter to it, in the same transaction. A renewal or a release keeps the token.
   */
  readonly newToken: boolean;
  readonly counter: CounterState;
  /** Lease to attach the record to (the session option, for a holder's own write); `"0"` for none. */
  readonly lease: string;
}

/** How an attempt ended. */
export type WriteOutcome =
  | { readonly kind: 'written'; readonly snapshot: LockSnapshot; readonly counter: CounterState; readonly revision: string }
  /** The record was as expected, but the counter was not below the token: try again with this state. */
  | { readonly kind: 'counter-moved'; readonly counter: CounterState }
  /** The record was not as expected: here it is as stored now (`undefined`: absent), undecoded. */
  | { readonly kind: 'record-changed'; readonly current: IKeyValue | undefined };

/**
 * The fencing token a new term stores: the one asked for, raised above the counter when this
 * process knows it. The transaction's compare ("counter < token") makes it safe when the
 * knowledge is stale: every token ever stored is at most the counter, so a token above the
 * counter is above all of them, deleted records included.
 */
export function tokenFor(plan: Pick<WritePlan, 'record' | 'counter'>): number {
  const asked = plan.record.fencingToken;
  return plan.counter.kind === 'value' ? Math.max(asked, plan.counter.value + 1) : asked;
}

/**
 * Runs one compare-and-swap transaction:
 * - compare the record's create revision to 0 (create) or its mod revision to the expected
 *   version (update); for a new term also that the counter is absent or below the token;
 * - on success put the record (attached to `lease`) and, for a new term, the counter;
 * - on failure read both keys, to say why in one round trip (the caller turns a changed record
 *   into `LockConflictError` / `LockNotFoundError`, or, for `acquireIfFree`, into its answer).
 * @throws InvalidRecordError for a corrupt counter.
 */
export async function writeLock(client: Etcd3, keys: LockKeys, lock: string, plan: WritePlan, call: CallOptions): Promise<WriteOutcome> {
  const token = plan.newToken ? tokenFor(plan) : plan.record.fencingToken;
  const stored: LeaderElectionRecord = { ...plan.record, fencingToken: token };
  const compare: ICompare[] = [
    plan.expectedVersion === undefined
      ? { key: keys.record, target: 'Create', result: 'Equal', create_revision: 0 }
      : { key: keys.record, target: 'Mod', result: 'Equal', mod_revision: plan.expectedVersion },
  ];
  const success: IRequestOp[] = [{ request_put: { key: keys.record, value: encodeRecord(stored), lease: plan.lease } }];
  if (plan.newToken) {
    compare.push(
      plan.counter.kind === 'absent'
        ? { key: keys.fence, target: 'Create', result: 'Equal', create_revision: 0 }
        : // Fixed-width digits: byte order is numeric order. (A missing key fails a value compare.)
          { key: keys.fence, target: 'Value', result: 'Less', value: encodeCounter(token) },
    );
    success.push({ request_put: { key: keys.fence, value: encodeCounter(token) } });
  }
  const reply = await client.kv.txn({ compare, success, failure: [range(keys.record), range(keys.fence)] }, call);
  const revision = reply.header.revision;
  if (reply.succeeded) {
    const counter: CounterState = plan.newToken ? { kind: 'value', value: token } : plan.counter;
    return { kind: 'written', snapshot: { record: stored, version: revision }, counter, revision };
  }

  const [recordKv, counterKv] = rangedValues(reply);
  const recordAsExpected =
    plan.expectedVersion === undefined ? recordKv === undefined : recordKv !== undefined && recordKv.mod_revision === plan.expectedVersion;
  if (!recordAsExpected) return { kind: 'record-changed', current: recordKv };
  return { kind: 'counter-moved', counter: counterState(counterKv, lock) };
}

/** The error `create`/`update` throw when the record was not as expected. */
export function recordChangedError(lock: string, expectedVersion: string | undefined, current: IKeyValue | undefined): Error {
  if (expectedVersion === undefined) return new LockConflictError(`${lock} already exists (version ${current?.mod_revision})`);
  if (current === undefined) return new LockNotFoundError(`${lock} does not exist`);
  return new LockConflictError(`${lock} was modified (version ${current.mod_revision}, expected ${expectedVersion})`);
}

function range(key: Buffer): IRequestOp {
  return { request_range: { key } };
}

/** The first key-value of each range response, in order (`undefined` for an absent key). */
function rangedValues(reply: ITxnResponse): Array<IKeyValue | undefined> {
  return reply.responses.map((response) => response.response_range?.kvs?.[0]);
}

function counterState(kv: IKeyValue | undefined, lock: string): CounterState {
  if (kv === undefined) return { kind: 'absent' };
  return { kind: 'value', value: decodeCounter(kv.value, lock) };
}

/** Thrown when the counter kept moving under a write (only ever by hand); the caller retries later. */
export function counterRaceError(lock: string): LockConflictError {
  return new LockConflictError(`${lock}: the fencing counter changed during the write; try again`);
}
