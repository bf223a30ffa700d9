import type { CheckResult } from './checker-result.ts';
import type { FaultKind } from './history.ts';

/** The human-readable report the harness prints. */
export function formatReport(result: CheckResult, options: { maxTerms?: number } = {}): string {
  const s = result.summary;
  const origin = s.startedAt;
  const lines: string[] = [];
  lines.push(`backend ${s.backend}  seed ${s.seed}  duration ${(s.durationMs / 1000).toFixed(1)} s`);
  const faults = Object.entries(s.faultsByKind).map(([k, n]) => `${k} ×${n}`);
  lines.push(`faults injected: ${faults.length > 0 ? faults.join(', ') : 'none'}${s.faultsSkipped ? ` (${s.faultsSkipped} skipped)` : ''}`);
  const synced = Object.keys(s.clock.offsets).length;
  lines.push(
    `clock: ${synced} candidate clocks put on the harness clock (largest offset uncertainty ${s.clock.maxUncertaintyMs.toFixed(3)} ms); ` +
      `tolerance ${s.clock.toleranceMs.toFixed(3)} ms = 2 × uncertainty + ${s.clock.floorMs} ms resolution floor` +
      (s.clock.unsynced.length > 0 ? `; UNSYNCED pids ${s.clock.unsynced.join(', ')}` : ''),
  );
  lines.push(
    `terms: ${s.terms.length} (${Math.max(0, s.terms.length - 1)} handovers), overlapping beliefs: ${s.overlappingTerms}, ` +
      `tokens ${s.terms[0]?.token ?? '-'}…${s.terms[s.terms.length - 1]?.token ?? '-'}`,
  );
  const maxAwake = s.resumedStale.reduce((max, r) => Math.max(max, r.awakeMs), 0);
  lines.push(
    `resumed-stale leaders: ${s.resumedStale.length} (leader pauses long enough for a takeover: ${s.longLeaderPauses}); their writes after the successor began: ` +
      `${s.writes.fromResumedStale.rejected} rejected by fencing, ${s.writes.fromResumedStale.accepted} accepted; ` +
      `longest belief after waking ${maxAwake.toFixed(1)} ms (bound ${s.wakeBoundMs} ms)`,
  );
  const p = s.afterResumedPause;
  lines.push(
    `writes after a resumed pause: guarded leaders ${p.guarded.sent} sent (${p.guarded.leaders} woke stale, ${p.guarded.refusedByGuard} writes refused by assertLeading()); ` +
      `unguarded probe ${p.unguarded.sent} sent (${p.unguarded.leaders} woke stale; the fence must refuse them)`,
  );
  lines.push(`writes: ${s.writes.accepted} accepted, ${s.writes.rejected} rejected by fencing, ${s.writes.unanswered} unanswered`);
  const h = s.sidecars.handovers;
  const gapOf = (x: { count: number; minGapMs: number | null }): string => `${x.count}${x.minGapMs === null ? '' : ` (narrowest gap ${x.minGapMs.toFixed(0)} ms)`}`;
  lines.push(
    `baton run: ${s.sidecars.commands} commands; handovers from a command after its baton was paused ${gapOf(h.pause)}, killed ${gapOf(h.kill)}, otherwise ${gapOf(h.other)}` +
      `; leading baton paused long enough for a takeover: ${s.longSidecarPauses}`,
  );
  const g = s.longestGap;
  const ga = s.longestGapAfterFaults;
  lines.push(`longest leaderless gap: ${g ? `${g.ms.toFixed(0)} ms` : '-'}; after faults stopped: ${ga ? `${ga.ms.toFixed(0)} ms` : '0 ms'} (bound ${s.leaderlessBoundMs} ms)`);
  if (s.crashes.length > 0) {
    lines.push(`candidate crashes (not injected): ${s.crashes.length}`);
    for (const c of s.crashes.slice(0, 5)) lines.push(`  pid ${c.pid} slot ${c.slot}: ${c.message.split('\n')[0]}`);
  }
  const maxTerms = options.maxTerms ?? 40;
  lines.push(`leadership intervals (ms from the start of the run; token, slot/pid, length, how it ended):`);
  for (const term of s.terms.slice(0, maxTerms)) {
    lines.push(
      `  ${(term.start - origin).toFixed(0).padStart(8)} → ${(term.end - origin).toFixed(0).padStart(8)}  token ${String(term.token).padStart(4)}  ` +
        `slot ${term.slot} pid ${term.pid}  ${(term.end - term.start).toFixed(0)} ms  ${term.endedBy}${term.pausedMs > 0 ? ` (paused ${term.pausedMs.toFixed(0)} ms)` : ''}`,
    );
  }
  if (s.terms.length > maxTerms) lines.push(`  … ${s.terms.length - maxTerms} more`);
  lines.push(result.ok ? 'verdict: OK — no violations' : `verdict: FAILED — ${result.violations.length} violation(s):`);
  for (const v of result.violations.slice(0, 30)) lines.push(`  [${v.kind}] ${v.message}`);
  if (result.violations.length > 30) lines.push(`  … ${result.violations.length - 30} more`);
  return lines.join('\n');
}

