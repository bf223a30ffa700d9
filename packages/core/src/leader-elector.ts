import type { Clock, TimerHandle } from './clock.ts';
import { JITTER_FACTOR, resolveElectorConfig } from './config.ts';
import type { LeaderElectorConfig, LeaderTerm, ResolvedElectorConfig } from './config.ts';
import { withDeadline } from './deadline.ts';
import { BatonError, InvalidRecordError, LockConflictError, LockLostError, LockNotFoundError } from './errors.ts';
import type { LeaderElectionRecord } from './record.ts';
import { sameRecord } from './record.ts';
import type { LockSnapshot } from './resource-lock.ts';

/** Where an elector is in its life. */
export type ElectorState = 'idle' | 'candidate' | 'leader' | 'stopping' | 'stopped';

/** Result of {@link LeaderElector.checkHealth}. */
export type HealthStatus = { healthy: true } | { healthy: false; reason: string };

type AttemptOutcome = 'acquired' | 'held' | 'conflict' | 'error';

interface ActiveTerm {
  readonly term: LeaderTerm;
  readonly controller: AbortController;
  /** What onStartedLeading returned, settled either way. */
  readonly work: Promise<void>;
  record: LeaderElectionRecord;
  version: string;
  /** Monotonic start of the last write that renewed (or acquired) the lease. */
  renewedAt: number;
  /** Set once the term can no longer be renewed or released. */
  lost: boolean;
}

/**
 * Campaigns for leadership on a {@link ResourceLock} and runs the caller's work while it leads.
 * See the package documentation for the timing guarantees.
 */
export class LeaderElector {
  private readonly config: ResolvedElectorConfig;
  private readonly clock: Clock;
  private state: ElectorState = 'idle';

  private observed: LockSnapshot | null = null;
  /** Monotonic time at which the observed record last changed. */
  private observedAt = 0;
  /** Monotonic time at which the lock was first seen free, for the handover measurement. */
  private freeSince: number | undefined;
  private reportedLeader = '';
  private highestToken = 0;

  private active: ActiveTerm | undefined;
  private attemptTimer: TimerHandle | undefined;
  private renewTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private inflight: Promise<void> | undefined;
  private attemptRequested = false;
  private consecutiveConflicts = 0;

  private watchHealthy = false;
  private readonly cleanups: Array<() => void> = [];
  private readonly stopController = new AbortController();
  private finished: (() => void) | undefined;

  /** @throws ConfigError when the config is invalid; nothing has started then. */
  constructor(config: LeaderElectorConfig) {
    this.config = resolveElectorConfig(config);
    this.clock = this.config.clock;
  }

  /** The identity this elector campaigns under. */
  get identity(): string {
    return this.config.lock.identity;
  }

  /** The elector's current state. */
  getState(): ElectorState {
    return this.state;
  }

  /** True while this elector holds a term whose signal is not aborted. */
  isLeader(): boolean {
    return this.state === 'leader';
  }

  /** The holder last observed on the lock, or `null` when none was seen or it was released. */
  getLeader(): string | null {
    const holder = this.observed?.record.holderIdentity;
    return holder === undefined || holder === '' ? null : holder;
  }

  /**
   * client-go's HealthzAdaptor: unhealthy when this elector believes it leads but its lease
   * has been expired for longer than `toleranceMs` (its timers are not running, e.g. a
   * blocked event loop). Followers are always healthy.
   */
  checkHealth(toleranceMs = 0): HealthStatus {
    const active = this.active;
    if (this.state !== 'leader' || active === undefined) return { healthy: true };
    const overdue = this.clock.now() - (active.renewedAt + this.config.leaseDurationMs);
    if (overdue > toleranceMs) {
      return { healthy: false, reason: `leader failed to renew its lease: expired ${Math.round(overdue)} ms ago` };
    }
    return { healthy: true };
  }

