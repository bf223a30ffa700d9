/**
 * What `baton demo` knows while it runs: the lock as its observer last read it, and every
 * event of the candidates. Each phase waits on a check bound to one candidate's term (its
 * fencing token), never on the observer's reading alone: that reading may still show the
 * previous holder, and a phase that moved on by it once sent SIGTERM to a leader whose command
 * had not yet started (on a loaded machine the command took longer to start than the stale
 * reading took to pass).
 */
import { sameRecord, type LockSnapshot } from '@baton/core';
import { formatAge } from '../record-table.ts';
import type { Candidate, CandidateEvent } from './candidate.ts';

/** A candidate's term as it logged it: when it started leading, under which token. */
export interface DemoTerm {
  candidate: Candidate;
  at: number;
  fencingToken: number;
}

export class DemoState {
  snapshot: LockSnapshot | null = null;
  private read = false;
  /** Whether the last change only renewed the lease (same holder, same term). */
  renewedOnly = false;
  /** Renewals seen since the holder last changed. */
  private renewals = 0;
  private readonly events: CandidateEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  /** Takes a fresh read of the lock; returns whether it changed. */
  lock(snapshot: LockSnapshot | null): boolean {
    const previous = this.snapshot;
    if (previous !== null && snapshot !== null && sameRecord(previous.record, snapshot.record)) return false;
    if (previous === null && snapshot === null && this.read) return false;
    this.read = true;
    this.renewedOnly =
      previous !== null &&
      snapshot !== null &&
      previous.record.holderIdentity === snapshot.record.holderIdentity &&
      previous.record.fencingToken === snapshot.record.fencingToken;
    this.renewals = this.renewedOnly ? this.renewals + 1 : 0;
    this.snapshot = snapshot;
    this.changed();
    return true;
  }

  event(event: CandidateEvent): void {
    this.events.push(event);
    this.changed();
  }

  /** A running candidate whose current term's command is working (see {@link commandWorking}). */
  leaderWorking(candidates: readonly Candidate[]): DemoTerm | undefined {
    for (const candidate of candidates) {
      const term = this.currentTerm(candidate);
      if (term && this.commandWorking(term)) return term;
    }
    return undefined;
  }

  /**
   * Whether the term's command said it is working: the line carries the term's fencing token,
   * so a line of an earlier term does not count; and the candidate has not stopped leading since.
   */
  commandWorking(term: DemoTerm): boolean {
    const current = this.currentTerm(term.candidate);
    if (current?.fencingToken !== term.fencingToken) return false;
    const line = `working as leader (fencing token ${term.fencingToken})`;
    return this.events.some((e) => e.identity === term.candidate.identity && e.kind === 'output' && e.message.includes(line));
  }

  /** The observer has read this term's lease renewed at least `times` times. */
  renewed(term: DemoTerm, times: number): boolean {
    const record = this.snapshot?.record;
    return record?.holderIdentity === term.candidate.identity && record.fencingToken === term.fencingToken && this.renewals >= times;
  }

  /** The first term that a candidate other than `not` started after `since`. */
  startedLeading(candidates: readonly Candidate[], since: number, not: Candidate): DemoTerm | undefined {
    const event = this.events.find((e) => e.kind === 'log' && e.message === 'started leading' && e.at >= since && e.identity !== not.identity);
    const candidate = event && candidates.find((c) => c.identity === event.identity);
    return candidate && event ? termOf(candidate, event) : undefined;
  }

  /** No command started before the previous one ended (the crashed one ended at `crashAt`). */
  oneCommandAtATime(crashAt: number, crashed: string): boolean {
    const runs: Array<{ start: number; end: number }> = [];
    const open = new Map<string, number>();
    for (const event of this.events) {
      if (event.kind !== 'log') continue;
      if (event.message === 'command started') open.set(event.identity, event.at);
      if (event.message === 'command exited' && open.has(event.identity)) {
        runs.push({ start: open.get(event.identity)!, end: event.at });
        open.delete(event.identity);
      }
    }
    for (const [identity, start] of open) runs.push({ start, end: identity === crashed && start <= crashAt ? crashAt : Infinity });
    runs.sort((a, b) => a.start - b.start);
    return runs.every((run, i) => i === 0 || run.start >= runs[i - 1]!.end);
  }

  /** A candidate's last log line with this message. */
  lastLog(identity: string, message: string): CandidateEvent | undefined {
    return this.events.findLast((e) => e.identity === identity && e.kind === 'log' && e.message === message);
  }

  /**
   * Resolves with `check()`'s first value other than `undefined` or `false`; rejects after
   * `timeoutMs` or on abort.
   */
  until<T>(what: string, timeoutMs: number, check: () => T | undefined | false): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
        this.waiters.delete(test);
      };
      const test = (): void => {
        const value = check();
        if (value === undefined || value === false) return;
        finish();
        resolve(value);
      };
      const onAbort = (): void => {
        finish();
        reject(new Error(`stopped while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${formatAge(timeoutMs)} waiting for ${what}`));
      }, timeoutMs);
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(test);
      test();
    });
  }

  /** The candidate's term while it leads: its last 'started leading', with no 'stopped leading' after it. */
  private currentTerm(candidate: Candidate): DemoTerm | undefined {
    if (!candidate.running) return undefined;
    const mine = this.events.filter((e) => e.identity === candidate.identity && e.kind === 'log');
    const started = mine.findLastIndex((e) => e.message === 'started leading');
    if (started < 0 || mine.slice(started + 1).some((e) => e.message === 'stopped leading')) return undefined;
    return termOf(candidate, mine[started]!);
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The term a candidate's 'started leading' line began. */
function termOf(candidate: Candidate, started: CandidateEvent): DemoTerm {
  return { candidate, at: started.at, fencingToken: Number(started.fields.fencingToken) };
}
