import type { Clock } from './clock.ts';
import { sameRecord } from './record.ts';
import type { LockSnapshot } from './resource-lock.ts';

/**
 * What a contender knows about a lock: the last snapshot it read and when, on its own
 * monotonic clock, that snapshot's record last changed. Expiry is judged from that moment
 * plus the duration written in the record, never from the record's timestamps.
 */
export class LeaseObserver {
  private readonly clock: Clock;
  private current: LockSnapshot | null = null;
  private changedAt = 0;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  get snapshot(): LockSnapshot | null {
    return this.current;
  }

  /** Records a read. @returns whether the record differs from the one seen before. */
  observe(snapshot: LockSnapshot | null): boolean {
    const previous = this.current;
    this.current = snapshot;
    const changed =
      snapshot === null ? previous !== null : previous === null || !sameRecord(previous.record, snapshot.record);
    if (changed) this.changedAt = this.clock.now();
    return changed;
  }

  /** Monotonic time at which the observed lease expires. */
  expiresAt(): number {
    return this.changedAt + (this.current?.record.leaseDurationMs ?? 0);
  }

  /** True when the lock is not `identity`'s to take yet: another holder's lease is still running. */
  heldByOther(identity: string): boolean {
    const snapshot = this.current;
    if (snapshot === null) return false;
    const holder = snapshot.record.holderIdentity;
    if (holder === '' || holder === identity || snapshot.holderGone) return false;
    return this.clock.now() < this.expiresAt();
  }
}