  /**
   * Campaigns until `signal` aborts, then stops gracefully (see `releaseOnCancel`).
   * The promise resolves once everything has settled and never rejects: errors go to
   * `onError` and the logger. An elector runs once.
   */
  run(signal?: AbortSignal): Promise<void> {
    if (this.state !== 'idle') {
      return Promise.reject(new BatonError('ELECTOR_REUSED', 'a LeaderElector runs once; create a new one'));
    }
    this.state = 'candidate';
    const done = new Promise<void>((resolve) => {
      this.finished = resolve;
    });
    const { lock } = this.config;
    if (this.config.watch && lock.watch) {
      this.cleanups.push(
        lock.watch({
          onChange: (snapshot) => this.onWatchChange(snapshot),
          onHealth: (healthy) => this.onWatchHealth(healthy),
        }),
      );
    }
    if (lock.onSessionLost) {
      this.cleanups.push(lock.onSessionLost((reason) => this.loseTerm(`session lost: ${reason.message}`)));
    }
    if (signal) {
      const onAbort = (): void => void this.shutdown();
      signal.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    this.log('info', 'campaigning', {});
    if (signal?.aborted) void this.shutdown();
    else this.requestAttempt(0);
    return done;
  }

  // ---- candidate ------------------------------------------------------------------------

  private requestAttempt(delayMs: number): void {
    this.clearTimer('attemptTimer');
    if (delayMs <= 0) {
      this.startAttempt();
      return;
    }
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = undefined;
      this.startAttempt();
    }, delayMs);
  }

  private startAttempt(): void {
    if (this.state !== 'candidate') return;
    if (this.inflight) {
      this.attemptRequested = true;
      return;
    }
    this.attemptRequested = false;
    this.track(this.tryAcquire(), (outcome) => this.scheduleNextAttempt(outcome));
  }

  /**
   * Runs one backend operation at a time. When it ends, a candidate whose attempt was asked
   * for meanwhile tries at once; otherwise `next` decides.
   */
  private track<T>(operation: Promise<T>, next?: (result: T) => void): void {
    this.inflight = operation.then((result) => {
      this.inflight = undefined;
      if (this.state !== 'candidate') return;
      if (this.attemptRequested) this.requestAttempt(0);
      else next?.(result);
    });
  }

  private async tryAcquire(): Promise<AttemptOutcome> {
    const { lock, metrics, name } = this.config;
    const started = this.clock.now();
    const report = (outcome: AttemptOutcome): AttemptOutcome => {
      metrics.acquireAttempted?.(name, this.clock.now() - started, outcome === 'acquired');
      return outcome;
    };
    try {
      // A candidate's calls only affect how soon it may lead, so they get one retry period.
      const snapshot = await this.call((signal) => lock.get({ signal }), this.config.retryPeriodMs);
      this.observe(snapshot);
      if (snapshot !== null && this.heldByOther(snapshot)) return report('held');

      const record = this.acquisitionRecord(snapshot?.record ?? null);
      const writeStart = this.clock.now();
      const written = await this.call(
        (signal) => (snapshot === null ? lock.create(record, { signal }) : lock.update(record, snapshot.version, { signal })),
        this.config.retryPeriodMs,
      );
      if (this.state !== 'candidate') {
        // Stopped while the write was in flight: we hold a lease nobody runs work under.
        await this.releaseAbandoned(written);
        return report('error');
      }
      this.becomeLeader(written, writeStart);
      return report('acquired');
    } catch (error) {
      if (error instanceof LockConflictError || error instanceof LockNotFoundError) {
        this.log('debug', 'lost an acquisition race', { error: String(error) });
        return report('conflict');
      }
      if (this.state === 'candidate') this.reportError(error, 'acquire attempt failed');
      return report('error');
    }
  }

  /** Where the next try goes: at the observed lease's expiry, or the jittered retry period. */
  private scheduleNextAttempt(outcome: AttemptOutcome): void {
    if (outcome === 'conflict' && ++this.consecutiveConflicts <= 3) {
      // Someone else just wrote: read again at once to learn who.
      this.requestAttempt(0);
      return;
    }
    if (outcome !== 'conflict') this.consecutiveConflicts = 0;
    const retry = this.jitteredRetry();
    if (outcome !== 'held') {
      this.requestAttempt(retry);
      return;
    }
    const untilExpiry = Math.max(1, this.expiresAt() - this.clock.now());
    this.requestAttempt(this.watchHealthy ? untilExpiry : Math.min(retry, untilExpiry));
  }

  private heldByOther(snapshot: LockSnapshot): boolean {
    const holder = snapshot.record.holderIdentity;
    if (holder === '' || holder === this.identity || snapshot.holderGone) return false;
    return this.clock.now() < this.expiresAt();
  }

  /** Monotonic time at which the observed lease expires: when we saw it change, plus its own duration. */
  private expiresAt(): number {
    return this.observedAt + (this.observed?.record.leaseDurationMs ?? 0);
  }

  private acquisitionRecord(previous: LeaderElectionRecord | null): LeaderElectionRecord {
    const now = this.clock.wallNow();
    return {
      holderIdentity: this.identity,
      leaseDurationMs: this.config.leaseDurationMs,
      acquireTime: now,
      renewTime: now,
      leaderTransitions:
        previous === null ? 0 : previous.holderIdentity === this.identity ? previous.leaderTransitions : previous.leaderTransitions + 1,
      fencingToken: Math.max(previous?.fencingToken ?? 0, this.highestToken) + 1,
    };
  }

  private jitteredRetry(): number {
    return this.config.retryPeriodMs * (1 + JITTER_FACTOR * this.config.random());
  }

  // ---- observing --------------------------------------------------------------------------

  private observe(snapshot: LockSnapshot | null): void {
    const previous = this.observed;
    this.observed = snapshot;
    if (snapshot === null) {
      if (previous !== null) this.observedAt = this.clock.now();
      this.freeSince ??= this.clock.now();
      return;
    }
    const { record } = snapshot;
    if (previous === null || !sameRecord(previous.record, record)) this.observedAt = this.clock.now();
    this.highestToken = Math.max(this.highestToken, record.fencingToken);
    const now = this.clock.now();
    const free = record.holderIdentity === '' || snapshot.holderGone === true || now >= this.expiresAt();
    if (free) this.freeSince ??= Math.min(now, this.expiresAt());
    else if (record.holderIdentity !== this.identity) this.freeSince = undefined;
    if (record.holderIdentity !== '' && record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      this.log('info', 'new leader observed', { leader: record.holderIdentity });
      this.invoke('onNewLeader', () => this.config.callbacks.onNewLeader?.(record.holderIdentity));
    }
  }

  private onWatchChange(snapshot: LockSnapshot | null | undefined): void {
    if (this.state === 'candidate') {
      if (snapshot === undefined) {
        this.requestAttempt(0);
        return;
      }
      this.observe(snapshot);
      if (snapshot === null || !this.heldByOther(snapshot)) this.requestAttempt(0);
      else if (!this.inflight) this.scheduleNextAttempt('held');
      return;
    }
    const active = this.active;
    if (active && !active.lost && (this.state === 'leader' || this.state === 'stopping')) {
      const ours =
        snapshot !== undefined &&
        snapshot !== null &&
        snapshot.record.holderIdentity === this.identity &&
        snapshot.record.fencingToken === active.record.fencingToken;
      // Watch events may arrive late, so a foreign-looking one is checked with a fresh read.
      if (!ours) void this.verifyTerm(active);
    }
  }

  private onWatchHealth(healthy: boolean): void {
    if (this.watchHealthy === healthy) return;
    this.watchHealthy = healthy;
    this.log('debug', healthy ? 'watch established' : 'watch broken, polling', {});
    // A change may have been missed while the watch was down (or before it started).
    if (this.state === 'candidate') this.requestAttempt(healthy ? 0 : this.jitteredRetry());
  }

  // ---- leading ----------------------------------------------------------------------------

  private becomeLeader(written: LockSnapshot, writeStart: number): void {
    const { callbacks, metrics, name } = this.config;
    this.clearTimer('attemptTimer');
    this.attemptRequested = false;
    const controller = new AbortController();
    const term: LeaderTerm = {
      identity: this.identity,
      fencingToken: written.record.fencingToken,
      signal: controller.signal,
      acquiredAt: this.clock.wallNow(),
    };
    if (this.freeSince !== undefined) metrics.handover?.(name, this.clock.now() - this.freeSince);
    this.freeSince = undefined;
    this.observe(written);
    this.state = 'leader';
    const work = Promise.resolve()
      .then(() => callbacks.onStartedLeading(term))
      .then(
        () => undefined,
        (error: unknown) => this.reportError(error, 'onStartedLeading failed'),
      );
    this.active = { term, controller, work, record: written.record, version: written.version, renewedAt: writeStart, lost: false };
    this.armDeadline(this.active);
    this.scheduleRenew(this.config.retryPeriodMs);
    metrics.leadershipChanged?.(name, true);
    this.log('info', 'started leading', { fencingToken: term.fencingToken });
  }

  private scheduleRenew(delayMs: number): void {
    this.clearTimer('renewTimer');
    this.renewTimer = this.clock.setTimeout(() => {
      this.renewTimer = undefined;
      const active = this.active;
      if (active && !active.lost && !this.inflight) this.track(this.renew(active));
    }, delayMs);
  }

  private async renew(active: ActiveTerm): Promise<void> {
    const { lock, metrics, name } = this.config;
    const started = this.clock.now();
    const record: LeaderElectionRecord = { ...active.record, leaseDurationMs: this.config.leaseDurationMs, renewTime: this.clock.wallNow() };
    try {
      const written = await this.call((signal) => lock.update(record, active.version, { signal }), this.timeLeft(active));
      if (active.lost) return;
      active.record = written.record;
      active.version = written.version;
      active.renewedAt = started;
      this.observe(written);
      this.armDeadline(active);
      metrics.renewed?.(name, this.clock.now() - started, true);
      this.scheduleRenew(this.config.retryPeriodMs);
    } catch (error) {
      metrics.renewed?.(name, this.clock.now() - started, false);
      if (active.lost) return;
      if (error instanceof LockConflictError || error instanceof LockNotFoundError) {
        if (await this.verifyTerm(active)) this.scheduleRenew(0);
        return;
      }
      this.reportError(error, 'renewal failed');
      this.scheduleRenew(Math.min(this.config.retryPeriodMs, this.timeLeft(active)));
    }
  }

  /**
   * Re-reads the lock after a surprise (a conflict, a foreign watch event). Keeps the term
   * when the record is still ours, with the fresh version; loses it otherwise.
   * @returns whether the term is still held.
   */
  private async verifyTerm(active: ActiveTerm): Promise<boolean> {
    try {
      const snapshot = await this.call((signal) => this.config.lock.get({ signal }), this.timeLeft(active));
      if (active.lost) return false;
      if (snapshot && snapshot.record.holderIdentity === this.identity && snapshot.record.fencingToken === active.record.fencingToken) {
        active.version = snapshot.version;
        active.record = snapshot.record;
        return true;
      }
      this.observe(snapshot);
      this.loseTerm(snapshot ? `lock taken by "${snapshot.record.holderIdentity}"` : 'lock record deleted');
    } catch (error) {
      if (active.lost) return false;
      if (error instanceof InvalidRecordError) this.loseTerm('lock record became invalid');
      else this.reportError(error, 'could not verify leadership');
      return !active.lost;
    }
    return false;
  }

  private timeLeft(active: ActiveTerm): number {
    return Math.max(1, active.renewedAt + this.config.renewDeadlineMs - this.clock.now());
  }

  /** Steps down at renewDeadline after the last successful renewal began, not a moment later. */
  private armDeadline(active: ActiveTerm): void {
    this.clearTimer('deadlineTimer');
    this.deadlineTimer = this.clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      this.loseTerm(`not renewed within renewDeadline (${this.config.renewDeadlineMs} ms)`);
    }, active.renewedAt + this.config.renewDeadlineMs - this.clock.now());
  }

  /** Ends the term because the lease can no longer be trusted. */
  private loseTerm(reason: string): void {
    const active = this.active;
    if (!active || active.lost) return;
    active.lost = true;
    this.clearTimer('renewTimer');
    this.clearTimer('deadlineTimer');
    if (this.state === 'stopping') {
      this.log('warn', 'lease lost while stopping; it will not be released', { reason });
      return;
    }
    this.endTerm(new LockLostError(reason));
    this.active = undefined;
    this.invoke('onStoppedLeading', () => this.config.callbacks.onStoppedLeading?.());
    this.state = 'candidate';
    this.requestAttempt(this.jitteredRetry());
  }

  /** Flips status to not-leader and aborts the term's signal, before anything is written. */
  private endTerm(reason: Error): void {
    const active = this.active!;
    const wasLeading = this.state === 'leader';
    if (this.state === 'leader') this.state = 'candidate';
    active.controller.abort(reason);
    if (wasLeading) {
      this.config.metrics.leadershipChanged?.(this.config.name, false);
      this.log('info', 'stopped leading', { reason: reason.message });
    }
  }

  // ---- stopping ---------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.clearTimer('attemptTimer');
    const active = this.active;
    if (this.state === 'leader' && active) {
      this.endTerm(new BatonError('ELECTOR_STOPPED', 'elector stopped'));
      this.state = 'stopping';
      const settled = await this.settleWithin(active.work, this.config.shutdownGracePeriodMs);
      if (!settled) {
        this.log('warn', 'leader work did not finish within shutdownGracePeriod; the lease is left to expire', {
          graceMs: this.config.shutdownGracePeriodMs,
        });
      }
      this.clearTimer('renewTimer');
      await this.inflight;
      this.clearTimer('deadlineTimer');
      if (settled && !active.lost && this.config.releaseOnCancel) await this.release(active);
      active.lost = true;
      this.active = undefined;
      this.invoke('onStoppedLeading', () => this.config.callbacks.onStoppedLeading?.());
    } else {
      this.state = 'stopping';
      this.stopController.abort();
      await this.inflight;
    }
    this.clearTimer('renewTimer');
    this.clearTimer('deadlineTimer');
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error) {
        this.reportError(error, 'cleanup failed');
      }
    }
    this.state = 'stopped';
    this.log('info', 'stopped', {});
    this.finished?.();
  }

  /** Clears the holder so a follower can take over without waiting for expiry. */
  private async release(active: ActiveTerm): Promise<void> {
    const record: LeaderElectionRecord = { ...active.record, holderIdentity: '', renewTime: this.clock.wallNow() };
    try {
      await this.call((signal) => this.config.lock.update(record, active.version, { signal }), this.timeLeft(active));
      this.log('info', 'released the lease', {});
    } catch (error) {
      this.reportError(error, 'release failed; the lease will expire on its own');
    }
  }

  /** A write that won the lock after stop began: give it back rather than hold it idle. */
  private async releaseAbandoned(written: LockSnapshot): Promise<void> {
    if (!this.config.releaseOnCancel) return;
    const record = { ...written.record, holderIdentity: '', renewTime: this.clock.wallNow() };
    try {
      await withDeadline(this.clock, this.config.renewDeadlineMs, (signal) => this.config.lock.update(record, written.version, { signal }));
    } catch (error) {
      this.reportError(error, 'release failed; the lease will expire on its own');
    }
  }

  private settleWithin(work: Promise<void>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      void work.then(() => {
        this.clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** A backend call bounded by `ms` and cancelled when a candidate stops. */
  private call<T>(fn: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
    const cancel = this.state === 'candidate' ? this.stopController.signal : undefined;
    return withDeadline(this.clock, ms, fn, cancel);
  }

  private clearTimer(which: 'attemptTimer' | 'renewTimer' | 'deadlineTimer'): void {
    const handle = this[which];
    if (handle !== undefined) this.clock.clearTimeout(handle);
    this[which] = undefined;
  }

  private invoke(callback: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.reportError(error, `${callback} threw`);
    }
  }

  private reportError(error: unknown, message: string): void {
    this.log('warn', message, { error: error instanceof Error ? error.message : String(error) });
    try {
      this.config.onError(error);
    } catch {
      // An onError that throws must not take the elector down with it.
    }
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: object): void {
    this.config.logger[level]({ lock: this.config.name, identity: this.identity, ...fields }, message);
  }
}
