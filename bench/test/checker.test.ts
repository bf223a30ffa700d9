import { describe, expect, it } from '@jest/globals';
import { checkHistory, expectationFailures, formatReport, VIOLATION_KINDS } from '../src/harness/checker.ts';
import type { ViolationKind } from '../src/harness/checker.ts';
import type { HistoryEvent, RunInfo } from '../src/harness/history.ts';

// Hand-written histories, mutation-style: for every violation kind a history that must FAIL
// with exactly that kind, beside a near twin that must pass. A checker weakened anywhere
// breaks one of them. Times are ms from T; a run of 10 s whose faults stop at 6 s; every
// candidate measured its clock with ±0.25 ms uncertainty, so the tolerance is
// 2 × 0.25 + 0.5 (floor) = 1 ms.
const T = 1_700_000_000_000;

function run(overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    src: 'harness',
    ev: 'run',
    t: T,
    backend: 'test',
    seed: 1,
    candidates: 2,
    leaseDurationMs: 1000,
    renewDeadlineMs: 700,
    retryPeriodMs: 200,
    faultsEndAt: T + 6_000,
    endAt: T + 10_000,
    leaderlessBoundMs: 2_000,
    clockToleranceMs: 0.5,
    ...overrides,
  };
}

const c = (pid: number) => ({ src: 'candidate' as const, pid, slot: pid, identity: `c${pid}` });
/** Candidate `pid`'s clock reads `offset` ms behind the harness clock; its events below are written in harness time and shifted back. */
const offsets = new Map<number, number>();
const own = (pid: number, at: number): number => T + at - (offsets.get(pid) ?? 0);
const clock = (pid: number, offsetMs = 0, uncertaintyMs = 0.25): HistoryEvent => {
  offsets.set(pid, offsetMs);
  return { ...c(pid), ev: 'clock', t: own(pid, 0), offsetMs, uncertaintyMs, samples: 9 };
};
const start = (pid: number, at: number, token: number): HistoryEvent => ({ ...c(pid), ev: 'start', t: own(pid, at), token });
const stop = (pid: number, at: number, token: number): HistoryEvent => ({ ...c(pid), ev: 'stop', t: own(pid, at), token, reason: 'test' });
let seq = 0;
/** A write as all three parties record it: the writer's send (at − 0.3), the resource's decision (at), the writer's outcome (at + 0.3). */
function write(
  pid: number,
  at: number,
  token: number,
  accepted: boolean,
  highest = 0,
  parts: { send?: boolean; sentAt?: number; outcome?: boolean | null | 'none' } = {},
): HistoryEvent[] {
  const n = ++seq;
  const out: HistoryEvent[] = [];
  if (parts.send !== false) out.push({ ...c(pid), ev: 'send', t: own(pid, parts.sentAt ?? at - 0.3), token, seq: n });
  out.push({ src: 'resource', ev: 'write', t: T + at, pid, identity: `c${pid}`, token, seq: n, accepted, highest });
  const outcome = parts.outcome === undefined ? accepted : parts.outcome;
  if (outcome !== 'none') out.push({ ...c(pid), ev: 'write', t: own(pid, at + 0.3), token, seq: n, sentAt: own(pid, at - 0.3), accepted: outcome });
  return out;
}
const harness = (ev: 'kill' | 'pause' | 'resume', pid: number, at: number): HistoryEvent => ({ src: 'harness', ev, t: T + at, pid, slot: pid });

const kinds = (history: HistoryEvent[]): ViolationKind[] => [...new Set(checkHistory(history).violations.map((v) => v.kind))].sort();
/** The kinds a history fails with, after checking its passing twin has none. */
function failsOnlyWith(failing: HistoryEvent[], passing: HistoryEvent[]): ViolationKind[] {
  expect(checkHistory(passing).violations).toEqual([]);
  return kinds(failing);
}

/** Leader 1 from 0.1 s to 5 s, leader 2 from 6 s to the end; writes from both. */
function cleanHandover(): HistoryEvent[] {
  return [
    run(),
    clock(1),
    clock(2),
    start(1, 100, 1),
    ...write(1, 200, 1, true),
    ...write(1, 4_900, 1, true, 1),
    stop(1, 5_000, 1),
    start(2, 6_000, 2),
    ...write(2, 6_100, 2, true, 1),
  ];
}

