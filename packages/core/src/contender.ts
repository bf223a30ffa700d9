import type { Clock } from './clock.ts';
import { withDeadline, withinDeadline } from './deadline.ts';
import { LockConflictError, LockNotFoundError } from './errors.ts';
import { jitteredRetryMs } from './jitter.ts';
import { LeaseObserver } from './lease-observer.ts';
import { nextTermRecord } from './record.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';

/** What a {@link Contender} runs with. */
export interface ContenderOptions {
  clock: Clock;
  /** Written into every term this contender takes. */
  leaseDurationMs: number;
  /** Bounds every backend call of an attempt, and is the base of the jittered retry. */
  retryPeriodMs: number;
  /** The source of jitter, returning [0, 1). */
  random: () => number;
  /** Told of every snapshot the contender observes (read, written, offered), after it took note. */
  onObserved?(snapshot: LockSnapshot | null): void;
}

/** How an attempt that did not acquire ended. */
export type MissedOutcome =
  /** Another holder's lease is still running (as this contender has observed it). */
  | 'held'
  /** Someone else wrote first (`LockConflictError`/`LockNotFoundError`): a lost race. */
  | 'conflict';

/** What {@link Contender.attempt} did. */
export type Attempt =
  | {
      readonly acquired: true;
      /** The new term as stored. */
      readonly snapshot: LockSnapshot;
      /** Monotonic time the winning write was sent: the lease's renew deadline counts from it. */
      readonly writeStart: number;
    }
  | { readonly acquired: false; readonly outcome: MissedOutcome };

const HELD: Attempt = Object.freeze({ acquired: false, outcome: 'held' });
const CONFLICT: Attempt = Object.freeze({ acquired: false, outcome: 'conflict' });

/** Lost races in a row that are retried at once (to learn the winner) before backing off. */
const IMMEDIATE_CONFLICT_RETRIES = 3;

/**
 * The one acquisition path every primitive shares (client-go's `tryAcquireOrRenew`): what a
 * contender knows about one lock record, and one attempt at taking it. The elector, the mutex
 * and any primitive built from lock records (semaphore slots) contend through it; what they
 * do once they hold the lease, and how they wait, is theirs.
 *
 * The rules it keeps, in one place:
 * - It takes over only a lock that is absent, released, held by a holder whose session is
 *   known gone, held by its own identity, or whose record it has *observed* unchanged for the
 *   record's lease duration on its own monotonic clock ({@link LeaseObserver}). It never
 *   overwrites a lease it has not seen expire: every takeover is a compare-and-swap on the
 *   version it judged.
 * - Each term it writes carries a fencing token above every token it has seen on this lock
 *   (the highest-token guard: a record deleted and recreated cannot reset the sequence).
 * - It uses a snapshot offered by a watch (or by the caller's own release) instead of reading,
 *   and, on a lock with `acquireIfFree`, acquires a lock it has no reason to think held in one
 *   backend operation. A lease it would take over only because it saw it expire goes through
 *   the compare-and-swap path, never the fast path.
 */
export class Contender {
  private readonly options: ContenderOptions;
  private readonly observer: LeaseObserver;
  private highestToken = 0;
  /** A snapshot the next attempt uses instead of reading. */
  private fresh: LockSnapshot | null | undefined;
  private conflicts = 0;
  private watchIsUp = false;
  /** Set by "read again" and by watch health changes: the observed state may be out of date. */
  private stale = false;

  constructor(options: ContenderOptions) {
    this.options = options;
    this.observer = new LeaseObserver(options.clock);
  }

  /** The highest fencing token seen on this lock (what the next term must exceed). */
  get highestTokenSeen(): number {
    return this.highestToken;
  }

  /** Carries over the highest token an earlier contender on this lock saw (see {@link Contender.highestTokenSeen}). */
  rememberToken(token: number): void {
    if (token > this.highestToken) this.highestToken = token;
  }

  /** Whether the lock's watch was last reported up (see {@link Contender.setWatchHealthy}). */
  get watchHealthy(): boolean {
    return this.watchIsUp;
  }

