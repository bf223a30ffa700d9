import type { CandidateEvent, FaultKind, HarnessEvent, HistoryEvent, ResourceEvent, RunInfo } from './history.ts';

/** One leadership term as a candidate believed it: from `start` until it saw the term end (or died). */
export interface Term {
  pid: number;
  slot: number;
  identity: string;
  token: number;
  start: number;
  end: number;
  endedBy: 'stop' | 'killed' | 'exited' | 'run-end';
  /** Time within the term during which the process was SIGSTOPped. */
  pausedMs: number;
}

export type ViolationKind =
  | 'dual-leadership'
  | 'duplicate-token'
  | 'token-not-increasing'
  | 'stale-write-accepted'
  | 'write-without-term'
  | 'leaderless-too-long'
  | 'history';

export interface Violation {
  kind: ViolationKind;
  t: number;
  message: string;
}

export interface Gap {
  from: number;
  to: number;
  ms: number;
}

export interface CheckSummary {
  backend: string;
  seed: number;
  /** When the run began (epoch ms); report times are relative to it. */
  startedAt: number;
  durationMs: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
  faultsSkipped: number;
  terms: Term[];
  /** Pairs of terms of different processes that overlapped in time (beliefs, e.g. a paused leader's). */
  overlappingTerms: number;
  writes: {
    accepted: number;
    rejected: number;
    /** Accepted writes made while a term with a higher token had already begun (before that term wrote). */
    acceptedWhileSuperseded: number;
    /** Candidate writes that got no answer (resource unreachable, timed out). */
    unanswered: number;
  };
  /** The longest time no unpaused process believed it led, over the whole run (the first election excluded). */
  longestGap: Gap | null;
  /** The longest such gap after the faults stopped. */
  longestGapAfterFaults: Gap | null;
  leaderlessBoundMs: number;
  /** Candidate processes that died of an error of their own (not killed by the harness). */
  crashes: Array<{ pid: number; slot: number; t: number; message: string }>;
}

export interface CheckResult {
  ok: boolean;
  violations: Violation[];
  summary: CheckSummary;
}

/**
 * Checks a run's history. Fails on:
 * - **dual-leadership**: two processes believed they led at the same instant (overlap beyond
 *   the clock tolerance) and the one that started later holds the same or a lower token —
 *   fencing could not tell them apart;
 * - **duplicate-token** / **token-not-increasing**: a term whose token is not strictly larger
 *   than that of every term that began before it;
 * - **stale-write-accepted**: the resource accepted a token lower than one it had accepted;
 * - **write-without-term**: an accepted write whose process and token match no term;
 * - **leaderless-too-long**: after the faults stopped, no (unpaused) leader for longer than
 *   the run's bound.
 * Overlapping beliefs with increasing tokens are not violations by themselves: a paused
 * leader believes it leads until it runs again; that is what fencing is for, and any write
 * it then makes must be rejected (else stale-write-accepted fires).
 */
