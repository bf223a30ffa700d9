import { LockLostError } from './errors.ts';
import type { HeldLease } from './held-lease.ts';

/** One leadership term, handed to `onStartedLeading`. */
export interface LeaderTerm {
  /** The identity that leads. */
  readonly identity: string;
  /** Strictly larger than the token of any earlier term on this lock. */
  readonly fencingToken: number;
  /**
   * Aborted when this term ends: before any other candidate may consider the lease
   * expired, and before a graceful release is written. Stop the leader-only work on it.
   */
  readonly signal: AbortSignal;
  /** When this term began (epoch ms, this machine's clock). */
  readonly acquiredAt: number;
  /**
   * Synchronous guard for one unit of leader-only work: returns when this term still leads at
   * this instant, throws otherwise. It compares the monotonic clock with the start of the last
   * successful renewal plus renewDeadline, so it fails right after a process pause (SIGSTOP,
   * a blocked event loop) even before the term's timers have run and `signal` has aborted.
   * Never awaits; costs a clock read.
   * @throws LeaseExpiredError (a LockLostError) when renewDeadline has passed since the last
   * successful renewal began; LockLostError when the term has ended (`cause`: why).
   */
  assertLeading(): void;
  /** The boolean twin of {@link LeaderTerm.assertLeading}: true exactly when it would return. */
  isLeading(): boolean;
  /**
   * Milliseconds this term stays valid without another successful renewal (renewDeadline —
   * or the lock's `silentHolderTimeoutMs` when shorter — minus the time since the last
   * successful renewal began); 0 once it has lapsed or ended.
   * Never awaits. Hand it, with a reading of a monotonic clock taken at the same moment, to a
   * process that must stop the leader's work when the time runs out even if this one is
   * paused (what `baton run`'s watchdog does).
   */
  validForMs(): number;
}

/**
 * A term as the elector hands it out: the user's view of a held lease and of the controller
 * that ends it. @internal Made by the elector.
 */
export class Term implements LeaderTerm {
  readonly identity: string;
  readonly fencingToken: number;
  readonly acquiredAt: number;
  /** An own property (not a getter), so `{ ...term }` and destructuring keep it. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly lease: HeldLease;

  constructor(identity: string, lease: HeldLease, acquiredAt: number) {
    this.identity = identity;
    this.fencingToken = lease.fencingToken;
    this.lease = lease;
    this.acquiredAt = acquiredAt;
    this.signal = this.controller.signal;
  }

  /** Ends the term: aborts its signal with `reason` (once). */
  end(reason: Error): void {
    this.controller.abort(reason);
  }

  assertLeading(): void {
    const { signal } = this.controller;
    if (signal.aborted) {
      throw new LockLostError(`the term of "${this.identity}" (fencing token ${this.fencingToken}) has ended`, { cause: signal.reason });
    }
    this.lease.assertValid(`the term of "${this.identity}" (fencing token ${this.fencingToken})`);
  }

  isLeading(): boolean {
    return !this.controller.signal.aborted && this.lease.isValid();
  }

  validForMs(): number {
    return this.controller.signal.aborted ? 0 : this.lease.validForMs();
  }
}
