import type { ResourceLock } from '@baton/core';

/** What an adapter hands to {@link describeResourceLockContract}. */
export interface ContractTarget {
  /** Backend name for the suite's title, e.g. `redis`. */
  name: string;
  /**
   * A lock on `lockName` for `identity`, as a separate process would hold it: with its own
   * client where the backend has one. The suite closes it (`close()`) after each test.
   * Lock names are unique per test, so tests never share state.
   */
  createLock(lockName: string, identity: string): ResourceLock | Promise<ResourceLock>;
  /** Stores something under `lockName` that is not a valid record (foreign or corrupt data). */
  plantCorruptRecord(lockName: string): Promise<void>;
  /** Whether the backend offers `watch`; when true the suite asserts delivery within a deadline. */
  watch: boolean;
  /**
   * Whether the locks offer the one-operation `acquireIfFree`. The suite checks the locks
   * match this, and when true checks the method's rules. Default false.
   */
  fastPath?: boolean;
  /** Elector timings suited to the backend, in ms. Default: lease 1200, renewDeadline 800, retry 200. */
  timings?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Runs after the whole suite (close shared clients, drop tables). */
  teardown?(): Promise<void>;
}
