import type { ClockSummary } from './checker-clock.ts';
import type { ResumedStale, Term } from './checker-terms.ts';
import type { Violation } from './checker-types.ts';
import type { WriteCounts } from './checker-writes.ts';
import type { WritesAfterResumedPause } from './checker-pauses.ts';
import type { SidecarSummary } from './checker-sidecar.ts';
import type { FaultKind } from './history.ts';

/** What the checker found: the violations and the counts the report and the CI assertions use. */
export interface Gap {
  from: number;
  to: number;
  ms: number;
}

export interface CheckSummary {
  backend: string;
  seed: number;
  /** When the run began (harness clock); report times are relative to it. */
  startedAt: number;
  durationMs: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
  faultsSkipped: number;
  /** SIGSTOPs of the leader long enough for a successor to start (lease + 3 retry periods + 1 s). */
  longLeaderPauses: number;
  /** The same for a leading `baton run` (SIGSTOP of baton, not of its command). */
  longSidecarPauses: number;
  /** `baton run` processes the harness started (restarts included). */
  sidecarsSpawned: number;
  clock: ClockSummary;
  /** How long a leader woken from SIGSTOP may keep believing it leads before it notices. */
  wakeBoundMs: number;
  terms: Term[];
  /** Pairs of terms of different processes that overlapped beyond the tolerance (paused parts included). */
  overlappingTerms: number;
  /** Leaders paused while a successor began (each pair once). */
  resumedStale: ResumedStale[];
  writes: WriteCounts;
  /** What resumed-stale leaders sent after their successor began, guarded and unguarded. */
  afterResumedPause: WritesAfterResumedPause;
  /** `baton run` candidates: commands run and handovers away from them. */
  sidecars: SidecarSummary;
  /** The longest time no unpaused process believed it led, over the whole run (the first election excluded). */
  longestGap: Gap | null;
  /** The longest such gap after the faults stopped. */
  longestGapAfterFaults: Gap | null;
  leaderlessBoundMs: number;
  /** Candidate processes that died of an error of their own (not killed by the harness). */
  crashes: Array<{ pid: number; slot: number; t: number; message: string }>;
}

export interface CheckResult {
  ok: boolean;
  violations: Violation[];
  summary: CheckSummary;
}

