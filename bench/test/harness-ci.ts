// The CI profile of the safety harness, shared by the per-backend test files (one file per
// backend, so jest runs them on both workers).
import { expect } from '@jest/globals';
import type { BackendName } from '../src/backends/types.ts';
import { formatReport } from '../src/harness/checker.ts';
import { FAULT_KINDS } from '../src/harness/history.ts';
import { runHarness } from '../src/harness/run.ts';
import { PROFILES } from '../src/harness/profiles.ts';

/** Fixed seeds keep CI reproducible; BATON_HARNESS_SEED overrides them. */
const SEEDS: Record<BackendName, number> = { lease: 1001, endpoints: 2002, redis: 3003, postgres: 4004 };

export const CI_TIMEOUT_MS = 150_000;

export async function harnessCi(backend: BackendName): Promise<void> {
  const seed = process.env.BATON_HARNESS_SEED ? Number(process.env.BATON_HARNESS_SEED) : SEEDS[backend];
  const run = await runHarness({ backend, seed, ...PROFILES.ci });
  const { result } = run;
  const report = `${formatReport(result)}\nhistory: ${run.historyFile}`;
  if (!result.ok || result.summary.crashes.length > 0) throw new Error(`harness on ${backend} failed:\n${report}`);
  // The faults really happened: every kind at least once, and some of them on the leader.
  for (const kind of FAULT_KINDS) expect(result.summary.faultsByKind[kind] ?? 0).toBeGreaterThanOrEqual(1);
  // Leadership moved (kills and pauses of the leader force handovers) and the leader did its work.
  expect(result.summary.terms.length).toBeGreaterThanOrEqual(3);
  expect(result.summary.writes.accepted).toBeGreaterThan(0);
  expect(result.summary.longestGapAfterFaults?.ms ?? 0).toBeLessThanOrEqual(result.summary.leaderlessBoundMs);
}
