import type { Clock, TimerHandle } from './clock.ts';
import { withinDeadline } from './deadline.ts';
import { InvalidRecordError, LeaseExpiredError, LockConflictError, LockLostError, LockNotFoundError } from './errors.ts';
import { spreadRenewalMs } from './jitter.ts';
import type { LeaderElectionRecord } from './record.ts';
import type { LockSnapshot, ResourceLock } from './resource-lock.ts';

/** Timings and hooks a {@link HeldLease} runs with. */
export interface HeldLeaseOptions {
  lock: ResourceLock;
  clock: Clock;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** The source of the renewal spread, returning [0, 1) (default `Math.random`; fixed in tests). */
  random?: () => number;
  /** Runs once when the lease can no longer be trusted; `reason` says why. */
  onLost(reason: string): void;
  /** A failure the lease survived (a renewal that will be retried). */
  onError(error: unknown, message: string): void;
  /** Every renewal that finished, with its latency. */
  onRenewed?(durationMs: number, ok: boolean): void;
  /** Every snapshot this lease wrote or read. */
  onSnapshot?(snapshot: LockSnapshot | null): void;
}

/**
 * A lease this process holds: renews it every retryPeriod and declares it lost the moment
 * renewDeadline has passed since the start of the last successful write. Used by the elector
 * for a term and by lock handles.
 */
export class HeldLease {
  private readonly options: HeldLeaseOptions;
  /**
   * How long after a successful write the synchronous checks trust the lease: renewDeadline,
   * or less where the backend frees a silent holder's lock sooner (the lock's
   * `silentHolderTimeoutMs`: an etcd session lease, a PostgreSQL session) — a holder paused
   * past that may already have been replaced, whatever renewDeadline says.
   */
  private readonly trustMs: number;
  record: LeaderElectionRecord;
  version: string;
  /** Monotonic start of the last write that renewed (or acquired) the lease. */
  private lastWriteStart: number;
  private lostReason: string | undefined;
  private finished = false;
  private renewTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private inflight: Promise<void> | undefined;

