// The CI profile of the safety harness, shared by the per-backend test files (one file per
// backend, so jest runs them on both workers).
import { expect } from '@jest/globals';
import type { BackendName } from '../src/backends/types.ts';
import { expectationFailures, formatReport } from '../src/harness/checker.ts';
import { FAULT_KINDS } from '../src/harness/history.ts';
import { runHarness } from '../src/harness/run.ts';
import { PROFILES } from '../src/harness/profiles.ts';

/** Fixed seeds keep CI reproducible; BATON_HARNESS_SEED overrides them. */
const SEEDS: Record<BackendName, number> = { lease: 1001, endpoints: 2002, redis: 3003, postgres: 4004, etcd: 5005 };

export const CI_TIMEOUT_MS = 150_000;

/** The title every backend's CI harness test carries: what the checker actually establishes. */
export const CI_TITLE =
  'no two running actors (library leaders, baton run commands) overlap beyond the measured clock tolerance, a paused guarded leader writes nothing more, the fence refuses stale writes, every write is inside its term and on both records, under kill, pause, proxy faults and a backend restart';

export async function harnessCi(backend: BackendName): Promise<void> {
  const seed = process.env.BATON_HARNESS_SEED ? Number(process.env.BATON_HARNESS_SEED) : SEEDS[backend];
  // PostgreSQL on a throwaway cluster of the run's own, so its backend restart is a real one.
  const { minFaults, ...profile } = PROFILES.ci;
  const run = await runHarness({ backend, seed, ...profile, dedicatedPostgres: backend === 'postgres' });
  const { result } = run;
  const report = `${formatReport(result)}\nhistory: ${run.historyFile}`;
  // Every count: no violation of any kind, no crash, each fault kind injected, leadership
  // moved, writes accepted, clocks measured, no resumed-stale write accepted, a long leader
  // pause seen as resumed-stale, a baton run command run (and taking over from a long pause
  // of a leading baton), no write by a guarded leader after a resumed pause, the leaderless
  // bound kept.
  const failures = expectationFailures(result, FAULT_KINDS, { minFaults });
  if (failures.length > 0) throw new Error(`harness on ${backend} failed: ${failures.join('; ')}\n${report}`);
  const s = result.summary;
  expect(result.violations).toEqual([]);
  expect(s.writes.fromResumedStale.accepted).toBe(0);
  expect(s.afterResumedPause.guarded.sent).toBe(0);
  // The sidecar leads first (run.ts), so its command always runs and is the first fault's likely target.
  expect(s.sidecars.commands).toBeGreaterThanOrEqual(1);
  expect(s.resumedStale.every((r) => r.writesAccepted === 0 && r.awakeMs <= s.wakeBoundMs + s.clock.toleranceMs)).toBe(true);
  // The tolerance stays small beside what is checked with it (terms of hundreds of ms).
  expect(s.clock.toleranceMs).toBeLessThan(PROFILES.ci.timings.retryPeriodMs / 5);
  process.stdout.write(`${report}\n`);
}
