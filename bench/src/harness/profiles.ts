/**
 * Timings, fault-phase lengths and line-ups of the harness profiles: library candidates (the
 * last `unguarded` of them write without the synchronous lease check, as the fencing probe)
 * and `baton run` sidecars beside them, all on one lock.
 */
export const PROFILES = {
  /** Short, for CI: every fault kind once or twice in ~16 s, lease 1.5 s. */
  ci: { timings: { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 250 }, faultPhaseMs: 16_000, candidates: 4, unguarded: 1, sidecars: 1 },
  /** For release checks: `pnpm harness --minutes 10`. */
  release: { timings: { leaseDurationMs: 2_000, renewDeadlineMs: 1_400, retryPeriodMs: 300 }, faultPhaseMs: 60_000, candidates: 4, unguarded: 1, sidecars: 2 },
} as const;
