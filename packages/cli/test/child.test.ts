import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exitCodeOf, runCommand } from '../src/child.ts';
import { processAlive, waitFor } from './support/process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-child-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const node = (script: string): string[] => [process.execPath, '-e', script];

describe('runCommand', () => {
  it('passes the exit code through', async () => {
    const before = Date.now();
    const result = await runCommand({ command: node('process.exit(9)'), signal: new AbortController().signal, gracePeriodMs: 1_000 });
    expect(result).toEqual({ exitCode: 9, code: 9, signal: null, stopped: false, exitedAt: expect.any(Number) });
    // The watchdog's time of the exit, not baton's reading of it.
    expect(result.exitedAt).toBeGreaterThanOrEqual(before);
    expect(result.exitedAt).toBeLessThanOrEqual(Date.now());
  });

  it('stops the command with SIGTERM when the signal aborts', async () => {
    const stop = new AbortController();
    const file = join(dir, 'ready');
    const running = runCommand({
      command: node(`require('fs').writeFileSync(${JSON.stringify(file)}, String(process.pid)); setInterval(() => {}, 1e9)`),
      signal: stop.signal,
      gracePeriodMs: 2_000,
    });
    await waitFor(async () => (await import('node:fs')).existsSync(file), 5_000, 'the command to start');
    stop.abort();
    expect(await running).toEqual({ exitCode: 143, code: null, signal: 'SIGTERM', stopped: true, exitedAt: expect.any(Number) });
  });

  it('escalates to SIGKILL after the grace period', async () => {
    const stop = new AbortController();
    const file = join(dir, 'stubborn');
    const running = runCommand({
      command: node(`process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(file)}, 'x'); setInterval(() => {}, 1e9)`),
      signal: stop.signal,
      gracePeriodMs: 200,
    });
    await waitFor(async () => (await import('node:fs')).existsSync(file), 5_000, 'the command to start');
    const started = Date.now();
    stop.abort();
    const result = await running;
    expect(result).toEqual({ exitCode: 137, code: null, signal: 'SIGKILL', stopped: true, exitedAt: expect.any(Number) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('reports a command that is not found (127) or not executable (126)', async () => {
    const signal = new AbortController().signal;
    expect(await runCommand({ command: ['baton-no-such-command'], signal, gracePeriodMs: 100 })).toMatchObject({
      exitCode: 127,
      error: 'baton-no-such-command: command not found',
    });
    const script = join(dir, 'not-executable.sh');
    await writeFile(script, '#!/bin/sh\nexit 0\n');
    await chmod(script, 0o644);
    expect(await runCommand({ command: [script], signal, gracePeriodMs: 100 })).toMatchObject({ exitCode: 126 });
  });

  it('stops at once a command whose signal is already aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    const result = await runCommand({ command: node('setInterval(() => {}, 1e9)'), signal: stop.signal, gracePeriodMs: 1_000 });
    expect(result.stopped).toBe(true);
    expect(result.exitCode === 143 || result.exitCode === 0).toBe(true);
  });

  it('never outlives its watchdog', async () => {
    const stop = new AbortController();
    const file = join(dir, 'pid');
    const running = runCommand({
      command: node(`require('fs').writeFileSync(${JSON.stringify(file)}, String(process.pid)); setInterval(() => {}, 1e9)`),
      signal: stop.signal,
      gracePeriodMs: 1_000,
    });
    // The file exists before its content is written: wait for a whole pid.
    const readPid = async (): Promise<number> => {
      const fs = await import('node:fs');
      return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0;
    };
    await waitFor(async () => (await readPid()) > 0, 5_000, 'the command to start');
    const pid = await readPid();
    expect(processAlive(pid)).toBe(true);
    stop.abort();
    await running;
    expect(processAlive(pid)).toBe(false);
  });
});

describe('the command’s process group', () => {
  it('is stopped as a whole: children of the command too', async () => {
    const stop = new AbortController();
    const file = join(dir, 'background-pid');
    const running = runCommand({ command: ['sh', '-c', `sleep 300 & echo $! > ${file}; wait`], signal: stop.signal, gracePeriodMs: 1_000 });
    await waitFor(async () => (await import('node:fs')).existsSync(file) && (await import('node:fs')).readFileSync(file, 'utf8').endsWith('\n'), 5_000, 'the background process');
    const pid = Number((await import('node:fs')).readFileSync(file, 'utf8'));
    expect(processAlive(pid)).toBe(true);
    stop.abort();
    expect((await running).stopped).toBe(true);
    // Gone with its group (the watchdog waits for the group to empty; the kernel may take a
    // moment more to show the signalled background process as dead).
    await waitFor(() => !processAlive(pid), 2_000, `the background process ${pid} to be gone`);
  });

  it('does not outlive a command that exited, leaving a child behind', async () => {
    const file = join(dir, 'left-behind-pid');
    const result = await runCommand({ command: ['sh', '-c', `sleep 300 & echo $! > ${file}; exit 3`], signal: new AbortController().signal, gracePeriodMs: 1_000 });
    expect(result).toMatchObject({ exitCode: 3, stopped: false });
    expect(processAlive(Number((await import('node:fs')).readFileSync(file, 'utf8')))).toBe(false);
  });
});

describe('exitCodeOf', () => {
  it('follows the shell', () => {
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(3, null)).toBe(3);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143);
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137);
    expect(exitCodeOf(null, null)).toBe(1);
  });
});

