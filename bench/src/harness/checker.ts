import { alignClocks } from './checker-clock.ts';
import { buildTerms, compareTerms, deathsOf, fmt, mergeIntervals, pauseIntervals, subtract } from './checker-terms.ts';
import type { Intervals, Term } from './checker-terms.ts';
import type { CheckResult, CheckSummary, Gap } from './checker-result.ts';
import type { Violation } from './checker-types.ts';
import { checkWrites } from './checker-writes.ts';
import { writesAfterResumedPause } from './checker-pauses.ts';
import { sidecarSummary } from './checker-sidecar.ts';
import type { CandidateEvent, FaultKind, HarnessEvent, HistoryEvent, ResourceEvent, RunInfo } from './history.ts';

export type { Term, ResumedStale } from './checker-terms.ts';
export type { Violation, ViolationKind } from './checker-types.ts';
export { VIOLATION_KINDS } from './checker-types.ts';
export type { ClockSummary } from './checker-clock.ts';
export type { WriteCounts } from './checker-writes.ts';
export type { WritesAfterResumedPause } from './checker-pauses.ts';
export type { SidecarSummary } from './checker-sidecar.ts';
export type { CheckResult, CheckSummary, Gap } from './checker-result.ts';
export { formatReport, expectationFailures } from './checker-report.ts';

/**
 * Checks a run's history against what baton promises: the old leader has stopped before a
 * new one starts, and fencing rejects what a leader woken from a pause still sends. Every
 * {@link ViolationKind} fails the run; resumed-stale leaders are counted, not failed, as long
 * as none of their writes got through. Times of candidates are first moved onto the harness
 * clock (see `checker-clock.ts`); every comparison between processes allows the measured
 * tolerance and nothing more.
 */
export function checkHistory(history: readonly HistoryEvent[]): CheckResult {
  const violations: Violation[] = [];
  const run = history.find((e): e is RunInfo => e.src === 'harness' && e.ev === 'run');
  if (!run) {
    return { ok: false, violations: [{ kind: 'history', t: 0, message: 'the history has no run record' }], summary: emptySummary() };
  }
  const { events, clock } = alignClocks(history, run.clockToleranceMs);
  const tolerance = clock.toleranceMs;
  const candidates = events.filter((e): e is CandidateEvent => e.src === 'candidate');
  const harness = events.filter((e): e is HarnessEvent => e.src === 'harness');
  const resource = events.filter((e): e is ResourceEvent => e.src === 'resource');
  for (const pid of clock.unsynced) {
    if (candidates.some((e) => e.pid === pid && (e.ev === 'start' || e.ev === 'send'))) {
      violations.push({ kind: 'history', t: run.t, message: `pid ${pid} led or wrote without measuring its clock offset; its times cannot be compared` });
    }
  }

  const deaths = deathsOf(harness);
  const pauses = pauseIntervals(harness, run, deaths);
  const terms = buildTerms(candidates, run, deaths, pauses, violations);
  const wakeBoundMs = run.retryPeriodMs;
  const { resumedStale, overlappingTerms } = compareTerms(terms, pauses, tolerance, wakeBoundMs, run.t, violations);
  const writes = checkWrites(candidates, resource, terms, resumedStale, tolerance, violations);
  const { longestGap, longestGapAfterFaults } = leaderlessGaps(terms, pauses, run, violations);
  const afterResumedPause = writesAfterResumedPause(candidates, terms, resumedStale, tolerance);
  const sidecars = sidecarSummary(candidates, harness, terms, pauses);

  // `baton run` processes: the harness's children for sidecar slots (their commands are not).
  const sidecarHosts = new Set<number>();
  for (const e of harness) if (e.ev === 'spawn' && e.spawnId !== undefined) sidecarHosts.add(e.pid);
  const faultsByKind: Partial<Record<FaultKind, number>> = {};
  let faultsSkipped = 0;
  let longLeaderPauses = 0;
  let longSidecarPauses = 0;
  for (const e of harness) {
    if (e.ev !== 'fault' || e.phase !== 'start') continue;
    if (e.skipped) faultsSkipped++;
    else faultsByKind[e.kind] = (faultsByKind[e.kind] ?? 0) + 1;
    if (e.kind === 'pause' && e.targetWasLeader && !e.skipped) {
      const end = harness.find((x) => x.ev === 'fault' && x.index === e.index && x.phase === 'end');
      // Long enough for a takeover: the lease, a few retries and a second of slack.
      if (end && end.t - e.t > run.leaseDurationMs + 3 * run.retryPeriodMs + 1_000) {
        if (typeof e.target === 'number' && sidecarHosts.has(e.target)) longSidecarPauses++;
        else longLeaderPauses++;
      }
    }
  }
  const crashes = candidates
    .filter((e) => e.ev === 'error' && (e as { fatal?: boolean }).fatal)
    .map((e) => ({ pid: e.pid, slot: e.slot, t: e.t, message: String((e as { message?: string }).message ?? '') }));
  // A `baton run` that exited before the run ended without being killed: its command exited
  // on its own (baton then exits too) or baton itself failed.
  const killed = new Set(harness.flatMap((e) => (e.ev === 'kill' ? [e.pid] : [])));
  for (const e of harness) {
    if (e.ev === 'exit' && sidecarHosts.has(e.pid) && !killed.has(e.pid) && e.t < run.endAt) {
      crashes.push({ pid: e.pid, slot: e.slot, t: e.t, message: `baton run exited on its own (${e.signal ?? e.code})` });
    }
  }

  violations.sort((a, b) => a.t - b.t);
  return {
    ok: violations.length === 0,
    violations,
    summary: {
      backend: run.backend,
      seed: run.seed,
      startedAt: run.t,
      durationMs: run.endAt - run.t,
      faultsByKind,
      faultsSkipped,
      longLeaderPauses,
      longSidecarPauses,
      sidecarsSpawned: sidecarHosts.size,
      clock,
      wakeBoundMs,
      terms,
      overlappingTerms,
      resumedStale,
      writes,
      afterResumedPause,
      sidecars,
      longestGap,
      longestGapAfterFaults,
      leaderlessBoundMs: run.leaderlessBoundMs,
      crashes,
    },
  };
}

