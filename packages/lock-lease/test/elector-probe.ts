import { LeaderElector } from '@baton/core';
import type { LeaderCallbacks, LeaderTerm, ResourceLock } from '@baton/core';

/** Short timings for adapter tests: lease 1.2 s, renew deadline 0.8 s, retry 0.2 s. */
export const FAST = { leaseDuration: 1200, renewDeadline: 800, retryPeriod: 200 } as const;

/** An elector with everything it reported, stopped by `stop()`. */
export interface ElectorProbe {
  elector: LeaderElector;
  terms: LeaderTerm[];
  errors: unknown[];
  stop(): Promise<void>;
}

export function runElector(
  lock: ResourceLock,
  wrap: (callbacks: LeaderCallbacks) => LeaderCallbacks = (c) => c,
  timings: { leaseDuration: number; renewDeadline: number; retryPeriod: number } = FAST,
): ElectorProbe {
  const terms: LeaderTerm[] = [];
  const errors: unknown[] = [];
  const controller = new AbortController();
  const elector = new LeaderElector({
    lock,
    ...timings,
    onError: (error) => errors.push(error),
    callbacks: wrap({ onStartedLeading: (term) => void terms.push(term) }),
  });
  const done = elector.run(controller.signal);
  return {
    elector,
    terms,
    errors,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}