describe('runCommand under a lease deadline (the watchdog keeps it)', () => {
  it('keeps the command running while the deadline keeps moving (renewals), far past one renewDeadline', async () => {
    const stop = new AbortController();
    const file = join(dir, 'renewed');
    const running = runCommand({
      command: node(`process.on('SIGTERM', () => process.exit(0)); require('fs').writeFileSync(${JSON.stringify(file)}, 'x'); setInterval(() => {}, 1e9)`),
      signal: stop.signal,
      gracePeriodMs: 1_000,
      // Always renewed just now, valid for 1 s: a stall of the loaded test machine shorter than
      // that must not lapse it (at 300 ms, one did: the watchdog saw no renewal in time).
      lease: { validForMs: () => 1_000, stopWithinMs: 100 },
    });
    await waitFor(async () => (await import('node:fs')).existsSync(file), 5_000, 'the command to start');
    const settled = await Promise.race([running.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 3_000))]);
    expect(settled).toBe(false); // 3 × the validity, and still running
    stop.abort();
    expect(await running).toMatchObject({ exitCode: 0, stopped: true });
    expect((await running).lapsed).toBeUndefined();
  });

  it('waits for a renewed deadline when it started too late for the first, instead of stopping the command at once', async () => {
    // The watchdog's first deadline has passed by the time it runs (a loaded machine starts a
    // process slower than the lease had left); baton renews at every reading after 300 ms. The
    // old watchdog stopped the command at once, and did so again at every restart.
    const stop = new AbortController();
    const file = join(dir, 'late-watchdog');
    let firstReading: number | undefined;
    const validForMs = (): number => {
      firstReading ??= performance.now();
      // Valid for 2 s from every later reading: a loaded machine's stalls must not lapse it.
      return performance.now() - firstReading < 300 ? 0 : 2_000;
    };
    const running = runCommand({
      command: node(`process.on('SIGTERM', () => process.exit(0)); require('fs').writeFileSync(${JSON.stringify(file)}, 'x'); setInterval(() => {}, 1e9)`),
      signal: stop.signal,
      gracePeriodMs: 1_000,
      lease: { validForMs, stopWithinMs: 100 },
    });
    await waitFor(async () => (await import('node:fs')).existsSync(file), 5_000, 'the command to start under the renewed deadline');
    stop.abort();
    const result = await running;
    expect(result).toMatchObject({ exitCode: 0, stopped: true });
    expect(result.lapsed).toBeUndefined();
  });

  it('stops the command when the deadline passes without a renewal, even though baton never asks', async () => {
    const { existsSync } = await import('node:fs');
    const file = join(dir, 'stubborn-lapse');
    let renewedAt: number | undefined;
    // Renewed until the command is up (it ignores SIGTERM by then); after that, never again.
    const validForMs = (): number => {
      if (renewedAt === undefined && existsSync(file)) renewedAt = performance.now();
      return renewedAt === undefined ? 400 : Math.max(0, renewedAt + 400 - performance.now());
    };
    const result = await runCommand({
      command: node(`process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(file)}, 'x'); setInterval(() => {}, 1e9)`),
      signal: new AbortController().signal,
      gracePeriodMs: 5_000,
      lease: { validForMs, stopWithinMs: 150 },
    });
    const elapsed = performance.now() - renewedAt!;
    expect(result).toMatchObject({ exitCode: 137, signal: 'SIGKILL', stopped: false, lapsed: true });
    expect(elapsed).toBeGreaterThanOrEqual(400 - 60); // the last reading may have been taken up to one report (50 ms) before
  });
});