/**
 * What a harness run must show besides "no violation", so that a run that tested nothing
 * cannot pass: each enabled fault kind injected, leadership moved, the leader wrote, nobody
 * crashed, every candidate clock measured, a leader paused past the bound was superseded
 * and woke stale (and none of its writes got through), no leaderless stretch past the bound,
 * and at least `minFaults` faults injected (the release profile's 200: a run shortened by a
 * flag, or one whose faults were skipped, is no release run). Used by the CI tests and by
 * `pnpm harness` (both profiles). Empty when all hold.
 */
export function expectationFailures(result: CheckResult, kinds: readonly FaultKind[], options: { minFaults?: number } = {}): string[] {
  const s = result.summary;
  const failures: string[] = [];
  const expect = (ok: boolean, what: string): void => void (ok || failures.push(what));
  expect(result.ok, `${result.violations.length} violation(s)`);
  expect(s.crashes.length === 0, `${s.crashes.length} candidate crash(es)`);
  const injected = Object.values(s.faultsByKind).reduce((sum, n) => sum + n, 0);
  const minFaults = options.minFaults ?? 0;
  expect(injected >= minFaults, `${injected} fault(s) injected, fewer than the ${minFaults} required`);
  for (const kind of kinds) expect((s.faultsByKind[kind] ?? 0) >= 1, `no ${kind} fault was injected`);
  expect(s.terms.length >= 3, `only ${s.terms.length} term(s): leadership did not move`);
  expect(s.writes.accepted > 0, 'no write was accepted');
  expect(s.clock.unsynced.length === 0, `unsynchronised candidate clocks: ${s.clock.unsynced.join(', ')}`);
  expect(s.writes.fromResumedStale.accepted === 0, `${s.writes.fromResumedStale.accepted} write(s) of resumed-stale leaders accepted`);
  if (kinds.includes('pause') && s.longLeaderPauses > 0) {
    expect(s.resumedStale.length >= 1, `${s.longLeaderPauses} leader pause(s) were long enough for a takeover, yet no successor began during one`);
  }
  if (kinds.includes('pause') && s.longSidecarPauses > 0) {
    expect(s.sidecars.handovers.pause.count >= 1, `${s.longSidecarPauses} pause(s) of a leading baton run were long enough for a takeover, yet no command took over during one`);
  }
  if (s.sidecarsSpawned > 0) expect(s.sidecars.commands >= 1, 'no baton run command ever ran');
  // The synchronous lease check: a guarded leader woken from a pause writes nothing more.
  expect(s.afterResumedPause.guarded.sent === 0, `${s.afterResumedPause.guarded.sent} write(s) sent by guarded leaders after a resumed pause`);
  expect((s.longestGapAfterFaults?.ms ?? 0) <= s.leaderlessBoundMs, 'leaderless past the bound after the faults');
  return failures;
}