/** Leader 1 is SIGSTOPped at 1 s; 2 takes over at 2.1 s and writes; 1 wakes at 4 s, writes once more (its outcome given), stops `awake` ms later. */
function pausedLeader(staleAccepted: boolean, awake = 5, successorWritesFirst = true): HistoryEvent[] {
  return [
    run(),
    clock(1),
    clock(2),
    start(1, 100, 1),
    ...write(1, 150, 1, true),
    harness('pause', 1, 1_000),
    start(2, 2_100, 2),
    ...(successorWritesFirst ? write(2, 2_150, 2, true, 1) : []),
    harness('resume', 1, 4_000),
    ...write(1, 4_001, 1, staleAccepted, successorWritesFirst ? 2 : 1),
    stop(1, 4_000 + awake, 1),
    ...(successorWritesFirst ? [] : write(2, 4_100, 2, true, 1)),
  ];
}

describe('checkHistory', () => {
  it('names every violation kind it can report, each tested below', () => {
    expect([...VIOLATION_KINDS].sort()).toEqual(
      [
        'dual-leadership',
        'duplicate-token',
        'token-not-increasing',
        'stale-write-accepted',
        'superseded-write-accepted',
        'resumed-stale-write-accepted',
        'write-without-term',
        'write-outside-term',
        'write-unrecorded',
        'write-record-mismatch',
        'leaderless-too-long',
        'history',
      ].sort(),
    );
  });

  it('passes a clean handover and summarises it', () => {
    const result = checkHistory(cleanHandover());
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.summary.terms.map((t) => [t.pid, t.token, t.endedBy])).toEqual([
      [1, 1, 'stop'],
      [2, 2, 'run-end'],
    ]);
    expect(result.summary.writes).toMatchObject({ accepted: 3, rejected: 0, unanswered: 0 });
    expect(result.summary.longestGap?.ms).toBeCloseTo(1_000);
    expect(result.summary.clock.toleranceMs).toBeCloseTo(1);
    expect(formatReport(result)).toContain('verdict: OK');
    expect(formatReport(result)).toContain('tolerance 1.000 ms');
  });

  describe('dual-leadership', () => {
    it('fails two running leaders whose beliefs overlap beyond the tolerance, even with increasing tokens', () => {
      // 60 ms of overlap, nobody paused: the promise is that the old leader stopped first.
      const failing = [run(), clock(1), clock(2), start(1, 100, 1), start(2, 3_000, 2), stop(1, 3_060, 1)];
      const passing = [run(), clock(1), clock(2), start(1, 100, 1), stop(1, 2_999.5, 1), start(2, 3_000, 2)];
      expect(failsOnlyWith(failing, passing)).toEqual(['dual-leadership']);
      expect(checkHistory(failing).summary.overlappingTerms).toBe(1);
    });

    it('fails an overlap just beyond the measured tolerance and passes one just within it', () => {
      const overlap = (ms: number) => [run(), clock(1), clock(2), start(1, 100, 1), start(2, 3_000, 2), stop(1, 3_000 + ms, 1)];
      expect(failsOnlyWith(overlap(1.2), overlap(0.8))).toEqual(['dual-leadership']);
      // A worse clock measurement widens the tolerance: the same 1.2 ms then passes.
      expect(checkHistory([run(), clock(1, 0, 0.4), clock(2), start(1, 100, 1), start(2, 3_000, 2), stop(1, 3_001.2, 1)]).violations).toEqual([]);
    });

    it('uses each process’s most certain clock measurement', () => {
      const history = [run(), clock(1), clock(2, 0, 5), { ...clock(2, 0, 0.25), t: T + 5_000 }, start(1, 100, 1), start(2, 3_000, 2), stop(1, 3_004, 1)];
      // With the 5 ms measurement the tolerance would be 10.5 ms and the 4 ms overlap would pass.
      expect(checkHistory(history).summary.clock.toleranceMs).toBeCloseTo(1);
      expect(kinds(history)).toEqual(['dual-leadership']);
    });

    it('compares times on the harness clock: a candidate clock 50 ms behind is corrected, both ways', () => {
      // Raw stamps overlap by 49 ms, aligned they are 1 ms apart: passes.
      const apart = [run(), clock(1), clock(2, 50), start(1, 100, 1), stop(1, 2_999, 1), start(2, 3_000, 2)];
      expect(checkHistory(apart).violations).toEqual([]);
      // Without the offset the same raw stamps would look disjoint; aligned they overlap by 40 ms.
      const overlapping = [run(), clock(1), clock(2, -50), start(1, 100, 1), stop(1, 3_040, 1), start(2, 3_000, 2)];
      expect(kinds(overlapping)).toEqual(['dual-leadership']);
    });

    it('fails an issue-21 history: two unpaused leaders for 3 s with stale writes accepted', () => {
      const history = [run(), clock(1), clock(2), start(1, 100, 1), start(2, 1_000, 2), ...write(2, 1_010, 2, true, 1)];
      for (let i = 0; i < 9; i++) history.push(...write(1, 1_100 + i * 300, 1, true, 2));
      history.push(stop(1, 4_000, 1));
      expect(kinds(history)).toEqual(['dual-leadership', 'stale-write-accepted', 'superseded-write-accepted']);
    });

    it('fails a leader paused only after its successor began (both ran together first)', () => {
      const history = [run(), clock(1), clock(2), start(1, 100, 1), start(2, 2_000, 2), harness('pause', 1, 2_100), harness('resume', 1, 4_000), stop(1, 4_001, 1)];
      expect(kinds(history)).toEqual(['dual-leadership']);
    });

    it('fails a leader woken from SIGSTOP that keeps believing longer than the wake bound (retryPeriod)', () => {
      expect(failsOnlyWith(pausedLeader(false, 250), pausedLeader(false, 150))).toEqual(['dual-leadership']);
    });
  });

  describe('resumed-stale', () => {
    it('counts a leader paused across its successor’s start as resumed-stale, and passes when fencing rejected its writes', () => {
      const result = checkHistory(pausedLeader(false));
      expect(result.violations).toEqual([]);
      expect(result.summary.resumedStale).toMatchObject([{ pid: 1, token: 1, successorPid: 2, successorToken: 2, writesAccepted: 0, writesRejected: 1 }]);
      expect(result.summary.resumedStale[0]!.awakeMs).toBeCloseTo(5);
      expect(result.summary.writes.fromResumedStale).toEqual({ accepted: 0, rejected: 1 });
      expect(result.summary.terms[0]!.pausedMs).toBeCloseTo(3_000);
      // The paused stretch does not count as leadership: the gap is 1.0 s → 2.1 s.
      expect(result.summary.longestGap?.ms).toBeCloseTo(1_100);
    });

    it('resumed-stale-write-accepted: fails when a woken leader’s write got through before its successor wrote', () => {
      const failing = pausedLeader(true, 5, false);
      expect(failsOnlyWith(failing, pausedLeader(false, 5, false))).toEqual(['resumed-stale-write-accepted']);
      expect(checkHistory(failing).summary.writes.fromResumedStale).toEqual({ accepted: 1, rejected: 0 });
      expect(expectationFailures(checkHistory(failing), [])).toContain('1 write(s) of resumed-stale leaders accepted');
    });
  });

  it('superseded-write-accepted: fails an old leader’s write accepted after a larger token began (in flight or not)', () => {
    const history = (arrivesAt: number) => [run(), clock(1), clock(2), start(1, 100, 1), ...write(1, arrivesAt, 1, true), stop(1, 1_900, 1), start(2, 2_000, 2), ...write(2, 2_100, 2, true, 1)];
    // The write left inside the term (sent 0.3 ms before), but was accepted 50 ms after term 2 began.
    const failing = [run(), clock(1), clock(2), start(1, 100, 1), start(2, 2_000, 2), ...write(1, 2_050, 1, true), stop(1, 2_000.5, 1), ...write(2, 2_100, 2, true, 1)];
    expect(failsOnlyWith(failing, history(1_800))).toEqual(['superseded-write-accepted', 'write-outside-term']);
  });

  it('superseded-write-accepted alone: a write sent inside its term and accepted after a successor began', () => {
    const history = [
      run(),
      clock(1),
      clock(2),
      start(1, 100, 1),
      { ...c(1), ev: 'send', t: T + 1_999.9, token: 1, seq: 900 },
      stop(1, 2_000, 1),
      start(2, 2_001, 2),
      { src: 'resource', ev: 'write', t: T + 2_050, pid: 1, identity: 'c1', token: 1, seq: 900, accepted: true, highest: 1 },
    ] as HistoryEvent[];
    expect(kinds(history)).toEqual(['superseded-write-accepted']);
  });

  it('duplicate-token and token-not-increasing: a later term must hold a larger token, overlapping or not, same process or not', () => {
    const base = [run(), clock(1), clock(2), start(1, 100, 3), stop(1, 1_000, 3)];
    expect(failsOnlyWith([...base, start(2, 2_000, 3)], [...base, start(2, 2_000, 4)])).toEqual(['duplicate-token']);
    expect(kinds([...base, start(2, 2_000, 2)])).toEqual(['token-not-increasing']);
    expect(kinds([...base, start(1, 2_000, 3)])).toEqual(['duplicate-token']);
    expect(kinds([run(), clock(1), clock(2), start(1, 100, 5), start(2, 3_000, 4), stop(1, 4_000, 5)])).toEqual(['dual-leadership', 'token-not-increasing']);
  });

  it('stale-write-accepted: fails when the resource accepted a token below one it had accepted', () => {
    // Sent inside term 1 (at 4.99 s), delayed, decided at 6.2 s after token 2 was accepted. An
    // accepted lower token always comes after a larger term began, so both kinds fire.
    const late = (accepted: boolean) => [...cleanHandover(), ...write(1, 6_200, 1, accepted, 2, { sentAt: 4_990 })];
    expect(failsOnlyWith(late(true), late(false))).toEqual(['stale-write-accepted', 'superseded-write-accepted']);
  });

  it('write-without-term: fails on a write with a token its writer never held', () => {
    expect(failsOnlyWith([...cleanHandover(), ...write(2, 7_000, 9, true, 2)], [...cleanHandover(), ...write(2, 7_000, 2, true, 2)])).toEqual(['write-without-term']);
  });

  it('write-outside-term: fails on a write sent before the writer’s term began or after it ended', () => {
    const next = start(2, 5_000, 2);
    const after = [run(), clock(1), clock(2), start(1, 100, 1), stop(1, 1_000, 1), ...write(1, 1_010, 1, true), next];
    const before = [run(), clock(1), clock(2), ...write(1, 50, 1, true), start(1, 100, 1), stop(1, 1_000, 1), next];
    const inside = [run(), clock(1), clock(2), start(1, 100, 1), ...write(1, 990, 1, true), stop(1, 1_000, 1), next];
    expect(failsOnlyWith(after, inside)).toEqual(['write-outside-term']);
    expect(kinds(before)).toEqual(['write-outside-term']);
  });

  it('write-unrecorded: fails on a write the resource logged that its writer never recorded sending', () => {
    const failing = [...cleanHandover(), ...write(2, 7_000, 2, true, 2, { send: false, outcome: 'none' })];
    // A writer killed while its write was in flight: sent, decided, no outcome — fine.
    const passing = [...cleanHandover(), ...write(2, 7_000, 2, true, 2, { outcome: 'none' })];
    expect(failsOnlyWith(failing, passing)).toEqual(['write-unrecorded']);
    expect(checkHistory(passing).summary.writes.unanswered).toBe(1);
  });

  it('write-record-mismatch: fails when the writer’s recorded outcome differs from the resource’s log, or the resource has none', () => {
    expect(failsOnlyWith([...cleanHandover(), ...write(2, 7_000, 2, false, 2, { outcome: true })], [...cleanHandover(), ...write(2, 7_000, 2, true, 2)])).toEqual([
      'write-record-mismatch',
    ]);
    const phantom: HistoryEvent[] = [...cleanHandover(), { ...c(2), ev: 'write', t: T + 7_000, token: 2, seq: 999, sentAt: T + 6_999, accepted: true }];
    expect(kinds(phantom)).toEqual(['write-record-mismatch']);
  });

  describe('leaderless-too-long', () => {
    it('fails when nobody leads for longer than the bound after the faults stopped', () => {
      const failing = [run(), clock(1), clock(2), start(1, 100, 1), stop(1, 6_500, 1), start(2, 9_000, 2)];
      const passing = [run(), clock(1), clock(2), start(1, 100, 1), stop(1, 6_500, 1), start(2, 8_400, 2)];
      expect(failsOnlyWith(failing, passing)).toEqual(['leaderless-too-long']);
      expect(checkHistory(failing).summary.longestGapAfterFaults?.ms).toBeCloseTo(2_500);
    });

    it('does not apply the bound to gaps while faults are still being injected', () => {
      const result = checkHistory([run(), clock(1), clock(2), start(1, 100, 1), stop(1, 1_000, 1), start(2, 5_500, 2)]);
      expect(result.ok).toBe(true);
      expect(result.summary.longestGap?.ms).toBeCloseTo(4_500);
      expect(result.summary.longestGapAfterFaults).toBeNull();
    });

    it('fails when no term covers the end of the run', () => {
      expect(kinds([run(), clock(1), start(1, 100, 1), stop(1, 5_000, 1)])).toEqual(['leaderless-too-long']);
    });
  });

  describe('history', () => {
    it('fails a history without a run record', () => {
      expect(kinds([start(1, 0, 1)])).toEqual(['history']);
    });

    it('fails a candidate that led without measuring its clock', () => {
      expect(failsOnlyWith([run(), start(1, 100, 1)], [run(), clock(1), start(1, 100, 1)])).toEqual(['history']);
    });
  });

  it('ends a killed leader at the kill, and a term logged just after the kill at its last event', () => {
    const result = checkHistory([run(), clock(1), clock(2), start(1, 100, 1), harness('kill', 1, 3_000), start(2, 4_100, 2)]);
    expect(result.ok).toBe(true);
    expect(result.summary.terms[0]).toMatchObject({ endedBy: 'killed', end: T + 3_000 });
    expect(result.summary.longestGap?.ms).toBeCloseTo(1_100);
  });

  it('counts injected faults by kind and skipped ones apart, and leader pauses that outlasted the bound', () => {
    const fault = (kind: 'kill' | 'pause', at: number, phase: 'start' | 'end', extra: object = {}): HistoryEvent =>
      ({ src: 'harness', ev: 'fault', t: T + at, index: kind === 'kill' ? at : 100, kind, phase, ...extra }) as HistoryEvent;
    const result = checkHistory([
      ...cleanHandover(),
      fault('kill', 1, 'start'),
      fault('kill', 2, 'start'),
      fault('pause', 3, 'start', { targetWasLeader: true }),
      fault('pause', 3_503, 'end'),
      fault('pause', 4, 'start', { skipped: true }),
    ]);
    expect(result.summary.faultsByKind).toEqual({ kill: 2, pause: 1 });
    expect(result.summary.faultsSkipped).toBe(1);
    expect(result.summary.longLeaderPauses).toBe(1);
    // A long leader pause with no resumed-stale leader means the run did not test what it claims.
    expect(expectationFailures(result, ['kill', 'pause'])).toEqual([
      'only 2 term(s): leadership did not move',
      '1 leader pause(s) were long enough for a takeover, yet no successor began during one',
    ]);
    // A release run must have injected its 200 faults; skipped ones do not count.
    expect(expectationFailures(result, ['kill', 'pause'], { minFaults: 200 })).toContain('3 fault(s) injected, fewer than the 200 required');
    expect(expectationFailures(result, ['kill', 'pause'], { minFaults: 4 })).toContain('3 fault(s) injected, fewer than the 4 required');
    expect(expectationFailures(result, ['kill', 'pause'], { minFaults: 3 }).some((f) => f.includes('fault(s) injected'))).toBe(false);
  });
});