export function checkHistory(history: readonly HistoryEvent[]): CheckResult {
  const violations: Violation[] = [];
  const events = [...history].sort((a, b) => a.t - b.t);
  const run = events.find((e): e is RunInfo => e.src === 'harness' && e.ev === 'run');
  if (!run) {
    return {
      ok: false,
      violations: [{ kind: 'history', t: 0, message: 'the history has no run record' }],
      summary: emptySummary(),
    };
  }
  const tolerance = run.clockToleranceMs;
  const candidates = events.filter((e): e is CandidateEvent => e.src === 'candidate');
  const harness = events.filter((e): e is HarnessEvent => e.src === 'harness');
  const resource = events.filter((e): e is ResourceEvent => e.src === 'resource');

  // ---- terms --------------------------------------------------------------------------
  const lastSeen = new Map<number, number>();
  for (const e of candidates) lastSeen.set(e.pid, Math.max(lastSeen.get(e.pid) ?? 0, e.t));
  const deaths = new Map<number, { t: number; how: 'killed' | 'exited' }>();
  for (const e of harness) {
    if (e.ev === 'kill' && !deaths.has(e.pid)) deaths.set(e.pid, { t: e.t, how: 'killed' });
    if (e.ev === 'exit' && !deaths.has(e.pid)) deaths.set(e.pid, { t: e.t, how: 'exited' });
  }
  const pauses = new Map<number, Array<[number, number]>>();
  for (const e of harness) {
    if (e.ev === 'pause') (pauses.get(e.pid) ?? pauses.set(e.pid, []).get(e.pid)!).push([e.t, Number.POSITIVE_INFINITY]);
    if (e.ev === 'resume') {
      const open = pauses.get(e.pid)?.find(([, to]) => to === Number.POSITIVE_INFINITY);
      if (open) open[1] = e.t;
    }
  }
  for (const [pid, list] of pauses) {
    const death = deaths.get(pid)?.t ?? run.endAt;
    for (const p of list) if (p[1] === Number.POSITIVE_INFINITY) p[1] = death;
  }

  const terms: Term[] = [];
  const open = new Map<number, Term>();
  const close = (term: Term, end: number, endedBy: Term['endedBy']): void => {
    term.end = Math.max(term.start, end);
    term.endedBy = endedBy;
    term.pausedMs = overlapMs(pauses.get(term.pid) ?? [], term.start, term.end);
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
      open.set(e.pid, { pid: e.pid, slot: e.slot, identity: e.identity, token: e.token, start: e.t, end: e.t, endedBy: 'stop', pausedMs: 0 });
    } else if (e.ev === 'stop') {
      const term = open.get(e.pid);
      if (term && term.token === e.token) close(term, e.t, 'stop');
    }
  }
  for (const term of [...open.values()]) {
    const death = deaths.get(term.pid);
    if (death) close(term, Math.max(death.t, death.how === 'killed' ? (lastSeen.get(term.pid) ?? death.t) : death.t), death.how);
    else close(term, run.endAt, 'run-end');
  }
  terms.sort((a, b) => a.start - b.start);

  // ---- tokens and overlapping beliefs -----------------------------------------------------
  let overlappingTerms = 0;
  for (let i = 0; i < terms.length; i++) {
    for (let j = i + 1; j < terms.length; j++) {
      const a = terms[i]!;
      const b = terms[j]!; // b.start >= a.start
      if (b.start > a.end + tolerance) {
        // Disjoint: b began after a ended, so b's token must be larger.
        if (b.token <= a.token) {
          violations.push({
            kind: b.token === a.token ? 'duplicate-token' : 'token-not-increasing',
            t: b.start,
            message: `term ${b.token} of pid ${b.pid} began after term ${a.token} of pid ${a.pid} (${fmt(b.start - a.end)} ms later) with a token not larger`,
          });
        }
        continue;
      }
      if (a.pid === b.pid) continue;
      const overlap = Math.min(a.end, b.end) - Math.max(a.start, b.start);
      if (overlap <= tolerance) continue;
      overlappingTerms++;
      if (b.token <= a.token) {
        violations.push({
          kind: 'dual-leadership',
          t: b.start,
          message:
            `pid ${a.pid} (${a.identity}, token ${a.token}) and pid ${b.pid} (${b.identity}, token ${b.token}) both believed they led ` +
            `for ${fmt(overlap)} ms from ${fmt(b.start - run.t)} ms; the later one's token is ${b.token === a.token ? 'the same' : 'lower'}`,
        });
      }
    }
  }

  // ---- the resource -------------------------------------------------------------------------
  let highest = 0;
  let acceptedWhileSuperseded = 0;
  for (const w of resource) {
    if (w.accepted) {
      if (w.token < highest) {
        violations.push({ kind: 'stale-write-accepted', t: w.t, message: `the resource accepted token ${w.token} from pid ${w.pid} after accepting ${highest}` });
      }
      highest = Math.max(highest, w.token);
      const term = terms.find((x) => x.pid === w.pid && x.token === w.token);
      if (!term) {
        violations.push({ kind: 'write-without-term', t: w.t, message: `the resource accepted a write by pid ${w.pid} with token ${w.token}, which matches no term in the history` });
      }
      if (terms.some((x) => x.token > w.token && x.start < w.t - tolerance)) acceptedWhileSuperseded++;
    }
  }
  const unanswered = candidates.filter((e) => e.ev === 'write' && e.accepted === null).length;

  // ---- leaderless gaps ----------------------------------------------------------------------
  const covered: Array<[number, number]> = [];
  for (const term of terms) {
    let pieces: Array<[number, number]> = [[term.start, term.end]];
    for (const [from, to] of pauses.get(term.pid) ?? []) pieces = pieces.flatMap(([a, b]) => subtract(a, b, from, to));
    covered.push(...pieces);
  }
  const merged = mergeIntervals(covered);
  const firstStart = merged[0]?.[0];
  const gaps: Gap[] = [];
  if (firstStart === undefined) {
    gaps.push({ from: run.t, to: run.endAt, ms: run.endAt - run.t });
  } else {
    for (let i = 0; i + 1 < merged.length; i++) gaps.push(gap(merged[i]![1], merged[i + 1]![0]));
    const lastEnd = merged[merged.length - 1]![1];
    if (lastEnd < run.endAt) gaps.push(gap(lastEnd, run.endAt));
  }
  const longestGap = gaps.reduce<Gap | null>((best, g) => (best === null || g.ms > best.ms ? g : best), null);
  const afterFaults = gaps
    .filter((g) => g.to > run.faultsEndAt)
    .map((g) => gap(Math.max(g.from, run.faultsEndAt), g.to));
  const longestGapAfterFaults = afterFaults.reduce<Gap | null>((best, g) => (best === null || g.ms > best.ms ? g : best), null);
  for (const g of afterFaults) {
    if (g.ms > run.leaderlessBoundMs) {
      violations.push({
        kind: 'leaderless-too-long',
        t: g.from,
        message: `no leader for ${fmt(g.ms)} ms after the faults stopped (from ${fmt(g.from - run.t)} ms; bound ${run.leaderlessBoundMs} ms)`,
      });
    }
  }

  // ---- faults and crashes ------------------------------------------------------------------------
  const faultsByKind: Partial<Record<FaultKind, number>> = {};
  let faultsSkipped = 0;
  for (const e of harness) {
    if (e.ev !== 'fault' || e.phase !== 'start') continue;
    if (e.skipped) faultsSkipped++;
    else faultsByKind[e.kind] = (faultsByKind[e.kind] ?? 0) + 1;
  }
  const crashes = candidates
    .filter((e) => e.ev === 'error' && (e as { fatal?: boolean }).fatal)
    .map((e) => ({ pid: e.pid, slot: e.slot, t: e.t, message: String((e as { message?: string }).message ?? '') }));

  return {
    ok: violations.length === 0,
    violations,
    summary: {
      backend: run.backend,
      seed: run.seed,
      startedAt: run.t,
      durationMs: run.endAt - run.t,
      faultsByKind,
      faultsSkipped,
      terms,
      overlappingTerms,
      writes: {
        accepted: resource.filter((w) => w.accepted).length,
        rejected: resource.filter((w) => !w.accepted).length,
        acceptedWhileSuperseded,
        unanswered,
      },
      longestGap,
      longestGapAfterFaults,
      leaderlessBoundMs: run.leaderlessBoundMs,
      crashes,
    },
  };
}

