import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Suite } from './suite.ts';

const WORKER = new URL('./child-worker.ts', import.meta.url);

/** Runs `count` worker processes to completion; rejects with the stderr of one that failed. */
async function runWorkers(count: number, job: (index: number) => Record<string, unknown>): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, index) => {
      const child = spawn(process.execPath, ['--no-warnings', WORKER.pathname, JSON.stringify(job(index))], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      return new Promise<void>((resolve, reject) =>
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`worker ${index} exited with ${signal ?? code}: ${stderr}`));
        }),
      );
    }),
  );
}

/**
 * Mutual exclusion across real processes (when the target says how a child process makes its
 * locks): each worker holds the lock for tens of milliseconds, so an overlap cannot hide in
 * one event-loop turn, and overlaps are detected by an exclusive marker file, not by clocks.
 */
export function describeChildProcessContract(suite: Suite): void {
  const { target, uniqueName, timings } = suite;
  if (!target.childProcessLock) return;

  describe('distributed locks across processes', () => {
    test('4 worker processes × 5 rounds, 20 ms inside each: counter exact, never two inside, tokens increase in entry order', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baton-contract-'));
      try {
        writeFileSync(join(dir, 'counter'), '0');
        const { module, options, timings: childTimings } = await target.childProcessLock!();
        const lockName = uniqueName();
        const workers = 4;
        const rounds = 5;
        await runWorkers(workers, (index) => ({
          module: module instanceof URL ? module.href : module,
          options,
          lockName,
          identity: `process-${index}`,
          rounds,
          holdMs: 20,
          dir,
          timings: childTimings ?? timings,
        }));
        expect(existsSync(join(dir, 'overlaps')) ? readFileSync(join(dir, 'overlaps'), 'utf8') : '').toBe('');
        expect(Number(readFileSync(join(dir, 'counter'), 'utf8'))).toBe(workers * rounds);
        const tokens = readFileSync(join(dir, 'entries'), 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[0]));
        expect(tokens).toHaveLength(workers * rounds);
        for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
