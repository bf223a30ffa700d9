import type { CandidateEvent, CandidateMode, HarnessEvent, RunInfo } from './history.ts';
import type { Violation } from './checker-types.ts';

/**
 * One leadership term as a candidate believed it: from `start` until it saw the term end (or
 * died). A sidecar's term is its command's life: from the command's start to its `stop` (on
 * SIGTERM) or, when it was killed outright, its last recorded act (`last-act`).
 */
export interface Term {
  pid: number;
  slot: number;
  identity: string;
  token: number;
  mode: CandidateMode;
  /** Sidecar: the spawn id of the baton process that ran the command. */
  host?: string;
  start: number;
  end: number;
  endedBy: 'stop' | 'killed' | 'exited' | 'run-end' | 'last-act';
  /** Time within the term during which the process was SIGSTOPped. */
  pausedMs: number;
}

/**
 * A leader that was SIGSTOPped while another term began: it still believes it leads when it
 * wakes, until its timers run. Allowed (no process can act while stopped), counted, and every
 * write of it that the resource accepted after its successor began is a violation.
 */
export interface ResumedStale {
  pid: number;
  token: number;
  successorPid: number;
  successorToken: number;
  /** When the successor's term began (harness clock). */
  successorStart: number;
  /** How long the two beliefs overlapped, paused part included. */
  overlapMs: number;
  /** The part of the overlap during which the stale leader was running (after SIGCONT, before it saw its term end). */
  awakeMs: number;
  writesAccepted: number;
  writesRejected: number;
}

export type Intervals = Array<[number, number]>;

/** SIGSTOP→SIGCONT intervals per pid (a pause never resumed lasts until the process died or the run ended). */
export function pauseIntervals(harness: readonly HarnessEvent[], run: RunInfo, deaths: Map<number, { t: number }>): Map<number, Intervals> {
  const pauses = new Map<number, Intervals>();
  for (const e of harness) {
    if (e.ev === 'pause') (pauses.get(e.pid) ?? pauses.set(e.pid, []).get(e.pid)!).push([e.t, Number.POSITIVE_INFINITY]);
    if (e.ev === 'resume') {
      const open = pauses.get(e.pid)?.find(([, to]) => to === Number.POSITIVE_INFINITY);
      if (open) open[1] = e.t;
    }
  }
  for (const [pid, list] of pauses) {
    const end = deaths.get(pid)?.t ?? run.endAt;
    for (const p of list) if (p[1] === Number.POSITIVE_INFINITY) p[1] = end;
  }
  return pauses;
}

export function deathsOf(harness: readonly HarnessEvent[]): Map<number, { t: number; how: 'killed' | 'exited' }> {
  const deaths = new Map<number, { t: number; how: 'killed' | 'exited' }>();
  for (const e of harness) {
    if (e.ev === 'kill' && !deaths.has(e.pid)) deaths.set(e.pid, { t: e.t, how: 'killed' });
    if (e.ev === 'exit' && !deaths.has(e.pid)) deaths.set(e.pid, { t: e.t, how: 'exited' });
  }
  return deaths;
}

/** The terms the candidates believed in, from their start/stop events and the harness's kills and exits. */
export function buildTerms(
  candidates: readonly CandidateEvent[],
  run: RunInfo,
  deaths: Map<number, { t: number; how: 'killed' | 'exited' }>,
  pauses: Map<number, Intervals>,
  violations: Violation[],
): Term[] {
  const lastSeen = new Map<number, number>();
  for (const e of candidates) lastSeen.set(e.pid, Math.max(lastSeen.get(e.pid) ?? 0, e.t));
  const terms: Term[] = [];
  const open = new Map<number, Term>();
  const close = (term: Term, end: number, endedBy: Term['endedBy']): void => {
    term.end = Math.max(term.start, end);
    term.endedBy = endedBy;
    term.pausedMs = coveredMs(pauses.get(term.pid) ?? [], term.start, term.end);
    terms.push(term);
    open.delete(term.pid);
  };
  for (const e of candidates) {
    if (e.ev === 'start') {
      const previous = open.get(e.pid);
      if (previous) {
        violations.push({ kind: 'history', t: e.t, message: `pid ${e.pid} started term ${e.token} while term ${previous.token} was open` });
        close(previous, e.t, 'stop');
      }
      const mode = e.mode ?? 'unguarded';
      open.set(e.pid, { pid: e.pid, slot: e.slot, identity: e.identity, token: e.token, mode, ...(e.host === undefined ? {} : { host: e.host }), start: e.t, end: e.t, endedBy: 'stop', pausedMs: 0 });
    } else if (e.ev === 'stop') {
      const term = open.get(e.pid);
      if (term && term.token === e.token) close(term, e.t, 'stop');
    }
  }
  for (const term of [...open.values()]) {
    const death = deaths.get(term.pid);
    // A sidecar's command is not the harness's child: when it left no `stop` it was killed
    // (SIGKILL after the grace period), and its last recorded act is the last it did.
    if (term.mode === 'sidecar') close(term, lastSeen.get(term.pid) ?? term.start, 'last-act');
    // A term logged just after the kill signal was sent (before it landed) ends at its last event.
    else if (death) close(term, death.how === 'killed' ? Math.max(death.t, lastSeen.get(term.pid) ?? death.t) : death.t, death.how);
    else close(term, run.endAt, 'run-end');
  }
  return terms.sort((a, b) => a.start - b.start);
}

