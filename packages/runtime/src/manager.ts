import { defaultIdentity, silentLogger, type LeaderElector, type LeaderTerm, type Logger, type ResourceLock } from '@baton/core';
import type { ElectorMetrics } from '@baton/core';
import type { Container } from 'inversify';
import type { BatonConfig } from './config/schema.ts';
import { createElector, type ConfigLike } from './elector.ts';
import { startStatusServer, type MetricsSource, type StatusServer } from './http-server.ts';
import { RUNNABLE, type RunContext, type Runnable } from './registry.ts';

export interface ManagerOptions {
  /** The configuration: backend, `leaderElection`, `leaderElectionID`, namespace, timings, `releaseOnCancel`, `http`. */
  config: ConfigLike;
  /** Backends and runnables (bound under {@link RUNNABLE}). Default: the built-in backends. */
  container?: Container;
  /** Runnables besides the container's. */
  runnables?: readonly Runnable[];
  /** A lock of your own instead of the configured backend (controller-runtime's `LeaderElectionResourceLockInterface`). */
  lock?: ResourceLock;
  logger?: Logger;
  /**
   * Metrics go here (and its `registry` is served on `/metrics`). Default: a
   * `PrometheusElectorMetrics` in a fresh registry when prom-client is installed (an
   * optional peer), else none; `false`: none.
   */
  metrics?: ManagerMetrics | false;
  /** Serve health, readiness and metrics. Default: the configuration's `http.enabled`. */
  serveHttp?: boolean;
  /** How long the elector waits for leader-only runnables before giving up the release. Default: `gracePeriod`. */
  shutdownGracePeriodMs?: number;
}

/** Elector metrics with a registry to serve; `PrometheusElectorMetrics` (`@baton/runtime/prometheus`) is one. */
export interface ManagerMetrics extends ElectorMetrics {
  readonly registry: MetricsSource;
  /** Called once the elector is built, with the lock's name. */
  register?(name: string): void;
  /** Called on every `onNewLeader`. */
  newLeader?(name: string): void;
}

