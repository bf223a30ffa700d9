import type { ResourceLock, ResourceLockFactory } from '@baton/core';

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
   * A lock like {@link ContractTarget.createLock}'s whose watch does not fall back to polling
   * within a second (none, or slower than 5 s), for the watch cases: they must tell push from
   * polling. Omit it when the backend's watch never polls. Closed by the suite.
   */
  createPushOnlyLock?(lockName: string, identity: string): ResourceLock | Promise<ResourceLock>;
  /** Deletes what is stored under `lockName`, as an operator would; the watch must deliver `null`. */
  deleteRecord?(lockName: string): Promise<void>;
  /**
   * Breaks every open watch connection from the server's side (ends the sessions, closes the
   * streams); the watch must report the break, come back, and deliver the next change by push.
   */
  interruptWatches?(): Promise<void>;
  /**
   * Whether the locks offer the one-operation `acquireIfFree`. The suite checks the locks
   * match this, and when true checks the method's rules. Default false.
   */
  fastPath?: boolean;
  /**
   * The earliest a follower may take over from a leader that went silent, counted from the
   * last change of the record the follower saw. Default `leaseDurationMs`. A session-bound
   * backend whose server frees a silent holder's lock sooner (PostgreSQL's session timeout)
   * declares its own bound; it must exceed `renewDeadlineMs`, by which the leader has stopped.
   */
  takeoverBoundMs?: number;
  /**
   * How a child process makes this target's locks, for the cross-process mutual-exclusion
   * case: a module (path or URL) exporting `createLock(lockName, identity, options)` (and
   * optionally `close()`), JSON `options` for it, and optionally elector timings for this
   * case (default the target's). Omit for an in-process backend.
   */
  childProcessLock?(): ChildProcessLock | Promise<ChildProcessLock>;
  /**
   * A new factory as a separate process would have it, for backends whose factory offers
   * native semaphores and reader-writer locks (`ResourceLockFactory.primitives`): the
   * semaphore and reader-writer sections then run a second time, on those. Closed by the suite.
   */
  createFactory?(): ResourceLockFactory;
  /** Elector timings suited to the backend, in ms. Default: lease 1200, renewDeadline 800, retry 200. */
  timings?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Runs after the whole suite (close shared clients, drop tables). */
  teardown?(): Promise<void>;
}

/** See {@link ContractTarget.childProcessLock}. */
export interface ChildProcessLock {
  module: string | URL;
  options: unknown;
  timings?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}
