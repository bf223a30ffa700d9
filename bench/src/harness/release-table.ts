// Merges the `--json` files of release runs made one or two backends at a time into one
// results file and prints bench/README.md's table for it, so the committed JSON and the
// README cannot disagree:
//   node bench/src/harness/release-table.ts bench/results/harness-release.json /tmp/h-lease.json /tmp/h-redis.json …
import { readFileSync, writeFileSync } from 'node:fs';
import { TABLE_HEADER, tableRow } from './summary.ts';
import type { RunEntry } from './summary.ts';

interface RunFile {
  seed: number;
  profile?: string;
  timings: unknown;
  faults?: number;
  faultPhaseMs?: number;
  calm: number;
  results: Array<RunEntry & { dir?: string }>;
}

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  process.stderr.write('usage: node bench/src/harness/release-table.ts OUT.json RUN.json…\n');
  process.exit(2);
}
const files = inputs.map((file) => JSON.parse(readFileSync(file, 'utf8')) as RunFile);
const [first] = files as [RunFile, ...RunFile[]];
// Runs of different settings in one table would compare unlike with unlike.
const settings = (f: RunFile): string => JSON.stringify([f.seed, f.profile, f.timings, f.faults, f.faultPhaseMs, f.calm]);
for (const [i, f] of files.entries()) {
  if (settings(f) !== settings(first)) throw new Error(`${inputs[i]} was run with other settings than ${inputs[0]}: ${settings(f)} vs ${settings(first)}`);
}
const { results: _results, ...header } = first;
// The run directories were temporary; the committed file keeps what the checker found.
const results = files.flatMap((f) => f.results.map(({ dir: _dir, ...entry }) => entry));
writeFileSync(out, `${JSON.stringify({ ...header, results }, null, 2)}\n`);
process.stdout.write(`${TABLE_HEADER}\n${results.map(tableRow).join('\n')}\n`);
