import { withDeadline } from './deadline.ts';
import type { MutexContext } from './distributed-mutex.ts';
import { ConfigError, InvalidRecordError, LockConflictError, LockNotFoundError } from './errors.ts';
import type { LeaderElectionRecord } from './record.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';

/**
 * How long a counter record "lasts": nobody holds it (its holder is always empty), but
 * backends that expire records some lease durations after the last write (Redis) must keep
 * it, so it claims a year.
 */
const COUNTER_LEASE_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * The token source of a semaphore: one record (`<name>.tokens`) whose `fencingToken` is the
 * last token handed out, bumped by compare-and-swap for every permit granted. Holding a slot
 * gives mutual exclusion on the slot; the counter orders grants across slots, so a permit
 * asked for after another was granted always carries a larger token, whichever slots they use
 * and however often slots are taken over after expiry.
 *
 * The record also stores the semaphore's shape (its permit count, in `leaderTransitions`,
 * which a record nobody holds does not otherwise use): a process asking for a different
 * count fails with a `ConfigError` instead of silently allowing more holders. Its holder is
 * always empty, so no backend binds it to a session.
 *
 * Guard: like a contender, the counter never issues a token at or below one it has seen, so a
 * counter record deleted behind its back cannot make this process repeat a token.
 */
export class TokenCounter {
  private readonly name: string;
  private readonly context: MutexContext;
  /** What the record's `leaderTransitions` must say (the permit or reader-slot count). */
  private readonly shape: number;
  private readonly shapeField: string;
  private lock: Promise<ResourceLock> | undefined;
  private cached: LockSnapshot | null | undefined;
  private highest = 0;

  constructor(name: string, context: MutexContext, shape: number, shapeField: string) {
    this.name = name;
    this.context = context;
    this.shape = shape;
    this.shapeField = shapeField;
  }

  /**
   * Issues the next token: larger than every token issued before this call began.
   * @param bump - false only checks the shape (creating the record when absent) and returns the current token.
   * @throws ConfigError when the record says another shape; InvalidRecordError when it is not
   * a counter; backend errors as they are (each call bounded by retryPeriod).
   */
  async issue(signal?: AbortSignal, bump = true): Promise<number> {
    const lock = await this.prepare();
    for (;;) {
      const current = this.cached !== undefined ? this.cached : await this.call((s) => lock.get({ signal: s }), signal);
      if (current !== null) this.check(current.record, lock);
      const token = current?.record.fencingToken ?? 0;
      if (current !== null && !bump) {
        this.cached = current;
        return token;
      }
      const now = this.context.clock.wallNow();
      const next: LeaderElectionRecord = {
        holderIdentity: '',
        leaseDurationMs: COUNTER_LEASE_MS,
        acquireTime: current?.record.acquireTime ?? now,
        renewTime: now,
        leaderTransitions: this.shape,
        fencingToken: bump ? Math.max(token, this.highest) + 1 : this.highest,
      };
      try {
        const written = await this.call(
          (s) => (current === null ? lock.create(next, { signal: s }) : lock.update(next, current.version, { signal: s })),
          signal,
        );
        this.cached = written;
        this.highest = Math.max(this.highest, written.record.fencingToken);
        return written.record.fencingToken;
      } catch (error) {
        this.cached = undefined;
        if (error instanceof LockConflictError || error instanceof LockNotFoundError) continue; // someone issued first: read, again
        throw error;
      }
    }
  }

  /**
   * Makes the counter's lock ahead of the first issue (a waiter calls it when it starts
   * waiting), so a backend whose locks take a while to open does not delay a handover.
   */
  prepare(): Promise<ResourceLock> {
    this.lock ??= Promise.resolve(this.context.lockFor(this.name, `${this.context.identity}/tokens`)).catch((error: unknown) => {
      this.lock = undefined; // try again next time
      throw error;
    });
    return this.lock;
  }

  close(): void {
    void this.lock?.then((lock) => lock.close?.(), () => {});
    this.lock = undefined;
    this.cached = undefined;
  }

  private check(record: LeaderElectionRecord, lock: ResourceLock): void {
    if (record.holderIdentity !== '') throw new InvalidRecordError(lock.describe(), 'not a token counter (it names a holder)');
    if (record.fencingToken > this.highest) this.highest = record.fencingToken;
    if (record.leaderTransitions !== this.shape) {
      throw new ConfigError(
        this.shapeField,
        `"${this.name}" is in use with ${this.shapeField} = ${record.leaderTransitions}, this process asks for ${this.shape}; every process must agree`,
      );
    }
  }

  private call<T>(fn: (signal: AbortSignal) => Promise<T>, cancel: AbortSignal | undefined): Promise<T> {
    return withDeadline(this.context.clock, this.context.retryPeriodMs, fn, cancel);
  }
}
