import type { LeaderCallbacks, LeaseTimings, Logger, ResourceLock } from '@baton/core';

/**
 * The binding contract between the `baton` container and the backends.
 *
 * A backend is a {@link LockBackend} bound, in an inversify container, under the service
 * identifier {@link LOCK_BACKEND} and named after the backend:
 *
 * ```ts
 * bind(LOCK_BACKEND).toConstantValue(myBackend).whenNamed('etcd');
 * ```
 *
 * The built-in backends' modules live in this package (`backends/`), loaded when their name is
 * configured; the adapters themselves know nothing about the container. An application adds
 * its own with {@link bindBackends} (`backends/bind.ts`). The identifiers are `Symbol.for(...)`
 * keys, so two copies of this package in one process still agree on them.
 */

/** Service identifier of {@link LockBackend}s; each binding is named after its backend. */
export const LOCK_BACKEND: symbol = Symbol.for('baton.LockBackend');

/**
 * Service identifier of {@link BackendName}s: every container module that binds a backend
 * also binds its name here (unnamed, several bindings), so the container can list what it
 * offers — in `baton --help` and in the error for a wrong backend name.
 */
export const BACKEND_NAME: symbol = Symbol.for('baton.BackendName');

/** Service identifier of the application's {@link Runnable}s for the {@link Manager}. */
export const RUNNABLE: symbol = Symbol.for('baton.Runnable');

/** A backend's name, as written in the configuration's `backend` field. */
export type BackendName = string;

/** What a backend is opened with, besides its own section of the configuration. */
export interface BackendContext {
  /** The namespace of the lock, for backends that have one (Kubernetes); unset: the backend's default. */
  readonly namespace: string | undefined;
  /** Where the backend logs connection trouble. */
  readonly logger: Logger;
  /** Directory that relative paths in the configuration (a kubeconfig) are resolved from. */
  readonly baseDir: string;
  /** The elector timings the locks will be used with, for backends whose own timeouts must fit them. */
  readonly timings: LeaseTimings;
}

/** Makes locks of one backend; what {@link LockBackend.open} returns. */
export interface LockFactory {
  /** A lock named `name` (the `leaderElectionID`) for the candidate `identity`. */
  lock(name: string, identity: string): ResourceLock | Promise<ResourceLock>;
  /** Closes connections the factory opened. */
  close?(): Promise<void>;
  /**
   * Backend behaviour around leadership, wrapped around every elector's callbacks — e.g. the
   * Kubernetes backends' `leaderPodLabel`, which labels the leading pod.
   */
  decorate?(callbacks: LeaderCallbacks, identity: string): LeaderCallbacks;
}

/**
 * One backend. `open` receives the backend's section of the configuration (`redis: {...}`,
 * `kubernetes: {...}`; an empty object when absent) and returns a {@link LockFactory}.
 * It throws core's `ConfigError` for a bad option; the CLI reports it with the section and
 * the file or flag the value came from.
 */
export interface LockBackend {
  /** The name the configuration's `backend` field selects, e.g. `redis`. */
  readonly name: BackendName;
  /** The configuration key holding this backend's options. Default: the name. */
  readonly section?: string;
  /** One line for help output. */
  readonly description?: string;
  open(options: Record<string, unknown>, context: BackendContext): LockFactory | Promise<LockFactory>;
}

/**
 * Leader-only or always-on work run by the {@link Manager} — controller-runtime's
 * `Runnable` plus `LeaderElectionRunnable`.
 */
export interface Runnable {
  /** For logs. */
  readonly name?: string;
  /**
   * `true` (the default, as in controller-runtime): start only once elected, stop when
   * leadership ends. `false`: start at once and run on every replica.
   */
  readonly needLeaderElection?: boolean;
  /**
   * Runs the work until `signal` aborts, then settles. A leader-only runnable is started
   * again (with a fresh signal) each time this replica is elected.
   */
  start(signal: AbortSignal, context: RunContext): void | Promise<void>;
}

/** What a {@link Runnable} is started with, besides its signal. */
export interface RunContext {
  /** This replica's identity. */
  readonly identity: string;
  /** The fencing token of the term a leader-only runnable runs in (absent without leader election). */
  readonly fencingToken?: number;
  /**
   * The term's remaining validity in ms (see core's `LeaderTerm.validForMs`); absent without
   * leader election. `baton run` hands it to its watchdog process, which stops the command
   * when it runs out even if baton itself is paused.
   */
  readonly validForMs?: () => number;
  /**
   * How long after the start of its last successful renewal this term's lock may pass to
   * another replica: leaseDuration, or less where the backend frees a silent holder's lock
   * sooner (see core's `ResourceLock.silentHolderTimeoutMs`). Absent without leader election.
   */
  readonly leaseBoundMs?: number;
}
