import { DEFAULT_TIMINGS, LeaderElector } from '@baton/core';
import type { LeaseTimings, ResourceLock } from '@baton/core';
import type { BackendDriver, BackendServer, LockFactoryHandle } from '../backends/types.ts';
import { now } from '../lib/clock.ts';
import { instrument } from '../lib/instrumented-lock.ts';
import type { LockProbe } from '../lib/instrumented-lock.ts';

/** What every benchmark section gets. */
export interface BenchContext {
  driver: BackendDriver;
  server: BackendServer;
  runId: string;
  /** Where child processes and servers may write. */
  dir: string;
  quick: boolean;
  log: (line: string) => void;
}

export const DEFAULTS: LeaseTimings = { ...DEFAULT_TIMINGS };

/** A LeaderElector run in this process, with promises for the moments benchmarks wait on. */
export class BenchElector {
  readonly identity: string;
  readonly elector: LeaderElector;
  readonly probe: LockProbe;
  readonly lock: ResourceLock;
  /** Resolves with the time onStartedLeading ran. */
  readonly started: Promise<{ t: number; token: number }>;
  startedAt: number | undefined;
  private readonly controller = new AbortController();
  private readonly leaders = new Set<string>();
  private readonly leaderWaiters: Array<{ leader: string; resolve(): void }> = [];
  private running: Promise<void> | undefined;

  constructor(lock: ResourceLock, options: { timings: LeaseTimings; watch: boolean }) {
    const { lock: instrumented, probe } = instrument(lock);
    this.lock = lock;
    this.probe = probe;
    this.identity = lock.identity;
    let onStarted!: (value: { t: number; token: number }) => void;
    this.started = new Promise((resolve) => (onStarted = resolve));
    this.elector = new LeaderElector({
      lock: instrumented,
      leaseDuration: options.timings.leaseDurationMs,
      renewDeadline: options.timings.renewDeadlineMs,
      retryPeriod: options.timings.retryPeriodMs,
      watch: options.watch,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: (term) => {
          const t = now();
          this.startedAt = t;
          onStarted({ t, token: term.fencingToken });
        },
        onNewLeader: (leader) => {
          this.leaders.add(leader);
          for (const w of this.leaderWaiters.filter((x) => x.leader === leader)) w.resolve();
        },
      },
    });
  }

  run(): this {
    this.running = this.elector.run(this.controller.signal);
    return this;
  }

  /** Resolves once this elector has observed `leader` as the holder. */
  observed(leader: string): Promise<void> {
    if (this.leaders.has(leader)) return Promise.resolve();
    return new Promise((resolve) => this.leaderWaiters.push({ leader, resolve }));
  }

  /** Stops (releasing the lease when leading) and resolves once the elector has settled. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
    await this.lock.close?.();
  }
}

/** Opens `count` factories on the run's backend, labelled `${prefix}${i}`. */
export async function openFactories(ctx: BenchContext, count: number, timings: LeaseTimings, label: (i: number) => string): Promise<LockFactoryHandle[]> {
  const out: LockFactoryHandle[] = [];
  for (let i = 0; i < count; i++) out.push(await ctx.driver.openFactory(ctx.server.connectInfo(), { timings, label: label(i) }));
  return out;
}

export async function closeAll(factories: LockFactoryHandle[]): Promise<void> {
  await Promise.all(factories.map((f) => f.close().catch(() => {})));
}

/** Races `promise` against a timeout naming `what`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}