  /**
   * True when what was observed may be out of date — a change was announced without a snapshot,
   * or the watch went up or down since — so a caller must not skip an attempt on the strength of
   * {@link Contender.heldByOther}: the next attempt reads.
   */
  get mustRead(): boolean {
    return this.stale;
  }

  /** The last snapshot observed (`null`: none, or the record was absent). */
  get snapshot(): LockSnapshot | null {
    return this.observer.snapshot;
  }

  /** Monotonic time at which the observed lease expires. */
  expiresAt(): number {
    return this.observer.expiresAt();
  }

  /** True when the lock is not `identity`'s to take yet: another holder's observed lease still runs. */
  heldByOther(identity: string): boolean {
    return this.observer.heldByOther(identity);
  }

  /** Takes note of a snapshot read or written elsewhere (a held lease's renewals). */
  observe(snapshot: LockSnapshot | null): void {
    this.observer.observe(snapshot);
    if (snapshot !== null && snapshot.record.fencingToken > this.highestToken) this.highestToken = snapshot.record.fencingToken;
    this.options.onObserved?.(snapshot);
  }

  /**
   * A snapshot pushed by a watch, or the release this process just wrote: observed now, and
   * used by the next attempt instead of a read (a stale one only costs a lost
   * compare-and-swap). `undefined` means "changed, read again": the next attempt reads.
   */
  offer(snapshot: LockSnapshot | null | undefined): void {
    this.fresh = snapshot;
    if (snapshot === undefined) this.stale = true;
    else this.observe(snapshot);
  }

  /**
   * Whether the lock's watch is up. While it is, a contender waiting on a held lease sleeps
   * until the observed expiry (a change would be pushed); while it is down, it polls. Either
   * way an offered snapshot is dropped: changes may have been missed.
   */
  setWatchHealthy(healthy: boolean): void {
    this.watchIsUp = healthy;
    this.fresh = undefined;
    this.stale = true;
  }

  /**
   * One attempt to take the lock for `lock.identity`. Lost races come back as `conflict`;
   * other failures are thrown (`BackendUnavailableError`, `InvalidRecordError`, …). Every
   * backend call is bounded by retryPeriod and settles when `cancel` aborts.
   */
  async attempt(lock: ResourceLock, cancel?: AbortSignal): Promise<Attempt> {
    const { clock, leaseDurationMs } = this.options;
    const identity = lock.identity;
    try {
      let snapshot = this.fresh;
      this.fresh = undefined;
      // An offered snapshot is the newest word on the lock: judge by it, not by an answer
      // observed since that was sent before it (a held answer overtaken by a pushed release).
      if (snapshot !== undefined) this.observe(snapshot);
      if (snapshot === undefined) {
        // This attempt reads; only what is announced during the call makes it stale again.
        this.stale = false;
        if (lock.acquireIfFree !== undefined && !this.wouldTakeOver(identity)) {
          const record = nextTermRecord(this.observer.snapshot?.record ?? null, identity, leaseDurationMs, clock.wallNow(), this.highestToken);
          const writeStart = clock.now();
          const result = await this.call(lock, (signal) => lock.acquireIfFree!(record, { signal }), cancel);
          this.observe(result.snapshot);
          if (result.acquired) return this.won(result.snapshot, writeStart);
          snapshot = result.snapshot; // judged below exactly like a read
        } else {
          snapshot = await this.call(lock, (signal) => lock.get({ signal }), cancel);
          this.observe(snapshot);
        }
        snapshot = this.takeOfferedDuringCall(snapshot);
      }
      if (this.observer.heldByOther(identity)) {
        this.conflicts = 0;
        return HELD;
      }
      const current = snapshot;
      const record = nextTermRecord(current?.record ?? null, identity, leaseDurationMs, clock.wallNow(), this.highestToken);
      const writeStart = clock.now();
      const written = await this.call(
        lock,
        (signal) => (current === null ? lock.create(record, { signal }) : lock.update(record, current.version, { signal })),
        cancel,
      );
      this.observe(written);
      return this.won(written, writeStart);
    } catch (error) {
      if (error instanceof LockConflictError || error instanceof LockNotFoundError) {
        this.conflicts++;
        return CONFLICT;
      }
      this.conflicts = 0;
      throw error;
    }
  }

