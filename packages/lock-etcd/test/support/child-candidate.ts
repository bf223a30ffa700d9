import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CandidateConfig } from '../fixtures/candidate.ts';

/** One term as a candidate process reported it; `end` is when its signal aborted or the process died. */
export interface Term {
  readonly identity: string;
  readonly token: number;
  readonly start: number;
  end: number | undefined;
  endReason?: string;
}

const script = fileURLToPath(new URL('../fixtures/candidate.ts', import.meta.url));
const now = (): number => performance.timeOrigin + performance.now();

/** A candidate in its own process (see `fixtures/candidate.ts`), its terms recorded as reported. */
export class ChildCandidate {
  readonly config: CandidateConfig;
  readonly terms: Term[] = [];
  output = '';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private ready: Promise<void> = Promise.resolve();

  constructor(config: CandidateConfig) {
    this.config = config;
  }

  get identity(): string {
    return this.config.identity;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The term this process holds right now, if any. */
  get leading(): Term | undefined {
    const last = this.terms.at(-1);
    return last && last.end === undefined ? last : undefined;
  }

  /** Starts the process; resolves once it reports ready. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.identity} is running`);
    const child = spawn(process.execPath, ['--no-warnings', script], {
      env: { ...process.env, BATON_CANDIDATE: JSON.stringify(this.config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buffered = '';
    let markReady!: () => void;
    this.ready = new Promise<void>((resolve) => (markReady = resolve));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.onLine(line, markReady);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-10_000);
    });
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        // A dead process acts no more: a term it never reported ended, ends here.
        const open = this.leading;
        if (open) {
          open.end = now();
          open.endReason = 'process exited';
        }
        this.child = undefined;
        markReady();
        resolve();
      }),
    );
    await this.ready;
  }

  /** Sends `signal` and waits for the process to exit. SIGKILL ends an open term at the kill. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const at = now();
    const open = this.leading;
    child.kill(signal);
    if (signal === 'SIGKILL' && open) {
      open.end = at;
      open.endReason = 'SIGKILL';
    }
    await this.exited;
  }

  private onLine(line: string, markReady: () => void): void {
    let event: { event: string; token?: number; at?: number; reason?: string };
    try {
      event = JSON.parse(line);
    } catch {
      this.output += `${line}\n`;
      return;
    }
    if (event.event === 'ready') markReady();
    if (event.event === 'leading') this.terms.push({ identity: this.identity, token: event.token!, start: event.at!, end: undefined });
    const open = this.leading;
    if (event.event === 'stopped' && open) {
      open.end = event.at!;
      open.endReason = event.reason;
    }
  }
}

/**
 * Checks every term of every candidate: no two overlap in time, and tokens strictly increase
 * in the order terms started. @returns the violations found (empty when the history is safe).
 */
export function checkTerms(candidates: ChildCandidate[]): string[] {
  const terms = candidates.flatMap((c) => c.terms).sort((a, b) => a.start - b.start);
  const violations: string[] = [];
  for (let i = 0; i < terms.length; i++) {
    const a = terms[i]!;
    for (let j = i + 1; j < terms.length; j++) {
      const b = terms[j]!;
      if (b.start < (a.end ?? Number.POSITIVE_INFINITY)) {
        violations.push(`two leaders: ${a.identity} (token ${a.token}) and ${b.identity} (token ${b.token}) overlap by ${((a.end ?? now()) - b.start).toFixed(0)} ms`);
      }
    }
    if (i > 0 && a.token <= terms[i - 1]!.token) {
      violations.push(`token ${a.token} of ${a.identity} does not exceed the earlier term's ${terms[i - 1]!.token}`);
    }
  }
  return violations;
}
