import type { CheckResult } from './checker-result.ts';
import type { SidecarHandovers } from './checker-sidecar.ts';
import type { FaultKind } from './history.ts';

/**
 * A run's summary as committed (`results/harness-release.json`): the counts of the report,
 * without the per-term and per-write detail that stays in the run's own directory.
 */
export function compactSummary(result: CheckResult) {
  const s = result.summary;
  const termsByMode: Record<string, number> = {};
  for (const term of s.terms) termsByMode[term.mode] = (termsByMode[term.mode] ?? 0) + 1;
  return {
    backend: s.backend,
    seed: s.seed,
    durationMs: Math.round(s.durationMs),
    faults: Object.values(s.faultsByKind).reduce((sum, n) => sum + n, 0),
    faultsByKind: s.faultsByKind,
    faultsSkipped: s.faultsSkipped,
    clockToleranceMs: round(s.clock.toleranceMs, 3),
    terms: s.terms.length,
    termsByMode,
    overlappingTerms: s.overlappingTerms,
    longLeaderPauses: s.longLeaderPauses,
    longSidecarPauses: s.longSidecarPauses,
    sidecarsSpawned: s.sidecarsSpawned,
    resumedStale: s.resumedStale.length,
    longestBeliefAfterWakingMs: round(s.resumedStale.reduce((max, r) => Math.max(max, r.awakeMs), 0), 1),
    writes: s.writes,
    afterResumedPause: s.afterResumedPause,
    sidecars: s.sidecars,
    longestGapMs: Math.round(s.longestGap?.ms ?? 0),
    longestGapAfterFaultsMs: Math.round(s.longestGapAfterFaults?.ms ?? 0),
    leaderlessBoundMs: s.leaderlessBoundMs,
    crashes: s.crashes.length,
  };
}

export type CompactSummary = ReturnType<typeof compactSummary>;

/** One backend's entry of a `pnpm harness --json` file. */
export interface RunEntry {
  backend: string;
  ok: boolean;
  failures: string[];
  violations: unknown[];
  summary: CompactSummary;
}

/** The order of the table's fault column. */
const TABLE_KINDS: FaultKind[] = ['kill', 'pause', 'proxy-cut', 'proxy-delay', 'proxy-drop', 'backend-restart'];

export const TABLE_HEADER = [
  '| backend | faults: kill / pause / cut / delay / drop / restart | terms (of which `baton run` commands) | resumed-stale library leaders | guarded: writes sent after a resumed pause, of stale leaders | probe: writes sent after a resumed pause → fence | sidecar handovers after baton paused / killed / other (narrowest gap, old command\'s last write → next actor\'s first) | writes accepted / rejected / unanswered | longest leaderless gap (after faults) | violations | expectations |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
].join('\n');

/** The row of bench/README.md's release table for one backend. */
export function tableRow(entry: RunEntry): string {
  const s = entry.summary;
  const g = s.afterResumedPause.guarded;
  const u = s.afterResumedPause.unguarded;
  const h = s.sidecars.handovers;
  const handover = (x: SidecarHandovers): string => `${x.count}${x.minGapMs === null ? '' : ` (${Math.round(x.minGapMs)} ms)`}`;
  return `| ${[
    s.backend,
    `${s.faults}: ${TABLE_KINDS.map((k) => s.faultsByKind[k] ?? 0).join(' / ')}`,
    `${s.terms} (${s.sidecars.commands} commands)`,
    String(s.resumedStale),
    `${g.sent} of ${g.leaders} (${g.refusedByGuard} refused by the check)`,
    `${u.sent} of ${u.leaders} → ${s.writes.fromResumedStale.rejected} rejected / ${s.writes.fromResumedStale.accepted} accepted`,
    `${handover(h.pause)} / ${handover(h.kill)} / ${handover(h.other)}`,
    `${s.writes.accepted} / ${s.writes.rejected} / ${s.writes.unanswered}`,
    `${s.longestGapMs} ms (${s.longestGapAfterFaultsMs} ms)`,
    String(entry.violations.length),
    entry.failures.length === 0 ? 'met' : `**not met**: ${entry.failures.join('; ')}`,
  ].join(' | ')} |`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
