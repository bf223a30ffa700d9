import { afterEach, expect } from '@jest/globals';
import { FakeClock, LeaderElector, MemoryLockStore } from '../src/index.ts';
import type { LeaderElectorConfig, LeaderTerm, ResourceLock } from '../src/index.ts';

/** One elector under test with everything it reported. */
export interface Probe {
  elector: LeaderElector;
  terms: LeaderTerm[];
  stoppedAt: number[];
  newLeaders: string[];
  errors: unknown[];
  stop: AbortController;
  done: Promise<void>;
}

/** A fake clock, a memory store, and a way to start electors on them with client-go's defaults. */
export function setup() {
  const clock = new FakeClock();
  const store = new MemoryLockStore();
  const probes: Probe[] = [];

  const start = (lock: ResourceLock, overrides: Partial<LeaderElectorConfig> = {}): Probe => {
    const probe = { terms: [], stoppedAt: [], newLeaders: [], errors: [], stop: new AbortController() } as unknown as Probe;
    probe.elector = new LeaderElector({
      lock,
      clock,
      random: () => 0,
      onError: (error) => probe.errors.push(error),
      callbacks: {
        onStartedLeading: (term) => {
          probe.terms.push(term);
        },
        onStoppedLeading: () => probe.stoppedAt.push(clock.now()),
        onNewLeader: (identity) => probe.newLeaders.push(identity),
      },
      ...overrides,
    });
    probe.done = probe.elector.run(probe.stop.signal);
    probes.push(probe);
    return probe;
  };

  /** Stops every elector and checks none left a timer behind. */
  const teardown = async (): Promise<void> => {
    for (const p of probes) p.stop.abort();
    await clock.advanceUntil(() => probes.every((p) => p.elector.getState() === 'stopped'), 60_000);
    await Promise.all(probes.map((p) => p.done));
  };

  return { clock, store, start, teardown };
}

/**
 * A fresh {@link setup} for every test of the file, torn down after each (every elector
 * stopped, no timer left behind). Call once at the top level; read the current one with the
 * returned function.
 */
export function setupEachTest(): () => ReturnType<typeof setup> {
  let env = setup();
  afterEach(async () => {
    await env.teardown();
    expect(env.clock.pendingTimers).toBe(0);
    env = setup();
  });
  return () => env;
}
