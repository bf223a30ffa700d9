// The semaphore / reader-writer harness (issue 18): candidate processes
// (primitive-candidate.ts) take permits, reads and writes on one backend while the run pauses
// (SIGSTOP for longer than a lease), kills (SIGKILL, then a fresh process) and resumes them;
// then primitive-checker.ts judges the recorded history: never more than N permit holders,
// never a writer beside anyone, tokens strictly increasing in grant order.
//
//   node bench/src/harness/primitive-run.ts --backend redis --mode semaphore [--seconds 30]
//     [--candidates 5] [--permits 2] [--seed 1] [--out DIR]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDriver } from '../backends/index.ts';
import { now, sleep } from '../lib/clock.ts';
import { Prng } from '../lib/prng.ts';
import { checkPrimitives } from './primitive-checker.ts';
import type { PrimitiveEvent } from './primitive-checker.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'redis' },
    mode: { type: 'string', default: 'semaphore' },
    seconds: { type: 'string', default: '30' },
    candidates: { type: 'string', default: '5' },
    permits: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const mode = values.mode === 'rw' ? 'rw' : 'semaphore';
const backend = values.backend!;
const permits = Number(values.permits);
const candidates = Number(values.candidates);
const seconds = Number(values.seconds);
const prng = new Prng(Number(values.seed));
const timings = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 250 };
const dir = mkdtempSync(join(tmpdir(), 'baton-prims-harness-'));
const historyFile = join(dir, 'history.jsonl');
const runId = Date.now().toString(36);
const log = (line: string): void => console.log(line);

mkdirSync(join(dir, 'server'));
const driver = await loadDriver(backend);
const server = await driver.startServer({ dir: join(dir, 'server'), runId, log });
const candidateFile = join(import.meta.dirname, 'primitive-candidate.ts');
const children: Array<ChildProcess | undefined> = [];
const faults: string[] = [];

const spawnCandidate = (slot: number): void => {
  const child = spawn(process.execPath, [candidateFile], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      BATON_BACKEND: backend,
      BATON_CONNECT: JSON.stringify(server.connectInfo()),
      BATON_LOCK: `prims-${mode}-${runId}`,
      BATON_IDENTITY: `c${slot}`,
      BATON_TIMINGS: JSON.stringify(timings),
      BATON_MODE: mode,
      BATON_PERMITS: String(permits),
      BATON_HISTORY: historyFile,
    },
  });
  children[slot] = child;
};

try {
  for (let i = 0; i < candidates; i++) spawnCandidate(i);
  const endAt = now() + seconds * 1000;
  await sleep(3000);
  while (now() < endAt - 4000) {
    const slot = Math.floor(prng.next() * candidates);
    const child = children[slot]!;
    if (prng.next() < 0.5) {
      // Paused for longer than a lease: others must take its place only after it stopped acting.
      const pauseMs = timings.leaseDurationMs * (1.2 + prng.next());
      faults.push(`SIGSTOP c${slot} for ${Math.round(pauseMs)} ms at ${Math.round(now())}`);
      child.kill('SIGSTOP');
      await sleep(pauseMs);
      child.kill('SIGCONT');
    } else {
      faults.push(`SIGKILL c${slot} at ${Math.round(now())}`);
      child.kill('SIGKILL');
      await sleep(300);
      spawnCandidate(slot);
    }
    await sleep(1000 + prng.next() * 2000);
  }
  await sleep(Math.max(0, endAt - now()));
} finally {
  for (const child of children) child?.kill('SIGTERM');
  await Promise.all(children.map((c) => (c && c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await server.stop();
}

const events = readFileSync(historyFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as PrimitiveEvent);
const verdict = checkPrimitives(events, mode, permits);
const errorEvents = events.filter((e) => e.ev === 'error') as Array<PrimitiveEvent & { message?: string }>;
const errors = errorEvents.length;
const errorSamples = [...new Set(errorEvents.map((e) => String(e.message).slice(0, 200)))].slice(0, 5);
const result = { backend, mode, permits, candidates, seconds, seed: prng.seed, timings, faults, errors, errorSamples, ...verdict };
const out = values.out ?? join(import.meta.dirname, '..', '..', 'results');
writeFileSync(join(out, `harness-${mode}-${backend}.json`), JSON.stringify(result, null, 2));
rmSync(dir, { recursive: true, force: true });
log(JSON.stringify({ ...result, faults: faults.length }, null, 1));
process.exit(verdict.violations.length === 0 && verdict.holds > 0 ? 0 : 1);
