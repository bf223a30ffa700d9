import { LockConflictError, LockNotFoundError } from '@baton/core';
import type { Clock, LeaderElectionRecord, LockCallOptions, LockSnapshot, ResourceLock, TimerHandle } from '@baton/core';
import type { SessionConnection } from './session.ts';

/** What a {@link AdvisoryHold} needs from its lock. */
export interface HoldSite {
  readonly session: SessionConnection;
  /** The session connection's generation the advisory locks were taken on. */
  readonly generation: number;
  readonly clock: Clock;
  readonly description: string;
  /** The statement that proves the session alive. */
  readonly renewStatement: string;
  /** Gives the advisory locks back (and tells the waiters). */
  unlock(): Promise<void>;
  /** Runs once, however the hold ends: released, expired, its session lost. */
  ended(): void;
  /** Registers a listener for the loss of this hold's session; returns its removal. */
  onSessionLost(listener: (reason: Error) => void): () => void;
}

/**
 * A unit of a native primitive held on a session connection's advisory locks (a permit, a
 * read, a write) as a {@link ResourceLock} (the rules are `NativePrimitives`'): `update` naming the holder renews (a statement on the session, which
 * proves the advisory locks still held), with an empty holder releases. It never outlives a
 * lease its holder stopped renewing: `leaseDurationMs` after the last renewal, its advisory
 * locks are given back even if nobody releases it.
 */
export class AdvisoryHold implements ResourceLock {
  readonly identity: string;
  private readonly site: HoldSite;
  private record: LeaderElectionRecord;
  private readonly version: string;
  private expiry: TimerHandle | undefined;
  private done = false;
  private readonly stopListening: () => void;

  constructor(site: HoldSite, identity: string, token: number, leaseDurationMs: number) {
    this.site = site;
    this.identity = identity;
    const now = site.clock.wallNow();
    this.record = { holderIdentity: identity, leaseDurationMs, acquireTime: now, renewTime: now, leaderTransitions: 0, fencingToken: token };
    this.version = String(token);
    this.stopListening = site.onSessionLost(() => this.finish());
    this.arm(leaseDurationMs);
  }

  get snapshot(): LockSnapshot {
    return { record: this.record, version: this.version };
  }

  describe(): string {
    return `${this.site.description} held by "${this.identity}"`;
  }

  async get(): Promise<LockSnapshot | null> {
    return this.live() ? this.snapshot : null;
  }

  create(): Promise<LockSnapshot> {
    return Promise.reject(new LockConflictError(`${this.describe()}: a unit of a primitive is never created, only granted`));
  }

  async update(record: LeaderElectionRecord, _expectedVersion: string, _options?: LockCallOptions): Promise<LockSnapshot> {
    if (!this.live()) throw new LockNotFoundError(`${this.describe()}: no longer held`);
    if (record.holderIdentity === '') {
      this.finish();
      await this.site.unlock();
      return { record: { ...record, fencingToken: this.record.fencingToken }, version: this.version };
    }
    if (record.holderIdentity !== this.identity) throw new LockConflictError(`${this.describe()}: only its holder renews it`);
    const { session, generation, renewStatement } = this.site;
    await session.query(generation, renewStatement, []);
    if (!this.live()) throw new LockNotFoundError(`${this.describe()}: no longer held`);
    this.record = { ...record, fencingToken: this.record.fencingToken };
    this.arm(record.leaseDurationMs);
    return this.snapshot;
  }

  onSessionLost(listener: (reason: Error) => void): () => void {
    return this.site.onSessionLost(listener);
  }

  /** Gives the locks back if the holder never did (a lost handle released, or dropped). */
  async close(): Promise<void> {
    if (!this.live()) return;
    this.finish();
    await this.site.unlock().catch(() => {});
  }

  private live(): boolean {
    return !this.done && this.site.session.liveGeneration === this.site.generation;
  }

  /** Gives the locks back `ms` from now unless renewed meanwhile. */
  private arm(ms: number): void {
    const { clock } = this.site;
    if (this.expiry !== undefined) clock.clearTimeout(this.expiry);
    this.expiry = clock.setTimeout(() => {
      this.expiry = undefined;
      void this.close();
    }, ms);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.expiry !== undefined) this.site.clock.clearTimeout(this.expiry);
    this.expiry = undefined;
    this.stopListening();
    this.site.ended();
  }
}
