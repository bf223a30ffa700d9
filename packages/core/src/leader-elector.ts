import type { Clock, TimerHandle } from './clock.ts';
import { resolveElectorConfig } from './config.ts';
import type { LeaderElectorConfig, ResolvedElectorConfig } from './config.ts';
import { Contender } from './contender.ts';
import type { MissedOutcome } from './contender.ts';
import { settlesWithin, withDeadline } from './deadline.ts';
import { BatonError, LockLostError } from './errors.ts';
import { HeldLease } from './held-lease.ts';
import { Term } from './leader-term.ts';
import { PermanentFailures } from './permanent-failures.ts';
import type { LockSnapshot } from './resource-lock.ts';

/** Where an elector is in its life. */
export type ElectorState = 'idle' | 'candidate' | 'leader' | 'stopping' | 'stopped';

/** Result of {@link LeaderElector.checkHealth}. */
export type HealthStatus = { healthy: true } | { healthy: false; reason: string };

type AttemptOutcome = 'acquired' | MissedOutcome | 'error';

interface ActiveTerm {
  readonly term: Term;
  readonly lease: HeldLease;
  /** What onStartedLeading returned, settled either way. */
  readonly work: Promise<void>;
}

/**
 * Campaigns for leadership on a {@link ResourceLock} and runs the caller's work while it leads.
 * See the package documentation for the timing guarantees.
 */
export class LeaderElector {
  private readonly config: ResolvedElectorConfig;
  private readonly clock: Clock;
  /** The acquisition path, shared with the other primitives: what we know of the lock, and attempts. */
  private readonly contender: Contender;
  private state: ElectorState = 'idle';

  /** Monotonic time at which the lock was first seen free, for the handover measurement. */
  private freeSince: number | undefined;
  private reportedLeader = '';

  private active: ActiveTerm | undefined;
  private attemptTimer: TimerHandle | undefined;
  private inflight: Promise<void> | undefined;
  private attemptRequested = false;

  private readonly failures: PermanentFailures;
  private gaveUpWith: BatonError | undefined;

  private readonly cleanups: Array<() => void> = [];
  private readonly stopController = new AbortController();
  private finished: (() => void) | undefined;

  /** @throws ConfigError when the config is invalid; nothing has started then. */
  constructor(config: LeaderElectorConfig) {
    this.config = resolveElectorConfig(config);
    const { clock, leaseDurationMs, retryPeriodMs, random } = this.config;
    this.clock = clock;
    this.contender = new Contender({ clock, leaseDurationMs, retryPeriodMs, random, onObserved: (snapshot) => this.noticed(snapshot) });
    this.failures = new PermanentFailures(clock, this.config.giveUpAfterMs);
  }

  /** Set when the elector stopped campaigning on permanent errors (see `giveUpAfter`). */
  get gaveUp(): BatonError | undefined {
    return this.gaveUpWith;
  }

  /** The identity this elector campaigns under. */
  get identity(): string {
    return this.config.lock.identity;
  }

  /** The elector's current state. */
  getState(): ElectorState {
    return this.state;
  }

  /**
   * True while this elector holds a term whose signal is not aborted and whose last successful
   * renewal began less than renewDeadline ago by the clock (false right after a process pause,
   * before the timers have run). To guard a unit of work, use the term's `assertLeading()`.
   */
  isLeader(): boolean {
    return this.state === 'leader' && this.active !== undefined && this.active.lease.isValid();
  }

  /** The holder last observed on the lock, or `null` when none was seen or it was released. */
  getLeader(): string | null {
    const holder = this.contender.snapshot?.record.holderIdentity;
    return holder === undefined || holder === '' ? null : holder;
  }

  /** Readiness: unhealthy while attempts keep failing with a permanent error (see `giveUpAfter`). */
  checkReady(): HealthStatus {
    const failing = this.failures.ongoing;
    const reason = failing instanceof Error ? failing.message : String(failing);
    return failing === undefined ? { healthy: true } : { healthy: false, reason: `failing with a permanent error: ${reason}` };
  }

