import { DistributedLocks, LeaderElector } from '@baton/core';
import type { LeaderElectionRecord, LeaderTerm, ResourceLock } from '@baton/core';
import { randomBytes } from 'node:crypto';
import { PartitionableLock } from './partitionable-lock.ts';
import type { ContractTarget } from './target.ts';

export const DEFAULT_TIMINGS = { leaseDurationMs: 1200, renewDeadlineMs: 800, retryPeriodMs: 200 };

/** Elector / lock timings in ms. */
export interface Timings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * Timings for the wake-up cases: a retry period (3 s) and a lease (10 s) far above their
 * 500 ms bound, so only a change notification can meet it — a waiter that polls, or sleeps
 * until the holder's lease runs out, fails.
 */
export const WAKE_TIMINGS: Timings = { leaseDurationMs: 10_000, renewDeadlineMs: 6_000, retryPeriodMs: 3_000 };

/**
 * Timings for the exclusion cases, where every hold ends in an explicit release: a lease
 * (10 s) and a renewDeadline (6 s) that no stall of a loaded 2-core test machine outlasts, so
 * no hold there is lost to a stall (with 800 ms, one was) — losing a hold is what the cut-off
 * cases test. Waiters still retry at the target's period.
 */
export function exclusionTimings(timings: Timings): Timings {
  return { leaseDurationMs: 10_000, renewDeadlineMs: 6_000, retryPeriodMs: timings.retryPeriodMs };
}

/**
 * The wake-up bound under {@link WAKE_TIMINGS}: 500 ms plus the event-loop stall measured
 * meanwhile (a 2-core machine may stop scheduling the test), never as much as the retry period
 * — a wake that late may have been a poll.
 */
export function wakeBoundMs(stalledMs: number): number {
  return Math.min(500 + stalledMs, 0.8 * WAKE_TIMINGS.retryPeriodMs);
}

/** One elector of a test, its lock wrapped so the test can partition it, and what it went through. */
export interface Candidate {
  lock: PartitionableLock;
  elector: LeaderElector;
  terms: LeaderTerm[];
  started: Array<{ token: number; at: number }>;
  stopped: number[];
  errors: unknown[];
  newLeaders: string[];
  stop: AbortController;
  done: Promise<void>;
}

/** What every section of the suite shares: the target, its timings, and helpers that clean up after each test. */
export interface Suite {
  target: ContractTarget;
  timings: Timings;
  /** Generous bound for one election round on a shared, noisy machine. */
  electionBound: number;
  uniqueName(): string;
  open(lockName: string, identity: string): Promise<ResourceLock>;
  /** Closes `lock` after the test, as {@link Suite.open}'s locks are. */
  track(lock: ResourceLock): void;
  record(holderIdentity: string, overrides?: Partial<LeaderElectionRecord>): LeaderElectionRecord;
  /** An elector with the target's timings; `watch: false` makes it a polling follower. */
  candidate(lockName: string, identity: string, options?: { watch?: boolean }): Promise<Candidate>;
  /**
   * A DistributedLocks as one process would have it, with the target's timings (or `timings`);
   * `wrap` can interpose on its locks.
   */
  locksFor(identity: string, wrap?: (lock: ResourceLock) => ResourceLock, timings?: Timings): DistributedLocks;
  leaders(cs: Candidate[]): Candidate[];
  /** Stops every elector and lock set, closes every lock (run after each test). */
  cleanUp(): Promise<void>;
}

export function makeSuite(target: ContractTarget): Suite {
  const timings = target.timings ?? DEFAULT_TIMINGS;
  const opened: ResourceLock[] = [];
  const stops: AbortController[] = [];
  const runs: Promise<void>[] = [];
  const lockSets: DistributedLocks[] = [];

  const open = async (lockName: string, identity: string): Promise<ResourceLock> => {
    const lock = await target.createLock(lockName, identity);
    opened.push(lock);
    return lock;
  };

  const candidate = async (lockName: string, identity: string, options: { watch?: boolean } = {}): Promise<Candidate> => {
    const lock = new PartitionableLock(await open(lockName, identity));
    const c = { lock, terms: [], started: [], stopped: [], errors: [], newLeaders: [], stop: new AbortController() } as unknown as Candidate;
    c.elector = new LeaderElector({
      lock,
      leaseDuration: timings.leaseDurationMs,
      renewDeadline: timings.renewDeadlineMs,
      retryPeriod: timings.retryPeriodMs,
      watch: options.watch ?? true,
      onError: (error) => c.errors.push(error),
      callbacks: {
        onStartedLeading: (term) => {
          c.terms.push(term);
          c.started.push({ token: term.fencingToken, at: performance.now() });
        },
        onStoppedLeading: () => c.stopped.push(performance.now()),
        onNewLeader: (leader) => c.newLeaders.push(leader),
      },
    });
    stops.push(c.stop);
    c.done = c.elector.run(c.stop.signal);
    runs.push(c.done);
    return c;
  };

  const locksFor = (identity: string, wrap: (lock: ResourceLock) => ResourceLock = (lock) => lock, own: Timings = timings): DistributedLocks => {
    const locks = new DistributedLocks({
      identity,
      leaseDuration: own.leaseDurationMs,
      renewDeadline: own.renewDeadlineMs,
      retryPeriod: own.retryPeriodMs,
      lockFor: async (name, id) => wrap(await open(name, id)),
    });
    lockSets.push(locks);
    return locks;
  };

  return {
    target,
    timings,
    electionBound: timings.leaseDurationMs + 4 * timings.retryPeriodMs + 2000,
    uniqueName: () => `contract-${randomBytes(5).toString('hex')}`,
    open,
    track: (lock) => void opened.push(lock),
    record: (holderIdentity, overrides = {}) => ({
      holderIdentity,
      leaseDurationMs: 15_000,
      acquireTime: 1_767_225_600_123,
      renewTime: 1_767_225_601_456,
      leaderTransitions: 0,
      fencingToken: 1,
      ...overrides,
    }),
    candidate,
    locksFor,
    leaders: (cs) => cs.filter((c) => c.elector.isLeader()),
    async cleanUp() {
      for (const locks of lockSets.splice(0)) locks.close();
      for (const stop of stops.splice(0)) stop.abort();
      await Promise.all(runs.splice(0));
      await Promise.all(opened.splice(0).map((lock) => lock.close?.()));
    },
  };
}