/** prom-client metrics when prom-client can be loaded; none otherwise. */
async function defaultMetrics(): Promise<ManagerMetrics | undefined> {
  try {
    const { PrometheusElectorMetrics } = await import('./prometheus.ts');
    return new PrometheusElectorMetrics();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

type Phase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * controller-runtime's manager for Node: runs a set of {@link Runnable}s, those that need
 * leader election only while this replica leads.
 *
 * - Runnables with `needLeaderElection: false` start at once; the others start on election
 *   (at once too with `leaderElection: false`).
 * - When leadership ends, leader-only runnables get their signal aborted; a new term starts
 *   them again only once every one of the previous term has settled.
 * - On stop, leader-only runnables are stopped first and awaited (up to `gracePeriod`)
 *   *before* the lease is released; then the other runnables.
 * - `/healthz` (the elector's health check), `/readyz`, `/leader` and `/metrics` are served
 *   when `http.enabled`.
 * - A runnable that throws stops the manager; `start()` then rejects with its error.
 */
export class Manager {
  /** Resolves the first time this replica is elected (at once without leader election). */
  readonly elected: Promise<void>;
  private metricsInUse: ManagerMetrics | undefined;
  private readonly options: ManagerOptions;
  private readonly config: BatonConfig;
  private readonly logger: Logger;
  private readonly runnables: Runnable[] = [];
  private markElected!: () => void;
  private phase: Phase = 'new';
  private elector: LeaderElector | undefined;
  private lockDescription = '';
  /** The lock's `silentHolderTimeoutMs`, read once it is built. */
  private lockSilentHolderTimeoutMs: number | undefined;
  private identity = '';
  private server: StatusServer | undefined;
  private readonly stopController = new AbortController();
  private failure: { error: unknown } | undefined;
  /** Settles once every leader-only runnable of the latest term has settled. */
  private leaderWork: Promise<void> = Promise.resolve();

  constructor(options: ManagerOptions) {
    this.options = options;
    this.config = 'sourceOf' in options.config ? options.config.config : options.config;
    this.logger = options.logger ?? silentLogger;
    this.metricsInUse = options.metrics === false ? undefined : options.metrics;
    this.elected = new Promise((resolve) => {
      this.markElected = resolve;
    });
    this.runnables.push(...(options.runnables ?? []));
  }

  /** Adds a runnable; only before {@link start}. */
  add(runnable: Runnable): void {
    if (this.phase !== 'new') throw new Error('Manager.add: the manager has already started');
    this.runnables.push(runnable);
  }

  /** True while this replica leads (always, without leader election, once started). */
  isLeader(): boolean {
    return this.config.leaderElection ? (this.elector?.isLeader() ?? false) : this.phase === 'running';
  }

  /** The holder last observed, or `null`. */
  getLeader(): string | null {
    return this.config.leaderElection ? (this.elector?.getLeader() ?? null) : this.identity || null;
  }

  /** The metrics in use, once started (see {@link ManagerOptions.metrics}). */
  get metrics(): ManagerMetrics | undefined {
    return this.metricsInUse;
  }

  /** Where `/leader`, `/healthz`, `/readyz` and `/metrics` are served, once started. */
  get httpUrl(): string | undefined {
    return this.server?.url;
  }

  /**
   * Runs until `signal` aborts (or a runnable fails), then stops everything in order.
   * @throws the error of a runnable that failed, after the orderly stop.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.phase !== 'new') throw new Error('Manager.start: a manager starts once');
    this.phase = 'starting';
    const onAbort = (): void => this.stopController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.stopController.abort();
    const stop = this.stopController.signal;

    const all = [...this.runnables, ...this.containerRunnables()];
    const always = all.filter((r) => r.needLeaderElection === false);
    const leaderOnly = all.filter((r) => r.needLeaderElection !== false);

    let electorRun: Promise<void> = Promise.resolve();
    let closeLock: () => Promise<void> = async () => {};
    try {
      if (this.options.metrics === undefined) this.metricsInUse = await defaultMetrics();
      const metrics = this.metricsInUse;
      if (this.config.leaderElection) {
        const built = await createElector(this.options.config, {
          container: this.options.container,
          lock: this.options.lock,
          logger: this.logger,
          shutdownGracePeriodMs: this.options.shutdownGracePeriodMs,
          metrics,
          callbacks: {
            onStartedLeading: (term) => this.lead(term, leaderOnly),
            onNewLeader: () => metrics?.newLeader?.(this.config.leaderElectionID),
          },
        });
        this.elector = built.elector;
        this.identity = built.identity;
        this.lockDescription = built.lock.describe();
        this.lockSilentHolderTimeoutMs = built.lock.silentHolderTimeoutMs;
        closeLock = built.close;
        metrics?.register?.(this.config.leaderElectionID);
      } else {
        this.identity = this.config.identity ?? defaultIdentity();
        this.lockDescription = 'none (leader election disabled)';
      }
      if (this.options.serveHttp ?? this.config.http.enabled) await this.serve();
    } catch (error) {
      signal?.removeEventListener('abort', onAbort);
      await closeLock();
      await this.server?.close();
      this.phase = 'stopped';
      throw error;
    }

    const context: RunContext = { identity: this.identity };
    const alwaysWork = always.map((runnable) => this.runOne(runnable, stop, context));
    if (this.elector) {
      const elector = this.elector;
      electorRun = elector.run(stop).then(() => {
        // Given up on permanent errors: stop everything, and report it as the failure.
        if (elector.gaveUp === undefined) return;
        this.failure ??= { error: elector.gaveUp };
        this.stopController.abort();
      });
    } else {
      this.markElected();
      this.leaderWork = Promise.all(leaderOnly.map((runnable) => this.runOne(runnable, stop, context))).then(() => undefined);
    }
    this.phase = 'running';
    this.logger.info({ lock: this.lockDescription, identity: this.identity, runnables: all.length }, 'manager started');

    await new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    this.phase = 'stopping';
    this.logger.info({}, 'manager stopping');
    // The elector aborts the term, awaits the leader-only runnables (up to gracePeriod), then releases.
    await electorRun;
    if (!(await this.settledWithin(this.leaderWork, this.config.gracePeriod))) {
      this.logger.warn({ graceMs: this.config.gracePeriod }, 'leader-only runnables did not stop within gracePeriod');
    }
    if (!(await this.settledWithin(Promise.all(alwaysWork), this.config.gracePeriod))) {
      this.logger.warn({ graceMs: this.config.gracePeriod }, 'runnables did not stop within gracePeriod');
    }
    await closeLock();
    await this.server?.close();
    this.phase = 'stopped';
    signal?.removeEventListener('abort', onAbort);
    this.logger.info({}, 'manager stopped');
    if (this.failure) throw this.failure.error;
  }

  /** One leadership term: start the leader-only runnables, settle when they all have. */
  private async lead(term: LeaderTerm, runnables: readonly Runnable[]): Promise<void> {
    const previous = this.leaderWork;
    let done!: () => void;
    this.leaderWork = new Promise((resolve) => {
      done = resolve;
    });
    try {
      // Never two generations of leader-only work at once, even in one process.
      await previous;
      if (term.signal.aborted) return;
      this.markElected();
      const context: RunContext = {
        identity: term.identity,
        fencingToken: term.fencingToken,
        validForMs: () => term.validForMs(),
        leaseBoundMs: Math.min(this.config.leaseDuration, this.lockSilentHolderTimeoutMs ?? Number.POSITIVE_INFINITY),
      };
      await Promise.all(runnables.map((runnable) => this.runOne(runnable, term.signal, context)));
    } finally {
      done();
    }
  }

  /** Runs one runnable until it settles; a failure stops the manager. */
  private async runOne(runnable: Runnable, signal: AbortSignal, context: RunContext): Promise<void> {
    const name = runnable.name ?? 'runnable';
    this.logger.debug({ runnable: name }, 'runnable starting');
    try {
      await runnable.start(signal, context);
      this.logger.debug({ runnable: name }, 'runnable stopped');
    } catch (error) {
      if (signal.aborted) {
        this.logger.debug({ runnable: name, error: String(error) }, 'runnable stopped with an error');
        return;
      }
      this.logger.error({ runnable: name, error: error instanceof Error ? error.message : String(error) }, 'runnable failed; stopping the manager');
      this.failure ??= { error };
      this.stopController.abort();
    }
  }

  private containerRunnables(): Runnable[] {
    const container = this.options.container;
    return container?.isBound(RUNNABLE) ? container.getAll<Runnable>(RUNNABLE) : [];
  }

  private async serve(): Promise<void> {
    const tolerance = this.config.http.healthTolerance;
    this.server = await startStatusServer({
      host: this.config.http.host,
      port: this.config.http.port,
      ...(this.metricsInUse && { registry: this.metricsInUse.registry }),
      leader: () => ({ name: this.getLeader(), identity: this.identity, isLeader: this.isLeader(), lock: this.lockDescription }),
      health: () => this.elector?.checkHealth(tolerance) ?? { healthy: true },
      ready: () => {
        if (this.phase !== 'running') return this.phase;
        const check = this.elector?.checkReady() ?? { healthy: true };
        return check.healthy ? true : check.reason;
      },
    });
    this.logger.info({ url: this.server.url, port: this.server.port }, 'serving /leader, /healthz, /readyz, /metrics');
  }

  private settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void work.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