  /**
   * client-go's HealthzAdaptor: unhealthy when this elector believes it leads but its lease
   * has been expired for longer than `toleranceMs` (its timers are not running, e.g. a
   * blocked event loop). Followers are always healthy.
   */
  checkHealth(toleranceMs = 0): HealthStatus {
    const active = this.active;
    if (this.state !== 'leader' || active === undefined) return { healthy: true };
    const overdue = this.clock.now() - (active.lease.renewedAt + this.config.leaseDurationMs);
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
      this.cleanups.push(lock.onSessionLost((reason) => this.active?.lease.lose(`session lost: ${reason.message}`)));
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
    this.clearAttemptTimer();
    if (delayMs <= 0) {
      this.startAttempt();
      return;
    }
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = undefined;
      this.startAttempt();
    }, delayMs);
  }

  /** One attempt at a time; one asked for meanwhile runs right after. */
  private startAttempt(): void {
    if (this.state !== 'candidate') return;
    if (this.inflight) {
      this.attemptRequested = true;
      return;
    }
    this.attemptRequested = false;
    this.inflight = this.tryAcquire().then((outcome) => {
      this.inflight = undefined;
      if (this.state !== 'candidate' || outcome === 'acquired') return;
      this.requestAttempt(this.attemptRequested ? 0 : this.contender.delayAfter(outcome));
    });
  }

  private async tryAcquire(): Promise<AttemptOutcome> {
    const { lock, metrics, name } = this.config;
    const started = this.clock.now();
    let outcome: AttemptOutcome;
    try {
      const attempt = await this.contender.attempt(lock, this.stopController.signal);
      if (!attempt.acquired) {
        outcome = attempt.outcome;
        if (outcome === 'conflict') this.log('debug', 'lost an acquisition race', {});
      } else if (this.state !== 'candidate') {
        // Stopped while the write was in flight: we hold a lease nobody runs work under.
        await this.releaseAbandoned(attempt.snapshot);
        outcome = 'error';
      } else {
        this.becomeLeader(attempt.snapshot, attempt.writeStart);
        outcome = 'acquired';
      }
    } catch (error) {
      if (this.state === 'candidate') this.failedAttempt(error);
      outcome = 'error';
    }
    if (outcome !== 'error') this.failures.recovered();
    metrics.acquireAttempted?.(name, this.clock.now() - started, outcome === 'acquired');
    return outcome;
  }

  private failedAttempt(error: unknown): void {
    this.reportError(error, 'acquire attempt failed');
    const gaveUp = this.failures.failed(error);
    if (gaveUp === undefined) return;
    this.gaveUpWith = gaveUp;
    this.reportError(gaveUp, 'giving up: permanent errors for longer than giveUpAfter');
    void this.shutdown();
  }

  // ---- observing --------------------------------------------------------------------------

  /** Every snapshot the contender observed: the handover clock and `onNewLeader`. */
  private noticed(snapshot: LockSnapshot | null): void {
    const now = this.clock.now();
    if (this.state !== 'candidate') this.freeSince = undefined;
    else if (snapshot === null) this.freeSince ??= now;
    else if (!this.contender.heldByOther(this.identity)) this.freeSince ??= Math.min(now, this.contender.expiresAt());
    else this.freeSince = undefined;
    const holder = snapshot?.record.holderIdentity ?? '';
    if (holder !== '' && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      this.log('info', 'new leader observed', { leader: holder });
      this.invoke('onNewLeader', () => this.config.callbacks.onNewLeader?.(holder));
    }
  }

  private onWatchChange(snapshot: LockSnapshot | null | undefined): void {
    if (this.state === 'candidate') {
      this.contender.offer(snapshot);
      if (snapshot !== undefined && this.contender.heldByOther(this.identity)) {
        // Held (a renewal, say): only the moment of expiry moved.
        if (!this.inflight) this.requestAttempt(this.contender.delayAfter('held'));
        return;
      }
      // Free, or "read again". A stale event only costs a conflict, after which the lock is read.
      this.requestAttempt(0);
      return;
    }
    const lease = this.active?.lease;
    if (lease && !lease.lost) {
      const ours =
        snapshot !== undefined &&
        snapshot !== null &&
        snapshot.record.holderIdentity === this.identity &&
        snapshot.record.fencingToken === lease.fencingToken;
      // Watch events may arrive late, so a foreign-looking one is checked with a fresh read.
      if (!ours) void lease.verify();
    }
  }

  private onWatchHealth(healthy: boolean): void {
    if (this.contender.watchHealthy === healthy) return;
    this.contender.setWatchHealthy(healthy);
    this.log('debug', healthy ? 'watch established' : 'watch broken, polling', {});
    // A change may have been missed while the watch was down (or before it started):
    // a candidate reads again, a leader checks its term is still its own.
    if (this.state === 'candidate') this.requestAttempt(healthy ? 0 : this.contender.retryDelay());
    else if (healthy) void this.active?.lease.verify();
  }

  // ---- leading ----------------------------------------------------------------------------

  private becomeLeader(written: LockSnapshot, writeStart: number): void {
    const { callbacks, metrics, name } = this.config;
    this.clearAttemptTimer();
    this.attemptRequested = false;
    if (this.freeSince !== undefined) metrics.handover?.(name, this.clock.now() - this.freeSince);
    this.state = 'leader';
    this.freeSince = undefined;

    const lease = new HeldLease(
      {
        lock: this.config.lock,
        clock: this.clock,
        leaseDurationMs: this.config.leaseDurationMs,
        renewDeadlineMs: this.config.renewDeadlineMs,
        retryPeriodMs: this.config.retryPeriodMs,
        random: this.config.random,
        onLost: (reason) => this.onLeaseLost(reason),
        onError: (error, message) => this.reportError(error, message),
        onRenewed: (ms, ok) => metrics.renewed?.(name, ms, ok),
        onSnapshot: (snapshot) => this.contender.observe(snapshot),
      },
      written,
      writeStart,
    );
    const term = new Term(this.identity, lease, this.clock.wallNow());
    const work = Promise.resolve()
      .then(() => callbacks.onStartedLeading(term))
      .then(
        () => undefined,
        (error: unknown) => this.reportError(error, 'onStartedLeading failed'),
      );
    this.active = { term, lease, work };
    metrics.leadershipChanged?.(name, true);
    this.log('info', 'started leading', { fencingToken: term.fencingToken });
  }

  /** The lease can no longer be trusted: end the term, and campaign again unless stopping. */
  private onLeaseLost(reason: string): void {
    if (this.state === 'stopping') {
      this.log('warn', 'lease lost while stopping; it will not be released', { reason });
      return;
    }
    this.endTerm(new LockLostError(reason));
    this.active = undefined;
    this.invoke('onStoppedLeading', () => this.config.callbacks.onStoppedLeading?.());
    this.requestAttempt(this.contender.retryDelay());
  }

  /** Flips status to not-leader and aborts the term's signal, before anything is written. */
  private endTerm(reason: Error): void {
    this.state = 'candidate';
    this.active!.term.end(reason);
    this.config.metrics.leadershipChanged?.(this.config.name, false);
    this.log('info', 'stopped leading', { reason: reason.message });
  }

  // ---- stopping ---------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.clearAttemptTimer();
    const active = this.active;
    if (this.state === 'leader' && active) {
      this.endTerm(new BatonError('ELECTOR_STOPPED', 'elector stopped'));
      this.state = 'stopping';
      // The lease keeps renewing while the work drains, so nobody else starts meanwhile.
      const settled = await settlesWithin(this.clock, active.work, this.config.shutdownGracePeriodMs);
      if (!settled) {
        this.log('warn', 'leader work did not finish within shutdownGracePeriod; the lease is left to expire', { graceMs: this.config.shutdownGracePeriodMs });
      }
      // Before the release: a backend may hand the lock to a waiter within the release call.
      this.invoke('onStoppedLeading', () => this.config.callbacks.onStoppedLeading?.());
      if (settled && this.config.releaseOnCancel && (await active.lease.release())) this.log('info', 'released the lease', {});
      else await active.lease.abandon();
      this.active = undefined;
    } else {
      this.state = 'stopping';
      this.stopController.abort();
      await this.inflight;
    }
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

  // ---- plumbing ---------------------------------------------------------------------------

  private clearAttemptTimer(): void {
    if (this.attemptTimer !== undefined) this.clock.clearTimeout(this.attemptTimer);
    this.attemptTimer = undefined;
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
