// Checks a recorded history: `node bench/src/harness/check.ts path/to/history.jsonl [--json]`.
// Prints the summary (faults by kind, leadership intervals, violations, longest leaderless
// gap); exit code 1 when there is a violation.
import { readFileSync } from 'node:fs';
import { checkHistory, formatReport } from './checker.ts';
import { parseHistory } from './history.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/src/harness/check.ts HISTORY.jsonl [--json]\n');
  process.exit(2);
}
const result = checkHistory(parseHistory(readFileSync(file, 'utf8')));
process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(result, null, 2)}\n` : `${formatReport(result, { maxTerms: 200 })}\n`);
process.exit(result.ok ? 0 : 1);
