import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { now } from './clock.ts';

/** A JSON event a child process printed on stdout (one per line). */
export type ChildEvent = Record<string, unknown> & { ev: string; t: number };

interface Waiter {
  match: (event: ChildEvent) => boolean;
  resolve: (event: ChildEvent) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A Node child process running a `.ts` file with this process's Node (type stripping), whose
 * stdout is one JSON event per line. Lines that are not JSON go to `onText`.
 */
export class ChildHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly label: string;
  readonly events: ChildEvent[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  exitedAt: number | undefined;
  readonly exited: Promise<void>;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(event: ChildEvent) => void>();
  private stderrTail = '';

  constructor(file: string | URL, options: { args?: string[]; nodeArgs?: string[]; env?: Record<string, string>; label: string; keepEvents?: boolean; onText?: (line: string) => void }) {
    const path = file instanceof URL ? file.pathname : file;
    this.label = options.label;
    this.child = spawn(process.execPath, ['--no-warnings', ...(options.nodeArgs ?? []), path, ...(options.args ?? [])], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error(`could not spawn ${path}`);
    this.pid = this.child.pid;
    const keep = options.keepEvents ?? true;
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let event: ChildEvent;
      try {
        event = JSON.parse(line) as ChildEvent;
        if (typeof event !== 'object' || event === null || typeof event.ev !== 'string') throw new Error('not an event');
      } catch {
        options.onText?.(line);
        return;
      }
      if (keep) this.events.push(event);
      for (const listener of [...this.listeners]) listener(event);
      for (const waiter of [...this.waiters]) {
        if (!waiter.match(event)) continue;
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(event);
      }
    });
    this.child.stderr!.on('data', (data: Buffer) => {
      this.stderrTail = (this.stderrTail + data.toString()).slice(-4000);
      if (process.env.BENCH_CHILD_STDERR) process.stderr.write(`[${this.label}] ${data.toString()}`);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.exitedAt = now();
        for (const waiter of [...this.waiters]) {
          this.waiters.delete(waiter);
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`${this.label} (pid ${this.pid}) exited (${signal ?? code}) while waiting; stderr: ${this.stderrTail.slice(-1500)}`));
        }
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.exitedAt === undefined;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  onEvent(listener: (event: ChildEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first event (from now on, or already seen when `past`) matching `match`. */
  waitFor(match: (event: ChildEvent) => boolean, timeoutMs: number, what = 'an event', past = false): Promise<ChildEvent> {
    if (past) {
      const seen = this.events.find(match);
      if (seen) return Promise.resolve(seen);
    }
    if (!this.alive) return Promise.reject(new Error(`${this.label} has exited; stderr: ${this.stderrTail.slice(-1500)}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`${this.label} (pid ${this.pid}): no ${what} within ${timeoutMs} ms; stderr: ${this.stderrTail.slice(-1500)}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  signal(signal: NodeJS.Signals): boolean {
    if (!this.alive) return false;
    try {
      return process.kill(this.pid, signal);
    } catch {
      return false;
    }
  }

  /** SIGCONT (in case it is stopped), SIGTERM, then SIGKILL after `graceMs`. */
  async terminate(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Prints one event line on stdout (for the parent's {@link ChildHandle}). */
export function emit(ev: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, t: now(), ...fields })}\n`);
}