  /**
   * For a lock just found held by another holder, on a backend that offers
   * `acquireWhenFree`: waits there up to `maxWaitMs` for the holder to let go and takes the
   * lock in the same operation (the backend's exclusion grants it, so nothing is taken over
   * that is still held). @returns the new term; `held` when it stayed held (attempt again);
   * undefined when the backend could not wait now (wait the usual way). Lost races come back
   * as `conflict`, other failures are thrown, as for {@link Contender.attempt}.
   */
  async attemptWhenFree(lock: ResourceLock, maxWaitMs: number, cancel?: AbortSignal): Promise<Attempt | undefined> {
    const { clock, leaseDurationMs, retryPeriodMs } = this.options;
    const record = nextTermRecord(this.observer.snapshot?.record ?? null, lock.identity, leaseDurationMs, clock.wallNow(), this.highestToken);
    // The lease counts from when the wait was sent: conservative by up to maxWaitMs.
    const writeStart = clock.now();
    try {
      // Always with a signal of its own, whatever boundsOwnCalls says: a wait at the backend is
      // abandoned by aborting it.
      const result = await withDeadline(clock, maxWaitMs + retryPeriodMs, (signal) => lock.acquireWhenFree!(record, { signal, maxWaitMs }), cancel);
      if (result.acquired) {
        this.observe(result.snapshot);
        return this.won(result.snapshot, writeStart);
      }
      return result.waited ? HELD : undefined;
    } catch (error) {
      if (error instanceof LockConflictError || error instanceof LockNotFoundError) {
        this.conflicts++;
        return CONFLICT;
      }
      throw error;
    }
  }

  /**
   * How long to wait before the next attempt: a lost race is retried at once a few times (to
   * read who won), then backs off; a failure waits the jittered retry period; a held lease
   * is tried again when its observed expiry comes — with a healthy watch exactly then (any
   * change would be pushed), otherwise no later than the jittered retry period (polling).
   */
  delayAfter(outcome: MissedOutcome | 'error'): number {
    if (outcome === 'conflict' && this.conflicts <= IMMEDIATE_CONFLICT_RETRIES) return 0;
    const retry = this.retryDelay();
    if (outcome !== 'held') return retry;
    const untilExpiry = Math.max(1, this.observer.expiresAt() - this.options.clock.now());
    return this.watchIsUp ? untilExpiry : Math.min(retry, untilExpiry);
  }

  /** The jittered retry period. */
  retryDelay(): number {
    return jitteredRetryMs(this.options.retryPeriodMs, this.options.random);
  }

  /**
   * True when the observed record names a holder and the only reason this contender may take
   * it is its own judgement (expired as observed, holder gone, or its own identity's): the
   * server cannot judge that, so it is a read and a compare-and-swap, never `acquireIfFree`.
   */
  private wouldTakeOver(identity: string): boolean {
    const snapshot = this.observer.snapshot;
    return snapshot !== null && snapshot.record.holderIdentity !== '' && !this.observer.heldByOther(identity);
  }

  /**
   * A snapshot pushed while a read (or a fast-path attempt) was in flight arrived after that
   * call was sent, so it is likely the newer of the two: the answer was observed first, the
   * pushed snapshot is observed on top and judged. Were it the older one, the cost is a lost
   * compare-and-swap or a longer wait, never an early takeover (expiry is still counted from
   * when each version was first seen).
   */
  private takeOfferedDuringCall(answer: LockSnapshot | null): LockSnapshot | null {
    const offered = this.fresh;
    if (offered === undefined) return answer;
    this.fresh = undefined;
    this.observe(offered);
    return offered;
  }

  private won(snapshot: LockSnapshot, writeStart: number): Attempt {
    this.conflicts = 0;
    this.fresh = undefined;
    return { acquired: true, snapshot, writeStart };
  }

  /** A contender's backend call only affects how soon it may hold the lock: one retry period. */
  private call<T>(lock: ResourceLock, fn: (signal: AbortSignal | undefined) => Promise<T>, cancel: AbortSignal | undefined): Promise<T> {
    return withinDeadline(this.options.clock, this.options.retryPeriodMs, fn, lock, cancel);
  }
}
