/**
 * `baton run … 2>&1 | head`: when the reader of baton's stdout/stderr goes away, baton's own
 * writes fail with EPIPE. That must not kill baton, lose the command's exit code, or leave
 * the lease held.
 */
import { execFile, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { openLock } from '@baton/runtime';
import { configFromFlags, deleteRedisKeys, runKeyPrefix } from './support/backends.ts';
import { BATON_BIN, FAST, uniqueName } from './support/process.ts';

const prefix = runKeyPrefix('pipe');
const backend = ['--backend', 'redis', '--url', 'redis://127.0.0.1:6379', '--redis-key-prefix', prefix];
afterAll(() => deleteRedisKeys(prefix));

async function holderOf(lock: string): Promise<string | undefined> {
  const opened = await openLock(await configFromFlags(backend, lock), { identity: 'observer' });
  try {
    return (await opened.lock.get())?.record.holderIdentity;
  } finally {
    await opened.close();
  }
}

/** baton with stdout and stderr on pipes this test closes after the first line of stderr. */
function runAndCloseAfterFirstLine(args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [BATON_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.once('data', () => {
    child.stdout!.destroy();
    child.stderr!.destroy();
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe.each(['json', 'pretty'])('with %s logs', (format) => {
  it('exits with the command’s code and releases the lease when its output pipe closes early', async () => {
    const lock = uniqueName('pipe');
    // The command outlives the pipe (it sleeps), so every log line after the first hits EPIPE.
    const command = ['sh', '-c', 'sleep 0.3; exit 7'];
    const result = await runAndCloseAfterFirstLine(['run', ...backend, '--id', lock, '--identity', 'a', '--no-http', '--log-format', format, ...FAST, '--', ...command]);
    expect(result).toEqual({ code: 7, signal: null });
    expect(await holderOf(lock)).toBe('');
  });
});

it('`baton run … -- sh -c "echo hi; exit 7" 2>&1 | head -1` prints hi and exits 7', async () => {
  const lock = uniqueName('head');
  const line = [process.execPath, BATON_BIN, 'run', ...backend, '--id', lock, '--identity', 'a', '--no-http', '--log-level', 'warn', ...FAST, '--', 'sh', '-c', "'echo hi; exit 7'"];
  const script = `${line.join(' ')} 2>&1 | head -1; exit \${PIPESTATUS[0]}`;
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile('bash', ['-c', script], (error, out) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out }));
  });
  expect(stdout).toBe('hi\n');
  expect(code).toBe(7);
  expect(await holderOf(lock)).toBe('');
});
