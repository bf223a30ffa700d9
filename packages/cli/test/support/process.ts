/**
 * Test helpers: the real `baton` binary in a child process, and waits with deadlines that
 * say what did not happen (no guessed sleeps).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { within } from '@baton/testkit';

export { uniqueName, waitFor, within } from '@baton/testkit';

export const BATON_BIN = fileURLToPath(new URL('../../bin/baton.ts', import.meta.url));

/** The short timing profile every end-to-end test uses. */
export const FAST = ['--lease-duration', '1s', '--renew-deadline', '700ms', '--retry-period', '150ms'] as const;

export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

/** A running `baton` process with its output captured line by line. */
export class BatonProcess {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<() => void>();

  /** @param ipc - give baton an IPC channel, as `baton demo` does for its candidates. */
  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}, ipc = false) {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('BATON_')));
    const stdio: Array<'ignore' | 'pipe' | 'ipc'> = ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])];
    this.child = spawn(process.execPath, [BATON_BIN, ...args], { stdio, env: { ...clean, ...env } });
    // With an IPC channel the parent's own disconnect() leaves 'close' pending; 'exit' is what counts then.
    this.exited = new Promise((resolve) => this.child.once(ipc ? 'exit' : 'close', (code, signal) => resolve({ code, signal })));
    collect(this.child.stdout!, this.stdout, () => this.notify());
    collect(this.child.stderr!, this.stderr, () => this.notify());
  }

  /** baton's JSON log lines (stderr). */
  get logs(): LogLine[] {
    return this.stderr.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }

  /** Resolves with the first log line matching, waiting up to `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string, after = 0): Promise<LogLine> {
    return this.waitUntil(() => this.logs.slice(after).find(predicate), timeoutMs, what);
  }

  waitForStdout(pattern: RegExp, timeoutMs: number, after = 0): Promise<string> {
    return this.waitUntil(() => this.stdout.slice(after).find((line) => pattern.test(line)), timeoutMs, `stdout ${pattern}`);
  }

  /** The status server's URL, from the "serving" log line. */
  async httpUrl(timeoutMs = 10_000): Promise<string> {
    const line = await this.waitForLog((l) => l.msg.startsWith('serving /leader'), timeoutMs, 'the status server');
    return line.url as string;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Exit result within `timeoutMs`, or a rejection with the captured output. */
  async exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return within(this.exited, timeoutMs, `baton to exit\n--- stderr:\n${this.stderr.join('\n')}`);
  }

  /** For afterEach: nothing may outlive the test. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  private waitUntil<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- stdout:\n${this.stdout.join('\n')}\n--- stderr:\n${this.stderr.join('\n')}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function collect(stream: NodeJS.ReadableStream, into: string[], onLine: () => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      into.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
    onLine();
  });
  stream.on('end', () => {
    if (buffer) into.push(buffer);
    onLine();
  });
}

/** Whether a process exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
