import type { LeaseTimings, NativePrimitives, ResourceLock } from '@baton/core';

export type BackendName = 'lease' | 'endpoints' | 'redis' | 'postgres' | 'etcd';

/** host:port a client (or a proxy in front of the backend) connects to. */
export interface Address {
  host: string;
  port: number;
}

/**
 * How to reach a backend, as plain JSON so it can be handed to a child process (env
 * `BATON_CONNECT`). Each driver defines its own fields.
 */
export type ConnectInfo = Record<string, string | number | boolean>;

export interface ServerOptions {
  /** A directory this run may write to (logs, data, kubeconfig). */
  dir: string;
  /** Unique per run; used to keep names (tables, keys) apart. */
  runId: string;
  /** PostgreSQL only: run a dedicated throwaway cluster that the harness may restart for real. */
  dedicatedPostgres?: boolean;
  /** Logs what the backend does. */
  log?: (line: string) => void;
}

/** A backend running for one harness or bench run. */
export interface BackendServer {
  readonly name: BackendName;
  /** Where the backend listens (what proxies forward to). */
  readonly address: Address;
  /** The server's process id when this run started it (for CPU figures). */
  readonly pid?: number | undefined;
  /** How to connect, optionally through `via` (a proxy) instead of {@link address}. */
  connectInfo(via?: Address): ConnectInfo;
  /**
   * Restarts the backend keeping its data, unavailable for about `downMs`.
   * @returns what was done (for the history), e.g. "redis-server SIGTERM + restart (AOF)".
   */
  restart(downMs: number): Promise<string>;
  /**
   * False when {@link restart} cannot really restart the server (a shared PostgreSQL): it then
   * only ends this run's sessions, and the harness cuts every candidate's proxy for the outage.
   */
  readonly restartIsReal?: boolean;
  /**
   * Server-side request counters since the last reset, keyed by client label (see
   * {@link FactoryOptions.label}) where the backend can tell clients apart, with `*` the total.
   */
  requestCounts?(): Promise<Record<string, Record<string, number>>>;
  resetRequestCounts?(): Promise<void>;
  /** Stops what this run started (never a shared server). */
  stop(): Promise<void>;
}

export interface FactoryOptions {
  /** The timings the locks will be used with (PostgreSQL derives its session timeout from them). */
  timings: LeaseTimings;
  /** A short label for this factory's connections (application_name, connection name, user). */
  label?: string;
}

/** Makes locks over shared connections, as every adapter's factory does. */
export interface LockFactoryHandle {
  lock(name: string, identity: string): ResourceLock;
  close(): Promise<void>;
  /** The factory's native semaphores and reader-writer locks, when it has them. */
  primitives?: NativePrimitives;
}

/** Everything the harness and the benches need to know about one backend. */
export interface BackendDriver {
  readonly name: BackendName;
  /**
   * Whether a crashed holder's lock is freed by the backend (session-bound) rather than by
   * lease expiry; decides which crash-failover target applies.
   */
  readonly sessionBound: boolean;
  /** Starts (or attaches to) the backend for a run. */
  startServer(options: ServerOptions): Promise<BackendServer>;
  /** In any process: a lock factory from {@link BackendServer.connectInfo}'s output. */
  openFactory(info: ConnectInfo, options: FactoryOptions): Promise<LockFactoryHandle>;
  /**
   * The `baton run` flags that open the same locks as {@link openFactory} from
   * {@link BackendServer.connectInfo}'s output (files it needs, a CA, go into `dir`).
   */
  batonFlags(info: ConnectInfo, dir: string): string[];
  /**
   * In-process request counters by factory label, for backends whose server cannot tell
   * clients apart: counts every command the adapter's client library sends.
   */
  meter?(): ClientMeter;
}

/** Counts commands sent by adapter connections in this process, by factory label. */
export interface ClientMeter {
  snapshot(): Record<string, Record<string, number>>;
  reset(): void;
  stop(): void;
}
