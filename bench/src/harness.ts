// The safety harness: `pnpm harness [--backend lease,redis|all] [--minutes 10] [--seed N] ...`
//
// For each backend: N candidate processes, each behind a TCP proxy, a protected resource that
// enforces fencing, and a seeded fault schedule (SIGKILL, SIGSTOP/SIGCONT longer than the
// lease, proxy cut/delay/drop, backend restart). Then the checker reads the history and
// prints a summary. Exit code 1 when any backend has a violation.
//
// Flags:
//   --backend LIST     lease, endpoints, redis, postgres, comma-separated, or all (default)
//   --profile NAME     ci (short: ~16 s of faults, lease 1.5 s) or release (default: 200
//                      faults per backend, ~11 min each, lease 2 s; a release run that
//                      injected fewer than 200 fails its expectations)
//   --faults N         inject N faults, however long that takes (release: 200)
//   --minutes M        instead, a fault phase of M minutes (ci: ~0.27)
//   --seed N           the fault schedule's seed (default: random, printed)
//   --candidates N     library candidate processes (profile: 4)
//   --unguarded N      of which write without term.assertLeading(), the fencing probe (profile: 1)
//   --sidecars N       `baton run` candidates beside them (profile: ci 1, release 2)
//   --calm F           scale the calm between faults (ci 1, release 0.5 = denser, more compounding)
//   --kinds LIST       fault kinds (default all): kill,pause,proxy-cut,proxy-delay,proxy-drop,backend-restart
//   --lease/--renew/--retry MS   timings (override the profile)
//   --dir DIR          keep the run's files there (default: a temp dir, printed)
//   --pg-shared        PostgreSQL: use the shared server, where a "restart" only ends this
//                      run's sessions (default: a throwaway cluster restarted for real)
//   --json FILE        also write every run's summary as JSON (what results/harness-release.json
//                      holds; bench/src/harness/release-table.ts merges such files)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseBackends } from './backends/index.ts';
import { expectationFailures, formatReport } from './harness/checker.ts';
import { compactSummary } from './harness/summary.ts';
import { FAULT_KINDS } from './harness/history.ts';
import type { FaultKind } from './harness/history.ts';
import { PROFILES, faultAmount } from './harness/profiles.ts';
import type { HarnessProfile } from './harness/profiles.ts';
import { runHarness } from './harness/run.ts';
import { randomSeed } from './lib/prng.ts';


const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'all' },
    profile: { type: 'string', default: 'release' },
    minutes: { type: 'string' },
    faults: { type: 'string' },
    seed: { type: 'string' },
    candidates: { type: 'string' },
    unguarded: { type: 'string' },
    sidecars: { type: 'string' },
    kinds: { type: 'string' },
    calm: { type: 'string' },
    lease: { type: 'string' },
    renew: { type: 'string' },
    retry: { type: 'string' },
    dir: { type: 'string' },
    'pg-shared': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write('usage: pnpm harness [--backend all|lease,endpoints,redis,postgres] [--profile ci|release] [--faults N | --minutes M] [--seed N] [--candidates N] [--unguarded N] [--sidecars N] [--calm F] [--kinds k1,k2] [--dir DIR] [--pg-shared]\n');
  process.exit(0);
}

const profile: HarnessProfile | undefined = PROFILES[values.profile as keyof typeof PROFILES];
if (!profile) throw new Error(`unknown profile "${values.profile}" (ci, release)`);
const timings = {
  leaseDurationMs: Number(values.lease ?? profile.timings.leaseDurationMs),
  renewDeadlineMs: Number(values.renew ?? profile.timings.renewDeadlineMs),
  retryPeriodMs: Number(values.retry ?? profile.timings.retryPeriodMs),
};
const amount = faultAmount(profile, values);
const calm = values.calm === undefined ? profile.calm : Number(values.calm);
const seed = values.seed === undefined ? randomSeed() : Number(values.seed) >>> 0;
const kinds = (values.kinds?.split(',').map((k) => k.trim()) ?? [...FAULT_KINDS]) as FaultKind[];
for (const kind of kinds) if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault kind "${kind}" (${FAULT_KINDS.join(', ')})`);

process.stdout.write(`seed ${seed} (repeat with --seed ${seed})\n`);
const results: unknown[] = [];
let failed = false;
for (const backend of parseBackends(values.backend)) {
  const run = await runHarness({
    backend,
    candidates: Number(values.candidates ?? profile.candidates),
    unguarded: Number(values.unguarded ?? profile.unguarded),
    sidecars: Number(values.sidecars ?? profile.sidecars),
    seed,
    ...amount,
    timings,
    kinds,
    calm,
    dedicatedPostgres: !values['pg-shared'],
    ...(values.dir ? { dir: join(values.dir, backend) } : {}),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  // Both profiles assert every count, not only "no violation" (see expectationFailures); a
  // release run also the number of faults, whatever flags shortened it.
  const failures = expectationFailures(run.result, kinds, { minFaults: profile.minFaults });
  process.stdout.write(`\n${formatReport(run.result)}\n${failures.length > 0 ? `EXPECTATIONS FAILED: ${failures.join('; ')}\n` : 'expectations: all met\n'}history: ${run.historyFile}\n\n`);
  results.push({ backend, dir: run.dir, ok: run.result.ok && failures.length === 0, failures, violations: run.result.violations, summary: compactSummary(run.result) });
  failed ||= failures.length > 0;
  // After every backend, so that a long run stopped half-way keeps what it finished.
  if (values.json) writeFileSync(values.json, JSON.stringify({ seed, profile: values.profile, timings, ...amount, calm, results }, null, 2));
}
process.exit(failed ? 1 : 0);