/**
 * Compares every pair of terms.
 * - Tokens: a term that began later (beyond the tolerance) must hold a larger token
 *   (`token-not-increasing`, or `duplicate-token` when equal) — also for the same process.
 * - Overlap: two processes' terms may overlap only within the tolerance while both are
 *   running (`dual-leadership`), with one exception: the earlier leader was SIGSTOPped when
 *   the later one began. Then the overlap is a resumed-stale event, and the stale leader may
 *   keep believing for at most `wakeBoundMs` after it runs again (its overdue timers and
 *   `isLeading()` must end the term at once).
 */
export function compareTerms(
  terms: readonly Term[],
  pauses: Map<number, Intervals>,
  toleranceMs: number,
  wakeBoundMs: number,
  origin: number,
  violations: Violation[],
): { resumedStale: ResumedStale[]; overlappingTerms: number } {
  const resumedStale: ResumedStale[] = [];
  let overlappingTerms = 0;
  for (let i = 0; i < terms.length; i++) {
    for (let j = i + 1; j < terms.length; j++) {
      const a = terms[i]!;
      const b = terms[j]!; // b.start >= a.start
      // One baton process may start its command again within one term (the watchdog stopped it
      // at a deadline that a late renewal then moved): the same token, one after the other.
      const restartedCommand = a.host !== undefined && a.host === b.host && a.token === b.token && b.start >= a.end - toleranceMs;
      if (!restartedCommand && (b.start - a.start > toleranceMs ? b.token <= a.token : b.token === a.token)) {
        violations.push({
          kind: b.token === a.token ? 'duplicate-token' : 'token-not-increasing',
          t: b.start,
          message: `term ${b.token} of pid ${b.pid} began ${fmt(b.start - a.start)} ms after term ${a.token} of pid ${a.pid} with a token not larger`,
        });
      }
      if (a.pid === b.pid) continue;
      const from = b.start;
      const to = Math.min(a.end, b.end);
      if (to - from <= toleranceMs) continue;
      overlappingTerms++;
      const stopped = mergeIntervals([...(pauses.get(a.pid) ?? []), ...(pauses.get(b.pid) ?? [])]);
      const awakeMs = to - from - coveredMs(stopped, from, to);
      const pausedAtSuccession = (pauses.get(a.pid) ?? []).some(([p, r]) => p <= from + toleranceMs && r > from);
      if (pausedAtSuccession) {
        resumedStale.push({
          pid: a.pid,
          token: a.token,
          successorPid: b.pid,
          successorToken: b.token,
          successorStart: b.start,
          overlapMs: to - from,
          awakeMs,
          writesAccepted: 0,
          writesRejected: 0,
        });
      }
      const allowed = toleranceMs + (pausedAtSuccession ? wakeBoundMs : 0);
      if (awakeMs > allowed) {
        violations.push({
          kind: 'dual-leadership',
          t: from,
          message:
            `pid ${a.pid} (${a.identity}, token ${a.token}) and pid ${b.pid} (${b.identity}, token ${b.token}) both believed they led, running, ` +
            `for ${fmt(awakeMs)} ms from ${fmt(from - origin)} ms` +
            (pausedAtSuccession ? ` (the first woke from SIGSTOP and kept its belief longer than the wake bound ${wakeBoundMs} ms)` : ` (tolerance ${fmt(toleranceMs)} ms)`),
        });
      }
    }
  }
  return { resumedStale, overlappingTerms };
}

/** How much of [from, to) the intervals cover (they may overlap each other). */
export function coveredMs(intervals: Intervals, from: number, to: number): number {
  return mergeIntervals(intervals).reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
}

export function mergeIntervals(intervals: Intervals): Intervals {
  const sorted = intervals.filter(([a, b]) => b > a).map(([a, b]): [number, number] => [a, b]).sort((x, y) => x[0] - y[0]);
  const out: Intervals = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** [a, b) minus [from, to). */
export function subtract(a: number, b: number, from: number, to: number): Intervals {
  if (to <= a || from >= b) return [[a, b]];
  const out: Intervals = [];
  if (from > a) out.push([a, from]);
  if (to < b) out.push([to, b]);
  return out;
}

export function fmt(ms: number): string {
  return ms.toFixed(1);
}
