import type { LeaderElectionRecord } from './record.ts';

/** A record as read from a backend, with the opaque version a compare-and-swap must name. */
export interface LockSnapshot {
  readonly record: LeaderElectionRecord;
  /** Opaque to callers; changes whenever the stored object changes. */
  readonly version: string;
  /**
   * Set by backends that bind a holder to a live session (PostgreSQL): the holder named in
   * the record is known to be gone, so the lock may be taken without waiting for expiry.
   */
  readonly holderGone?: boolean;
}

/** Listeners for {@link ResourceLock.watch}. */
export interface WatchHandlers {
  /**
   * The stored record changed. `snapshot` is the new state when the backend delivers it,
   * `null` when the record was deleted, and `undefined` when the listener must re-read.
   */
  onChange(snapshot?: LockSnapshot | null): void;
  /**
   * `true` once the watch is established, `false` when it broke. While it is broken the
   * elector falls back to polling; after it comes back the elector re-reads, because a
   * change may have been missed in between.
   */
  onHealth?(healthy: boolean): void;
}

/** Per-call options: every backend call must settle once `signal` aborts. */
export interface LockCallOptions {
  signal?: AbortSignal;
}

/** What {@link ResourceLock.acquireIfFree} did. */
export type AcquireIfFreeResult =
  /** The lock was absent or released: `snapshot` is the new term as stored. */
  | { readonly acquired: true; readonly snapshot: LockSnapshot }
  /** Someone holds the lock (possibly this identity): nothing was written; `snapshot` is what is stored. */
  | { readonly acquired: false; readonly snapshot: LockSnapshot };

/** Options of {@link ResourceLock.acquireWhenFree}. */
export interface AcquireWhenFreeOptions extends LockCallOptions {
  /** How long the backend may wait for the holder to let go before answering `{ acquired: false, waited: true }`. */
  maxWaitMs: number;
}

/** What {@link ResourceLock.acquireWhenFree} did. */
export type AcquireWhenFreeResult =
  /** The holder let go and this call took the lock: `snapshot` is the new term as stored. */
  | { readonly acquired: true; readonly snapshot: LockSnapshot }
  /**
   * Nothing written. `waited`: the lock stayed held for `maxWaitMs` (or could not be written
   * in the same operation), so the caller attempts again; `false`: the backend could not wait
   * now (no connection to spare, held in this process), so the caller waits its usual way.
   */
  | { readonly acquired: false; readonly waited: boolean };

/**
 * The storage a {@link LeaderElector} campaigns on. Implementations: `MemoryLock` (core),
 * `@baton/lock-lease`, `@baton/lock-endpoints`, `@baton/lock-redis`, `@baton/lock-postgres`.
 *
 * Semantics every implementation must keep (checked by `@baton/contract`):
 * - `get` returns `null` when nothing is stored, and throws `InvalidRecordError` for data
 *   that is not a record; it never repairs it.
 * - `create` throws `LockConflictError` when a record already exists.
 * - `update` is a compare-and-swap against `expectedVersion`; a stale version throws
 *   `LockConflictError`, a vanished record `LockNotFoundError`. Fields the backend does not
 *   own (labels, other annotations) are kept.
 * - `create` and `update` return what was stored. A backend with a server-side fencing
 *   counter may store a larger `fencingToken` than asked, never a smaller one.
 * - Unreachable backends throw `BackendUnavailableError`; missing rights `PermissionDeniedError`.
 */