/** Stretches with no running leader (paused stretches of a term do not count as leadership). */
function leaderlessGaps(terms: readonly Term[], pauses: Map<number, Intervals>, run: RunInfo, violations: Violation[]): { longestGap: Gap | null; longestGapAfterFaults: Gap | null } {
  const covered: Intervals = [];
  for (const term of terms) {
    let pieces: Intervals = [[term.start, term.end]];
    for (const [from, to] of pauses.get(term.pid) ?? []) pieces = pieces.flatMap(([a, b]) => subtract(a, b, from, to));
    covered.push(...pieces);
  }
  const merged = mergeIntervals(covered);
  const gaps: Gap[] = [];
  if (merged.length === 0) {
    gaps.push(gap(run.t, run.endAt));
  } else {
    for (let i = 0; i + 1 < merged.length; i++) gaps.push(gap(merged[i]![1], merged[i + 1]![0]));
    const lastEnd = merged[merged.length - 1]![1];
    if (lastEnd < run.endAt) gaps.push(gap(lastEnd, run.endAt));
  }
  const longest = (list: Gap[]): Gap | null => list.reduce<Gap | null>((best, g) => (best === null || g.ms > best.ms ? g : best), null);
  const afterFaults = gaps.filter((g) => g.to > run.faultsEndAt).map((g) => gap(Math.max(g.from, run.faultsEndAt), g.to));
  for (const g of afterFaults) {
    if (g.ms > run.leaderlessBoundMs) {
      violations.push({
        kind: 'leaderless-too-long',
        t: g.from,
        message: `no leader for ${fmt(g.ms)} ms after the faults stopped (from ${fmt(g.from - run.t)} ms; bound ${run.leaderlessBoundMs} ms)`,
      });
    }
  }
  return { longestGap: longest(gaps), longestGapAfterFaults: longest(afterFaults) };
}

function gap(from: number, to: number): Gap {
  return { from, to, ms: Math.max(0, to - from) };
}

function emptySummary(): CheckSummary {
  return {
    backend: '?',
    seed: 0,
    startedAt: 0,
    durationMs: 0,
    faultsByKind: {},
    faultsSkipped: 0,
    longLeaderPauses: 0,
    longSidecarPauses: 0,
    sidecarsSpawned: 0,
    clock: { offsets: {}, maxUncertaintyMs: 0, floorMs: 0, toleranceMs: 0, unsynced: [] },
    wakeBoundMs: 0,
    terms: [],
    overlappingTerms: 0,
    resumedStale: [],
    writes: { accepted: 0, rejected: 0, unanswered: 0, fromResumedStale: { accepted: 0, rejected: 0 } },
    afterResumedPause: { guarded: { leaders: 0, sent: 0, refusedByGuard: 0 }, unguarded: { leaders: 0, sent: 0 } },
    sidecars: { commands: 0, handovers: { pause: { count: 0, minGapMs: null }, kill: { count: 0, minGapMs: null }, other: { count: 0, minGapMs: null } } },
    longestGap: null,
    longestGapAfterFaults: null,
    leaderlessBoundMs: 0,
    crashes: [],
  };
}
