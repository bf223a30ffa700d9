import type { LeaseTimings } from '@baton/core';

/**
 * A harness profile: timings, how much fault there is, the line-up (library candidates — the
 * last `unguarded` of them write without the synchronous lease check, as the fencing probe —
 * and `baton run` sidecars beside them, all on one lock) and the fewest faults a run must
 * inject to count.
 */
export interface HarnessProfile {
  timings: LeaseTimings;
  /** Either a fault phase of this length… */
  faultPhaseMs?: number;
  /** …or this many injected faults, however long they take. */
  faults?: number;
  /** A run that injected fewer fails its expectations (`expectationFailures`). */
  minFaults: number;
  /** Scales the calm between faults (ScheduleOptions.calm). */
  calm: number;
  candidates: number;
  unguarded: number;
  sidecars: number;
}

export const PROFILES = {
  /** Short, for CI: every fault kind once or twice in ~16 s, lease 1.5 s. */
  ci: { timings: { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 250 }, faultPhaseMs: 16_000, minFaults: 0, calm: 1, candidates: 4, unguarded: 1, sidecars: 1 },
  /**
   * For release checks: a count, not a length, so that a loaded machine (slower kills and
   * restarts) cannot shrink the run below 200 faults. At calm 0.5 (faults compound more
   * often) that is ~11 minutes per backend.
   */
  release: { timings: { leaseDurationMs: 2_000, renewDeadlineMs: 1_400, retryPeriodMs: 300 }, faults: 200, minFaults: 200, calm: 0.5, candidates: 4, unguarded: 1, sidecars: 2 },
} as const satisfies Record<string, HarnessProfile>;

export type ProfileName = keyof typeof PROFILES;

/** How much fault a run gets: a flag replaces the profile's amount, whichever kind either is. */
export function faultAmount(profile: HarnessProfile, flags: { minutes?: string | undefined; faults?: string | undefined }): { faultPhaseMs: number } | { faults: number } {
  if (flags.minutes !== undefined && flags.faults !== undefined) throw new TypeError('give --faults or --minutes, not both');
  if (flags.minutes !== undefined) return { faultPhaseMs: Math.round(Number(flags.minutes) * 60_000) };
  if (flags.faults !== undefined) return { faults: Number(flags.faults) };
  if (profile.faults !== undefined) return { faults: profile.faults };
  if (profile.faultPhaseMs !== undefined) return { faultPhaseMs: profile.faultPhaseMs };
  throw new TypeError('a harness profile needs faults or faultPhaseMs');
}
