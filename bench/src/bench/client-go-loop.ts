import type { LeaderElectionRecord, LeaseTimings, ResourceLock } from '@baton/core';
import { LockConflictError } from '@baton/core';
import { sleep } from '../lib/clock.ts';

/** client-go's `wait.JitterUntil` jitter factor for the acquire loop (`JitterFactor = 1.2`). */
const CLIENT_GO_JITTER = 1.2;

/**
 * A polling baseline that reproduces client-go's `tools/leaderelection` loop on a baton
 * `ResourceLock` — the traffic a Go controller puts on the backend, for comparison with baton's
 * own elector with its watch off (which, unlike this, schedules its next try at the observed
 * expiry rather than on a fixed tick):
 * - **acquire** (followers): `wait.JitterUntil(tryAcquireOrRenew, retryPeriod, 1.2, sliding)`:
 *   one `get` per try, then a wait of `retryPeriod × (1 + 1.2 × rand)` — on average 1.6 ×
 *   retryPeriod between reads; a follower takes the lock once its local observation is older
 *   than leaseDuration (`create`/`update`);
 * - **renew** (the leader): `wait.PollImmediateUntil(retryPeriod, tryAcquireOrRenew)` with no
 *   jitter; since client-go 1.27 a leader whose lease is still valid updates its observed
 *   record directly, without a `get` first — one `update` per retryPeriod.
 * Only the request pattern is reproduced: no callbacks, no release, no fencing.
 */
export class ClientGoLoop {
  private readonly lock: ResourceLock;
  private readonly timings: LeaseTimings;
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private observed: { record: LeaderElectionRecord; version: string; at: number } | undefined;
  leading = false;

  constructor(lock: ResourceLock, timings: LeaseTimings) {
    this.lock = lock;
    this.timings = timings;
  }

  run(): this {
    this.running = this.loop(this.controller.signal);
    return this;
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
    await this.lock.close?.();
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs } = this.timings;
    while (!signal.aborted) {
      await this.tryAcquireOrRenew().catch(() => {});
      const wait = this.leading ? retryPeriodMs : retryPeriodMs * (1 + CLIENT_GO_JITTER * Math.random());
      await sleep(wait, signal);
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = Date.now();
    const me = this.lock.identity;
    if (this.leading && this.observed) {
      // The 1.27+ fast path: renew the record we hold without reading it first.
      const renewed = { ...this.observed.record, renewTime: now };
      try {
        const snapshot = await this.lock.update(renewed, this.observed.version);
        this.observed = { record: snapshot.record, version: snapshot.version, at: performance.now() };
        return;
      } catch (error) {
        this.leading = false;
        if (!(error instanceof LockConflictError)) throw error;
      }
    }
    const current = await this.lock.get();
    const fresh: LeaderElectionRecord = {
      holderIdentity: me,
      leaseDurationMs: this.timings.leaseDurationMs,
      acquireTime: now,
      renewTime: now,
      leaderTransitions: 0,
      fencingToken: 1,
    };
    if (current === null) {
      const created = await this.lock.create(fresh);
      this.observed = { record: created.record, version: created.version, at: performance.now() };
      this.leading = true;
      return;
    }
    if (this.observed?.version !== current.version) this.observed = { record: current.record, version: current.version, at: performance.now() };
    const holder = current.record.holderIdentity;
    const expired = performance.now() - this.observed.at > current.record.leaseDurationMs;
    if (holder !== '' && holder !== me && !expired) return;
    const next: LeaderElectionRecord = {
      ...fresh,
      acquireTime: holder === me ? current.record.acquireTime : now,
      leaderTransitions: current.record.leaderTransitions + (holder === me ? 0 : 1),
      fencingToken: current.record.fencingToken + (holder === me ? 0 : 1),
    };
    const written = await this.lock.update(next, current.version);
    this.observed = { record: written.record, version: written.version, at: performance.now() };
    this.leading = true;
  }
}