  /** @param writeStart - monotonic time at which the acquiring write was sent. */
  constructor(options: HeldLeaseOptions, acquired: LockSnapshot, writeStart: number) {
    this.options = options;
    this.trustMs = Math.min(options.renewDeadlineMs, options.lock.silentHolderTimeoutMs ?? Number.POSITIVE_INFINITY);
    this.record = acquired.record;
    this.version = acquired.version;
    this.lastWriteStart = writeStart;
    // The deadline timer is armed when the first renewal starts (retryPeriod < renewDeadline):
    // a lease released before then — most locks — never pays for it. Until then the renewal
    // timer stands guard: run late after a pause, it finds the lease invalid and loses it.
    this.scheduleRenew(this.nextRenewalMs());
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  get fencingToken(): number {
    return this.record.fencingToken;
  }

  /** Monotonic time the last successful write (renewal or acquisition) was sent. */
  get renewedAt(): number {
    return this.lastWriteStart;
  }

  /**
   * Whether the lease can be trusted at this instant: not lost, not given up, and
   * renewDeadline not yet passed since {@link HeldLease.renewedAt} — read from the clock, so
   * it is false after a pause even before the deadline timer has run. Never awaits.
   */
  isValid(): boolean {
    return this.lostReason === undefined && !this.finished && this.options.clock.now() < this.lastWriteStart + this.trustMs;
  }

  /**
   * How much longer the lease stays valid without another successful renewal: renewDeadline
   * minus the time since {@link HeldLease.renewedAt}; 0 once lost, given up or lapsed. Read
   * from the clock, never awaits — for handing the deadline to something outside this event
   * loop (the CLI's watchdog process), which must stop work when it runs out.
   */
  validForMs(): number {
    if (this.lostReason !== undefined || this.finished) return 0;
    return Math.max(0, this.lastWriteStart + this.trustMs - this.options.clock.now());
  }

  /**
   * Throws unless {@link HeldLease.isValid}. Never awaits, writes nothing, runs no callback:
   * the timers end the lease moments later, as they would have.
   * @param subject - what the lease is held for, named in the error.
   * @throws LeaseExpiredError when renewDeadline has passed by the clock; LockLostError when
   * the lease was lost or given up.
   */
  assertValid(subject: string): void {
    if (this.lostReason !== undefined) throw new LockLostError(`${subject} was lost: ${this.lostReason}`);
    if (this.finished) throw new LockLostError(`${subject} was given up`);
    const { clock, renewDeadlineMs } = this.options;
    const overdueMs = clock.now() - (this.lastWriteStart + this.trustMs);
    if (overdueMs >= 0) {
      const bound = this.trustMs < renewDeadlineMs ? `the backend's silent-holder timeout (${this.trustMs} ms, below renewDeadline)` : `renewDeadline (${renewDeadlineMs} ms)`;
      throw new LeaseExpiredError(
        `${subject}: not renewed within ${bound} — ${Math.round(overdueMs)} ms past it; the process was probably paused`,
        overdueMs,
      );
    }
  }

  /** Ends the lease as lost (idempotent); no more writes. */
  lose(reason: string): void {
    if (this.lostReason !== undefined || this.finished) return;
    this.lostReason = reason;
    this.clearTimers();
    this.options.onLost(reason);
  }

  /**
   * Re-reads the lock after a surprise (a conflict, a foreign watch event). Keeps the lease
   * when the record is still ours, with the fresh version; loses it otherwise.
   * @returns whether the lease is still held.
   */
  async verify(): Promise<boolean> {
    const { lock } = this.options;
    try {
      const snapshot = await this.call((signal) => lock.get({ signal }));
      if (this.lost) return false;
      this.options.onSnapshot?.(snapshot);
      if (snapshot && snapshot.record.holderIdentity === lock.identity && snapshot.record.fencingToken === this.record.fencingToken) {
        this.version = snapshot.version;
        this.record = snapshot.record;
        return true;
      }
      this.lose(snapshot ? `lock taken by "${snapshot.record.holderIdentity}"` : 'lock record deleted');
    } catch (error) {
      if (error instanceof InvalidRecordError) this.lose('lock record became invalid');
      else if (!this.lost) this.options.onError(error, 'could not verify the lease');
    }
    return !this.lost;
  }

  /**
   * Stops renewing and clears the holder, so a waiter takes over at once.
   * @returns the released snapshot, or `undefined` when the lease was lost (then nothing
   * was written), the backend handed it straight to a waiter (`ResourceLock.release`: the
   * waiter writes next), or the release write failed (then it expires on its own).
   */
  async release(): Promise<LockSnapshot | undefined> {
    this.clearTimers();
    if (this.inflight) await this.settle();
    if (this.lost) return undefined;
    this.finished = true;
    const released: LeaderElectionRecord = { ...this.record, holderIdentity: '', renewTime: this.options.clock.wallNow() };
    const { lock } = this.options;
    try {
      const snapshot = await this.call((signal) =>
        lock.release !== undefined ? lock.release(released, this.version, { signal }) : lock.update(released, this.version, { signal }),
      );
      // null: handed straight to a waiter at the backend, which writes the next term itself.
      if (snapshot === null) return undefined;
      this.options.onSnapshot?.(snapshot);
      return snapshot;
    } catch (error) {
      this.options.onError(error, 'release failed; the lease will expire on its own');
      return undefined;
    }
  }

  /** Stops renewing without writing: the lease will expire on its own. */
  async abandon(): Promise<void> {
    await this.settle();
    this.finished = true;
  }

  private async settle(): Promise<void> {
    this.clearTimers();
    await this.inflight;
    this.clearTimers();
  }

  /** Once per retryPeriod, spread ({@link spreadRenewalMs}) so that leases taken together do not renew together. */
  private nextRenewalMs(): number {
    return spreadRenewalMs(this.options.retryPeriodMs, this.options.random ?? Math.random);
  }

  private scheduleRenew(delayMs: number): void {
    const { clock } = this.options;
    if (this.renewTimer !== undefined) clock.clearTimeout(this.renewTimer);
    this.renewTimer = clock.setTimeout(() => {
      this.renewTimer = undefined;
      if (this.lost || this.finished || this.inflight) return;
      // Overdue after a pause: the deadline has passed, so the lease is lost whichever of the
      // two overdue timers runs first. A renewal now would revive a term that the synchronous
      // check has already reported expired.
      if (!this.isValid()) {
        this.lose(`not renewed within renewDeadline (${this.options.renewDeadlineMs} ms)`);
        return;
      }
      if (this.deadlineTimer === undefined) this.armDeadline();
      this.inflight = this.renew().finally(() => {
        this.inflight = undefined;
      });
    }, delayMs);
  }

  private async renew(): Promise<void> {
    const { lock, clock, onRenewed } = this.options;
    const started = clock.now();
    const record: LeaderElectionRecord = { ...this.record, leaseDurationMs: this.options.leaseDurationMs, renewTime: clock.wallNow() };
    try {
      const written = await this.call((signal) => lock.update(record, this.version, { signal }));
      if (this.lost) return;
      this.record = written.record;
      this.version = written.version;
      this.lastWriteStart = started;
      this.armDeadline();
      onRenewed?.(clock.now() - started, true);
      this.options.onSnapshot?.(written);
      this.scheduleRenew(this.nextRenewalMs());
    } catch (error) {
      onRenewed?.(clock.now() - started, false);
      if (this.lost) return;
      if (error instanceof LockConflictError || error instanceof LockNotFoundError) {
        if (await this.verify()) this.scheduleRenew(0);
        return;
      }
      this.options.onError(error, 'renewal failed');
      this.scheduleRenew(Math.min(this.options.retryPeriodMs, this.timeLeft()));
    }
  }

  /** Loses the lease at renewDeadline after the last successful write began, not a moment later. */
  private armDeadline(): void {
    const { clock, renewDeadlineMs } = this.options;
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      this.lose(`not renewed within renewDeadline (${renewDeadlineMs} ms)`);
    }, this.lastWriteStart + renewDeadlineMs - clock.now());
  }

  /** Bounded by what is left of the renew deadline. */
  private call<T>(fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return withinDeadline(this.options.clock, this.timeLeft(), fn, this.options.lock);
  }

  private timeLeft(): number {
    return Math.max(1, this.lastWriteStart + this.options.renewDeadlineMs - this.options.clock.now());
  }

  private clearTimers(): void {
    const { clock } = this.options;
    if (this.renewTimer !== undefined) clock.clearTimeout(this.renewTimer);
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }
}