function gap(from: number, to: number): Gap {
  return { from, to, ms: Math.max(0, to - from) };
}

function overlapMs(intervals: Array<[number, number]>, from: number, to: number): number {
  return intervals.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
}

/** [a, b) minus [from, to). */
function subtract(a: number, b: number, from: number, to: number): Array<[number, number]> {
  if (to <= a || from >= b) return [[a, b]];
  const out: Array<[number, number]> = [];
  if (from > a) out.push([a, from]);
  if (to < b) out.push([to, b]);
  return out;
}

function mergeIntervals(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function fmt(ms: number): string {
  return ms.toFixed(1);
}

function emptySummary(): CheckSummary {
  return {
    backend: '?',
    seed: 0,
    startedAt: 0,
    durationMs: 0,
    faultsByKind: {},
    faultsSkipped: 0,
    terms: [],
    overlappingTerms: 0,
    writes: { accepted: 0, rejected: 0, acceptedWhileSuperseded: 0, unanswered: 0 },
    longestGap: null,
    longestGapAfterFaults: null,
    leaderlessBoundMs: 0,
    crashes: [],
  };
}

/** The human-readable report the harness prints. */
export function formatReport(result: CheckResult, options: { maxTerms?: number } = {}): string {
  const s = result.summary;
  const origin = s.startedAt;
  const lines: string[] = [];
  lines.push(`backend ${s.backend}  seed ${s.seed}  duration ${(s.durationMs / 1000).toFixed(1)} s`);
  const faults = Object.entries(s.faultsByKind).map(([k, n]) => `${k} ×${n}`);
  lines.push(`faults injected: ${faults.length > 0 ? faults.join(', ') : 'none'}${s.faultsSkipped ? ` (${s.faultsSkipped} skipped)` : ''}`);
  lines.push(
    `terms: ${s.terms.length} (${Math.max(0, s.terms.length - 1)} handovers), overlapping beliefs: ${s.overlappingTerms}, ` +
      `tokens ${s.terms[0]?.token ?? '-'}…${s.terms[s.terms.length - 1]?.token ?? '-'}`,
  );
  lines.push(
    `writes: ${s.writes.accepted} accepted, ${s.writes.rejected} rejected by fencing, ${s.writes.acceptedWhileSuperseded} accepted from a superseded term before its successor wrote, ${s.writes.unanswered} unanswered`,
  );
  const g = s.longestGap;
  const ga = s.longestGapAfterFaults;
  lines.push(`longest leaderless gap: ${g ? `${g.ms.toFixed(0)} ms` : '-'}; after faults stopped: ${ga ? `${ga.ms.toFixed(0)} ms` : '0 ms'} (bound ${s.leaderlessBoundMs} ms)`);
  if (s.crashes.length > 0) {
    lines.push(`candidate crashes (not injected): ${s.crashes.length}`);
    for (const c of s.crashes.slice(0, 5)) lines.push(`  pid ${c.pid} slot ${c.slot}: ${c.message.split('\n')[0]}`);
  }
  const maxTerms = options.maxTerms ?? 40;
  lines.push(`leadership intervals (ms from the start of the run; token, slot/pid, length, how it ended):`);
  for (const term of s.terms.slice(0, maxTerms)) {
    lines.push(
      `  ${(term.start - origin).toFixed(0).padStart(8)} → ${(term.end - origin).toFixed(0).padStart(8)}  token ${String(term.token).padStart(4)}  ` +
        `slot ${term.slot} pid ${term.pid}  ${(term.end - term.start).toFixed(0)} ms  ${term.endedBy}${term.pausedMs > 0 ? ` (paused ${term.pausedMs.toFixed(0)} ms)` : ''}`,
    );
  }
  if (s.terms.length > maxTerms) lines.push(`  … ${s.terms.length - maxTerms} more`);
  lines.push(result.ok ? 'verdict: OK — no violations' : `verdict: FAILED — ${result.violations.length} violation(s):`);
  for (const v of result.violations.slice(0, 30)) lines.push(`  [${v.kind}] ${v.message}`);
  if (result.violations.length > 30) lines.push(`  … ${result.violations.length - 30} more`);
  return lines.join('\n');
}