export interface ResourceLock {
  /** The identity this process campaigns under. */
  readonly identity: string;
  /** Human-readable name of the lock, e.g. `lease default/my-app` or `redis baton:{my-app}`. */
  describe(): string;
  get(options?: LockCallOptions): Promise<LockSnapshot | null>;
  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot>;
  update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot>;
  /**
   * Optional fast path: acquire in ONE backend operation when nobody holds the lock, for
   * backends that can decide it atomically on the server (a Lua script, one SQL statement).
   * A contender that has no reason to believe the lock is held calls it instead of `get`
   * followed by `create`/`update`, halving the round trips of an uncontended acquire.
   *
   * Rules (checked by `@baton/contract` for locks that offer it); `record` is a new term
   * naming this lock's identity as holder:
   * - Absent → stores `record` as `create` would: `{ acquired: true }`.
   * - Released (empty `holderIdentity`) → replaces it in the same operation with
   *   `newTermOver(released, record)` (record.ts): `record`, with a fencing token above the
   *   released one and the transition counted: `{ acquired: true }`.
   * - Held by anyone, this identity included, however old its `renewTime` → writes nothing and
   *   returns what is stored: `{ acquired: false }`. Expiry is never judged here: taking over a
   *   lease seen expired stays the caller's `update` on the version it watched (a server cannot
   *   know how long a contender has observed the record unchanged). A backend that binds holds
   *   to sessions may treat a holder it knows gone (what `holderGone` reports) as released.
   * - A backend with a server-side fencing counter stores max(requested, counter), as `create`
   *   and `update` do; the result carries what was stored.
   * - Corrupt data → `InvalidRecordError`, nothing written. A race the backend cannot settle in
   *   the one operation (e.g. another session holds an advisory lock) → `LockConflictError`.
   * - Faults as for the other calls: `BackendUnavailableError`, settle when `signal` aborts.
   */
  acquireIfFree?(record: LeaderElectionRecord, options?: LockCallOptions): Promise<AcquireIfFreeResult>;
  /**
   * Optional, for backends whose mutual exclusion can be waited on at the server (a
   * PostgreSQL advisory lock): waits there, for at most `maxWaitMs`, until the holder lets go
   * — its release, or the end of its session — and then writes `record` (a new term naming
   * this identity) in the same operation, so a handover needs no notification round trip.
   * The waiter is granted the lock by the backend's own exclusion, so it never takes a lock
   * whose holder still holds it; the new term's fencing token is above the stored one
   * (`newTermOver`), and the write is as durable as `create`. Errors as for the other calls.
   */
  acquireWhenFree?(record: LeaderElectionRecord, options: AcquireWhenFreeOptions): Promise<AcquireWhenFreeResult>;
  /**
   * Optional, with `acquireWhenFree`: a release — `record` names no holder, a compare-and-swap
   * on `expectedVersion` as `update` — that lets a waiter blocked at the backend take the lock
   * in the same operation instead of after this write. `null`: the backend's exclusion was
   * handed to such a waiter and nothing was written; the waiter writes its own term next (until
   * then the record still names this holder, whose hold the backend no longer has, as after a
   * crash: `holderGone`). Otherwise what `update` returns; errors as `update`'s.
   */
  release?(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot | null>;
  /**
   * Optional: push notifications of changes, so followers react at once instead of polling.
   * @returns a function that stops the watch.
   */
  watch?(handlers: WatchHandlers): () => void;
  /**
   * Optional: for backends whose hold is bound to a connection. The listener runs the moment
   * that connection is gone, so a leader steps down at once instead of at its renew deadline.
   * @returns a function that removes the listener.
   */
  onSessionLost?(listener: (reason: Error) => void): () => void;
  /**
   * Optional: `true` when every call of this lock settles within a bound of the lock's own (an
   * operation timeout), signal or not. A caller that bounds a call only to move on (a
   * contender's attempt, a held lease's renewal) then passes no signal unless it has one to
   * cancel with, and stops waiting at its own deadline while the call settles by itself —
   * sparing an AbortController and its listeners on every call.
   */
  readonly boundsOwnCalls?: boolean;

  /**
   * Optional: when the backend frees a silent holder's lock sooner than the lease says — a
   * PostgreSQL session closed by the server, an etcd session lease that ran out — how long
   * after the holder's last successful call that can happen. Anything that keeps a holder's
   * work within its lease (`baton run`'s watchdog) must count from the shorter of this and
   * leaseDuration. Absent: the lease alone decides.
   */
  readonly silentHolderTimeoutMs?: number;
  /** Optional: closes connections this lock opened itself (clients passed in stay open). */
  close?(): Promise<void>;
}
